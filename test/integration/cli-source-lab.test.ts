// The CLI source against the real Slurm 22.05 lab's own commands (slurm.source cli, no slurmrestd): the same
// three agreed metrics as the REST source, fairshare from sshare (22.05's REST API has no /shares), the text
// parsers giving the same model as the JSON output on the live cluster, and a hanging command costing one
// collector one interval while the process stays healthy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ExporterProcess, httpGet, spawnExporter, sumBy, waitFor } from '../support/exporter-process.ts';
import { type LabEnv, assertAgreesWithCli, readLabEnv, slurmCli } from '../support/slurm-lab.ts';
import { COLLECTOR_GROUPS } from '../../src/slurm/resources.ts';
import { CliSource } from '../../src/slurm/cli/source.ts';
import type { Logger } from '../../src/logger.ts';
import type { SlurmJob, SlurmNode } from '../../src/slurm/model.ts';

const lab: LabEnv = readLabEnv();
const tmp = mkdtempSync(path.join(tmpdir(), 'cli-lab-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const confFile = path.join(tmp, 'exporter.yaml');
writeFileSync(confFile, ['slurm:', '  source: cli', 'collectors:', ...COLLECTOR_GROUPS.map((g) => `  ${g}: { interval: 2s, timeout: 1500ms }`), ''].join('\n'));
// Munge, not JWT: the commands authenticate as the user running the exporter.
const env = { SLURM_CONF: lab.SLURM_CONF, SLURM_JWT: '' };
const quiet = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

/** A bin directory whose commands run the real ones, with `body` before the exec (`$0` is the name). */
function wrappers(name: string, body: string): string {
  const dir = path.join(tmp, name);
  execFileSync('mkdir', ['-p', dir]);
  for (const cmd of ['sinfo', 'squeue', 'scontrol', 'sdiag', 'sshare']) {
    const file = path.join(dir, cmd);
    const real = execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
    writeFileSync(file, `#!/bin/sh\ncmd=${cmd}\n${body}\nexec ${real} "$@"\n`);
    chmodSync(file, 0o755);
  }
  return dir;
}

async function scrape(exp: ExporterProcess): Promise<string> {
  const r = await httpGet(`${exp.url}/metrics`);
  assert.equal(r.status, 200);
  return r.text;
}

describe('slurm.source cli against the real Slurm 22.05 lab', () => {
  let exp: ExporterProcess;
  before(async () => {
    exp = await spawnExporter(['--config.file', confFile], { env });
    await waitFor('/ready 200', async () => (await httpGet(`${exp.url}/ready`)).status === 200, 30_000);
  });
  after(async () => {
    assert.equal(await exp.stop(), 0, 'exits 0 on SIGTERM');
  });

  it('slurm_nodes, slurm_partition_nodes and slurm_jobs equal what sinfo, scontrol and squeue say', async () => {
    await assertAgreesWithCli(lab, () => scrape(exp));
  });

  it('names the release and cluster as the commands report them, with every series labelled', async () => {
    const text = await scrape(exp);
    assert.match(text, /^slurm_info\{cluster="lab",version="22\.05\.\d+",api_version=""\} 1$/m);
    for (const line of text.split('\n')) {
      if (line.startsWith('slurm_') && !line.startsWith('slurm_exporter_')) assert.match(line, /[{,]cluster="lab"[,}]/, line);
    }
    // slurmdbd's statistics have no command here: reported as unsupported, not as failing.
    assert.match(text, /^slurm_exporter_collector_supported\{cluster="lab",collector="slurmdbd"\} 0$/m);
    assert.match(text, /^slurm_exporter_collector_supported\{cluster="lab",collector="fairshare"\} 1$/m);
  });

  it('fairshare comes from sshare (22.05 slurmrestd has no /shares): shares and factors equal sshare -a -l -P', async () => {
    const text = await scrape(exp);
    const rows = slurmCli(lab, 'sshare', ['-a', '-l', '-P']).trim().split('\n');
    const head = rows.shift()!.split('|');
    const col = (r: string[], name: string) => r[head.indexOf(name)]!;
    let users = 0;
    for (const line of rows) {
      const r = line.split('|');
      const account = col(r, 'Account').trim();
      const user = col(r, 'User');
      if (user === '') continue;
      users++;
      const where = { cluster: 'lab', account, user };
      assert.equal(sumBy(text, 'slurm_user_raw_shares', 'user', where).get(user), Number(col(r, 'RawShares')), `raw shares of ${user} in ${account}`);
      assert.equal(sumBy(text, 'slurm_user_fairshare_factor', 'user', where).get(user), Number(col(r, 'FairShare')), `fairshare factor of ${user} in ${account}`);
    }
    assert.ok(users >= 3, `the lab has user associations (${users})`);
  });

  it('promtool check metrics accepts the page', async () => {
    execFileSync('promtool', ['check', 'metrics'], { input: await scrape(exp), encoding: 'utf8' });
  });
});

// What a node and a job look like in both outputs, for the fields both carry.
const nodeView = (n: SlurmNode) => ({ name: n.name, state: n.state, flags: [...n.flags].sort(), partitions: [...n.partitions].sort(), cpus: n.cpus, allocCpus: n.allocCpus, memoryBytes: n.memoryBytes, allocMemoryBytes: n.allocMemoryBytes, reason: n.reason, features: n.features });
const jobView = (j: SlurmJob) => ({ jobId: j.jobId, user: j.user, account: j.account, partitions: j.partitions, qos: j.qos, state: j.state, cpus: j.cpus, nodeCount: j.nodeCount, submitTime: j.submitTime, startTime: j.startTime, name: j.name });

describe('the CLI source\'s text parsers on the live lab', () => {
  it('give the same nodes and jobs as the --json output of the same commands', async () => {
    // The same real commands, with --json hidden from their --help: the source falls back to text.
    const textOnly = wrappers('text-only', 'if [ "$1" = "--help" ]; then "$(command -v $cmd)" --help | grep -v -- --json; exit 0; fi');
    const viaJson = new CliSource({ binDir: undefined, slurmConf: lab.SLURM_CONF, maxResponseBytes: 1 << 30, apiVersion: undefined }, quiet);
    const viaText = new CliSource({ binDir: textOnly, slurmConf: lab.SLURM_CONF, maxResponseBytes: 1 << 30, apiVersion: undefined }, quiet);
    await viaText.init(AbortSignal.timeout(20_000));
    assert.match(viaText.describe(), /text output only/);
    let last = '';
    for (let attempt = 0; attempt < 5; attempt++) {
      const signal = AbortSignal.timeout(20_000);
      const [jn, tn, jj, tj] = await Promise.all([viaJson.fetch('nodes', signal), viaText.fetch('nodes', signal), viaJson.fetch('jobs', signal), viaText.fetch('jobs', signal)]);
      try {
        const byName = (a: SlurmNode[]) => a.map(nodeView).sort((x, y) => x.name.localeCompare(y.name));
        // sinfo --json (22.05) lists the nodes sinfo shows; scontrol also lists FUTURE ones.
        const listed = new Set(jn.data.map((n) => n.name));
        assert.deepEqual(byName(tn.data.filter((n) => listed.has(n.name))), byName(jn.data));
        const byId = (a: SlurmJob[]) => a.map(jobView).sort((x, y) => x.jobId - y.jobId);
        assert.deepEqual(byId(tj.data), byId(jj.data));
        assert.ok(tj.data.length >= 10);
        return;
      } catch (err) {
        last = (err as Error).message;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    assert.fail(`text and JSON never agreed in 5 readings; last: ${last}`);
  });
});

describe('a hanging Slurm command', () => {
  let exp: ExporterProcess;
  before(async () => {
    // squeue hangs (a stuck slurmctld RPC); everything else is the real command.
    const hang = wrappers('hang', 'if [ "$cmd" = squeue ] && [ "$1" != "--help" ]; then sleep 600; fi');
    const conf = path.join(tmp, 'hang.yaml');
    writeFileSync(conf, ['slurm:', '  source: cli', `  cli: { binDir: ${hang} }`, 'collectors:', ...COLLECTOR_GROUPS.map((g) => `  ${g}: { interval: 2s, timeout: 1s }`), ''].join('\n'));
    exp = await spawnExporter(['--config.file', conf], { env });
  });
  after(async () => {
    assert.equal(await exp.stop(), 0);
  });

  it('costs the jobs collector its interval, counted as a timeout; the other collectors and /health carry on', async () => {
    await waitFor('a jobs timeout counted', async () => /^slurm_exporter_api_errors_total\{cluster="lab",endpoint="jobs",reason="timeout"\} [1-9]/m.test(await scrape(exp)), 20_000);
    const text = await scrape(exp);
    assert.match(text, /^slurm_exporter_collector_success\{cluster="lab",collector="nodes"\} 1$/m);
    assert.match(text, /^slurm_nodes\{cluster="lab",/m);
    assert.equal((await httpGet(`${exp.url}/health`)).status, 200);
    // Each killed squeue took its sleeping child along: the only one alive is the current poll's (under 1 s
    // old, the timeout, plus the 2 s grace before SIGKILL), never an orphan of an earlier poll.
    const ages = execFileSync('sh', ['-c', 'for p in $(pgrep -f "^sleep 600$"); do ps -o etimes= -p $p; done'], { encoding: 'utf8' }).split('\n').filter((x) => x.trim() !== '').map(Number);
    assert.deepEqual(ages.filter((a) => a > 3), [], `no orphaned command processes (ages ${ages.join(', ')} s)`);
  });
});
