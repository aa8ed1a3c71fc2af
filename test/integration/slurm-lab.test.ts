// The exporter (the real CLI) against the real Slurm 22.05 lab: the three checkable metrics equal what sinfo,
// scontrol and squeue say; version negotiation; promtool accepts the page; every JWT source works and a wrong
// token is reported as an auth error while the process stays healthy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ExporterProcess, httpGet, spawnExporter, sumBy, waitFor } from '../support/exporter-process.ts';
import { type LabEnv, jobsByState, nodesByState, partitionNodesByState, readLabEnv } from '../support/slurm-lab.ts';
import { COLLECTOR_GROUPS } from '../../src/slurm/resources.ts';

const lab: LabEnv = readLabEnv();
// Short intervals so a retry sees fresh data quickly.
const confDir = mkdtempSync(path.join(tmpdir(), 'lab-conf-'));
const confFile = path.join(confDir, 'exporter.yaml');
writeFileSync(
  confFile,
  ['collectors:', ...COLLECTOR_GROUPS.map((g) => `  ${g}: { interval: 2s, timeout: 1500ms }`), ''].join('\n'),
);
const FAST = ['--config.file', confFile];
process.on('exit', () => rmSync(confDir, { recursive: true, force: true }));

function nonZero(m: Map<string, number>): Map<string, number> {
  return new Map([...m].filter(([, v]) => v !== 0).sort(([a], [b]) => a.localeCompare(b)));
}

function sorted(m: Map<string, number>): Map<string, number> {
  return new Map([...m].sort(([a], [b]) => a.localeCompare(b)));
}

async function page(exp: ExporterProcess): Promise<string> {
  const r = await httpGet(`${exp.url}/metrics`);
  assert.equal(r.status, 200);
  return r.text;
}

async function waitReady(exp: ExporterProcess): Promise<void> {
  await waitFor('/ready 200', async () => (await httpGet(`${exp.url}/ready`)).status === 200, 30_000);
}

describe('against the real Slurm 22.05 lab', () => {
  let exp: ExporterProcess;
  before(async () => {
    exp = await spawnExporter(['--slurm.url', lab.SLURM_REST_URL, ...FAST], { env: { SLURM_JWT: lab.SLURM_JWT, SLURM_USER: lab.SLURM_USER } });
    await waitReady(exp);
  });
  after(async () => {
    assert.equal(await exp.stop(), 0, 'exits 0 on SIGTERM');
  });

  it('negotiates v0.0.38, the newest API Slurm 22.05 serves, and labels every series with the cluster name', async () => {
    const text = await page(exp);
    assert.match(text, /^slurm_info\{cluster="lab",version="22\.05\.\d+",api_version="v0\.0\.38"\} 1$/m);
    for (const line of text.split('\n')) {
      if (line.startsWith('slurm_') && !line.startsWith('slurm_exporter_')) assert.match(line, /[{,]cluster="lab"[,}]/, line);
    }
  });

  it('slurm_nodes, slurm_partition_nodes and slurm_jobs equal what sinfo, scontrol and squeue say', async () => {
    // The workload moves (a job times out after a minute or two): compare only when the CLI reads the same
    // before and after the scrape, and the exporter has polled since the first reading.
    let last = '';
    for (let attempt = 0; attempt < 10; attempt++) {
      const before = { nodes: nodesByState(lab), parts: partitionNodesByState(lab), jobs: jobsByState(lab) };
      await new Promise((r) => setTimeout(r, 2500));
      const text = await page(exp);
      const afterJobs = jobsByState(lab);
      const afterNodes = nodesByState(lab);
      if (JSON.stringify([...sorted(afterJobs)]) !== JSON.stringify([...sorted(before.jobs)]) || JSON.stringify([...sorted(afterNodes)]) !== JSON.stringify([...sorted(before.nodes)])) {
        last = 'the cluster changed during the reading';
        continue;
      }
      const nodes = nonZero(sumBy(text, 'slurm_nodes', 'state', { cluster: 'lab' }));
      const jobs = nonZero(sumBy(text, 'slurm_jobs', 'state', { cluster: 'lab' }));
      const parts = new Map<string, number>();
      for (const line of text.split('\n')) {
        const m = /^slurm_partition_nodes\{cluster="lab",partition="([^"]+)",state="([^"]+)"\} (\d+)$/.exec(line);
        if (m && m[3] !== '0') parts.set(`${m[1]}/${m[2]}`, Number(m[3]));
      }
      try {
        assert.deepEqual(nodes, sorted(before.nodes), 'slurm_nodes vs scontrol/sinfo');
        assert.deepEqual(sorted(parts), sorted(before.parts), 'slurm_partition_nodes vs sinfo -N');
        assert.deepEqual(jobs, sorted(before.jobs), 'slurm_jobs vs squeue -t all');
        // The lab's shape: 6 nodes listed (f1 is FUTURE: neither sinfo nor 22.05's REST lists it), jobs in 5 states.
        assert.equal([...nodes.values()].reduce((a, b) => a + b, 0), 6);
        assert.ok(jobs.get('running')! > 0 && jobs.get('pending')! > 0, 'running and pending jobs exist');
        return;
      } catch (err) {
        last = (err as Error).message;
      }
    }
    assert.fail(`no agreeing reading in 10 attempts; last: ${last}`);
  });

  it('promtool check metrics accepts the page', async () => {
    const text = await page(exp);
    execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  });
});

describe('JWT sources against the real slurmrestd', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'lab-auth-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('mints its own tokens from the cluster HS256 key', async () => {
    const exp = await spawnExporter(['--slurm.url', lab.SLURM_REST_URL, '--slurm.jwt-key-file', lab.SLURM_JWT_KEY, '--slurm.user', 'root', ...FAST], {
      env: { SLURM_JWT: undefined },
    });
    try {
      await waitReady(exp);
      assert.ok(sumBy(await page(exp), 'slurm_nodes', 'cluster').get('lab')! > 0);
    } finally {
      await exp.stop();
    }
  });

  it('reads the token from a file', async () => {
    const file = path.join(dir, 'token');
    writeFileSync(file, `${lab.SLURM_JWT}\n`, { mode: 0o600 });
    const exp = await spawnExporter(['--slurm.url', lab.SLURM_REST_URL, '--slurm.token-file', file, ...FAST], { env: { SLURM_JWT: undefined } });
    try {
      await waitReady(exp);
    } finally {
      await exp.stop();
    }
  });

  it('a wrong token: an auth error, /health 200, /ready 503, and the token never in the output', async () => {
    const [h, p] = lab.SLURM_JWT.split('.');
    const wrong = `${h}.${p}.${'A'.repeat(43)}`;
    const exp = await spawnExporter(['--slurm.url', lab.SLURM_REST_URL, ...FAST], { env: { SLURM_JWT: wrong, SLURM_USER: 'root' } });
    try {
      const text = await waitFor('an auth error in slurm_exporter_api_errors_total', async () => {
        const t = await page(exp);
        return /^slurm_exporter_api_errors_total\{[^}]*reason="auth"[^}]*\} [1-9]/m.test(t) ? t : undefined;
      }, 20_000);
      assert.equal((await httpGet(`${exp.url}/health`)).status, 200);
      const ready = await httpGet(`${exp.url}/ready`);
      assert.equal(ready.status, 503);
      assert.match(ready.text, /no successful collection yet/);
      assert.ok(!text.includes(wrong) && !exp.output.join('\n').includes(wrong), 'the token must not appear');
    } finally {
      await exp.stop();
    }
  });
});
