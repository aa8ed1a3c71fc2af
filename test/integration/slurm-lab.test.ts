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
import { type LabEnv, assertAgreesWithCli, readLabEnv } from '../support/slurm-lab.ts';
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
    await assertAgreesWithCli(lab, () => page(exp));
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
