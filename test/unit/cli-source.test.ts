// The CLI source with real processes: shell scripts stand in for a Slurm 25.11 install and print the captured
// 25.11 output (cli_*.json), so detection, the JSON path through the REST readers, timeouts that kill the
// process group, output caps, failures with Slurm's own words, one run at a time, and re-detection after an
// upgrade are all exercised on real child processes. The real 22.05 CLI is in test/integration/cli-source-lab.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CliSource } from '../../src/slurm/cli/source.ts';
import { classifyFailure, runText } from '../../src/slurm/cli/run.ts';
import { clusterNameOf, metaParserVersion, parseRelease, parserFor } from '../../src/slurm/cli/capabilities.ts';
import { SlurmFetchError } from '../../src/slurm/source.ts';
import { readResource } from '../../src/slurm/rest/read-resource.ts';
import { adapterFor } from '../../src/slurm/rest/adapters/index.ts';
import type { Logger } from '../../src/logger.ts';

const FIX = path.resolve(import.meta.dirname, '../fixtures/slurm-25.11.7');
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

/** A bin directory of scripts: `name` → shell body (after the shebang). */
function binDir(scripts: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-slurm-'));
  for (const [name, body] of Object.entries(scripts)) {
    const file = path.join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
  }
  return dir;
}

const HELP_JSON = 'if [ "$1" = "--help" ]; then echo "      --json[=data_parser]   Produce JSON output"; exit 0; fi';

/** Slurm 25.11 as captured: every command offers --json and prints the capture for its arguments. */
function slurm2511(extra: Record<string, string> = {}): string {
  const cat = (f: string) => `cat ${JSON.stringify(path.join(FIX, f))}`;
  return binDir({
    sinfo: `${HELP_JSON}\nif [ "$1" = "-V" ]; then echo "slurm 25.11.7"; exit 0; fi\n${cat('cli_sinfo.json')}`,
    squeue: `${HELP_JSON}\n${cat('cli_squeue.json')}`,
    sdiag: `${HELP_JSON}\n${cat('cli_sdiag.json')}`,
    sshare: `${HELP_JSON}\n${cat('cli_sshare.json')}`,
    scontrol: `${HELP_JSON}
case "$*" in
  "ping --json") ${cat('cli_scontrol_ping.json')};;
  "show config") ${cat('cli_scontrol_show_config.txt')};;
  *"show nodes"*) ${cat('cli_scontrol_show_nodes.json')};;
  *"show partitions"*) ${cat('cli_scontrol_show_partitions.json')};;
  *"show reservations"*) ${cat('cli_scontrol_show_reservations.json')};;
  *"show licenses"*) ${cat('cli_scontrol_show_licenses.json')};;
  *"ping"*) ${cat('cli_scontrol_ping.json')};;
  *) echo "scontrol: unexpected $*" >&2; exit 1;;
esac`,
    ...extra,
  });
}

function source(dir: string, over: Partial<ConstructorParameters<typeof CliSource>[0]> = {}): CliSource {
  return new CliSource({ binDir: dir, slurmConf: undefined, maxResponseBytes: 64 << 20, apiVersion: undefined, ...over }, quiet);
}

async function rejectsWith(p: Promise<unknown>, kind: string, text: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof SlurmFetchError, String(err));
    assert.equal(err.kind, kind, err.message);
    assert.match(err.message, text);
    return true;
  });
}

describe('CLI source on scripted Slurm 25.11 commands printing the real captures', () => {
  it('detects the release, the commands with --json and their layout, and reads every kind the CLI gives', async () => {
    const dir = slurm2511();
    const src = source(dir);
    const signal = AbortSignal.timeout(20_000);
    await src.init(signal);
    assert.match(src.describe(), /^Slurm 25\.11\.7 commands in .* \(--json v0\.0\.44 for sinfo, squeue, scontrol, sdiag, sshare\)$/);
    const nodes = await src.fetch('nodes', signal);
    assert.equal(nodes.data.length, 7);
    assert.deepEqual(
      nodes.data.map((n) => `${n.name}:${n.state}`),
      ['n1:mixed', 'n2:mixed', 'n3:allocated', 'n4:allocated', 'n5:down', 'n6:idle', 'n7:idle'],
    );
    assert.equal(nodes.requests, 1);
    const jobs = await src.fetch('jobs', signal);
    assert.ok(jobs.data.some((j) => j.jobId === 1 && j.state === 'running' && j.user === 'grace'));
    const cluster = await src.fetch('cluster', signal);
    assert.equal(cluster.data.clusterName, 'lab2');
    assert.equal(cluster.data.slurmVersion, '25.11.7');
    assert.equal(cluster.data.controllers[0]!.status, 'up');
    for (const kind of ['partitions', 'diag', 'shares', 'reservations', 'licenses'] as const) {
      const r = await src.fetch(kind, signal);
      assert.ok(r.bytes > 0, kind);
    }
    await rejectsWith(src.fetch('dbdiag', signal), 'unsupported', /dbdiag: no Slurm command/);
    rmSync(dir, { recursive: true });
  });

  it('gives the same model as slurmrestd v0.0.44 for the same cluster (the JSON is the REST answer shape)', async () => {
    const dir = slurm2511();
    const viaCli = await source(dir).fetch('nodes', AbortSignal.timeout(20_000));
    const body = [readFileSync(path.join(FIX, 'cli_scontrol_show_nodes.json'))];
    const viaReader = await readResource('nodes', adapterFor('v0.0.44')!, (async function* () { yield* body; })(), { maxBytes: 1 << 30 });
    assert.deepEqual(viaCli.data, viaReader.data);
    rmSync(dir, { recursive: true });
  });

  it('uses text output where a command has no --json (sdiag of 22.05), found from its --help', async () => {
    const sdiag22 = readFileSync(path.resolve(import.meta.dirname, '../fixtures/slurm-22.05/cli/sdiag.txt'), 'utf8');
    const txt = path.join(mkdtempSync(path.join(tmpdir(), 'sdiag-')), 'sdiag.txt');
    writeFileSync(txt, sdiag22);
    const dir = slurm2511({ sdiag: `if [ "$1" = "--help" ]; then echo "Usage: sdiag [OPTIONS]"; exit 0; fi\n[ "$#" = 0 ] || { echo "sdiag: unrecognized option '$1'" >&2; exit 1; }\ncat ${txt}` });
    const diag = await source(dir).fetch('diag', AbortSignal.timeout(20_000));
    assert.ok(diag.data.serverThreadCount !== undefined, 'parsed from the text');
    assert.ok(diag.data.rpcByType.length > 0);
    rmSync(dir, { recursive: true });
  });

  it('a command that overruns its timeout is killed with its whole process group', async () => {
    const pidFile = path.join(mkdtempSync(path.join(tmpdir(), 'pid-')), 'child.pid');
    // squeue starts a grandchild (as a wrapper script would) and both hang.
    const dir = slurm2511({ squeue: `${HELP_JSON}\nsleep 300 & echo $! > ${pidFile}\nwait` });
    const src = source(dir);
    await src.init(AbortSignal.timeout(20_000));
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(new SlurmFetchError('timeout', 'jobs: no complete answer within 500 ms')), 500);
    const t0 = Date.now();
    await rejectsWith(src.fetch('jobs', ctrl.signal), 'timeout', /within 500 ms/);
    assert.ok(Date.now() - t0 < 5000, 'ends at the timeout, not when the command would have');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!existsSync(`/proc/${pid}`) || /State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8')), `the grandchild ${pid} is gone`);
    rmSync(dir, { recursive: true });
  });

  it('fails with Slurm\'s own words and the right reason; a missing command is an exec error, not a crash', async () => {
    const dir = slurm2511({ squeue: `${HELP_JSON}\necho "slurm_load_jobs error: Unable to contact slurm controller (connect failure)" >&2\nexit 1` });
    const src = source(dir);
    await rejectsWith(src.fetch('jobs', AbortSignal.timeout(20_000)), 'connect', /squeue --all --states=all --json exited with status 1: slurm_load_jobs error: Unable to contact slurm controller/);
    rmSync(path.join(dir, 'sdiag'));
    // The binaries changed (one is gone): detection runs again and reports what is missing.
    await rejectsWith(src.fetch('diag', AbortSignal.timeout(20_000)), 'exec', /sdiag: command not found in slurm\.cli\.binDir/);
    rmSync(dir, { recursive: true });
  });

  it('caps the output: a command printing more than slurm.maxResponseSize is stopped', async () => {
    const dir = slurm2511({ squeue: `${HELP_JSON}\nyes '{"jobs":[' | head -c 5000000` });
    await rejectsWith(source(dir, { maxResponseBytes: 100_000 }).fetch('jobs', AbortSignal.timeout(20_000)), 'too_large', /exceeds slurm\.maxResponseBytes \(100000 bytes\)/);
    rmSync(dir, { recursive: true });
  });

  it('malformed JSON from a command is a parse error naming the command', async () => {
    const dir = slurm2511({ sdiag: `${HELP_JSON}\necho '{"statistics": {"server_thread_count": 3,'` });
    await rejectsWith(source(dir).fetch('diag', AbortSignal.timeout(20_000)), 'parse', /sdiag --json|JSON/);
    rmSync(dir, { recursive: true });
  });

  it('runs a command at most once at a time: concurrent fetches share one run', async () => {
    const log = path.join(mkdtempSync(path.join(tmpdir(), 'runs-')), 'runs.log');
    const dir = slurm2511({ sdiag: `${HELP_JSON}\necho run >> ${log}\nsleep 0.3\ncat ${JSON.stringify(path.join(FIX, 'cli_sdiag.json'))}` });
    const src = source(dir);
    await src.init(AbortSignal.timeout(20_000));
    const [a, b] = await Promise.all([src.fetch('diag', AbortSignal.timeout(20_000)), src.fetch('diag', AbortSignal.timeout(20_000))]);
    assert.equal(a, b);
    assert.equal(readFileSync(log, 'utf8'), 'run\n');
    rmSync(dir, { recursive: true });
  });

  it('detects again when a binary changes (an upgrade from text-only to --json)', async () => {
    const dir = slurm2511({ sdiag: `if [ "$1" = "--help" ]; then echo "Usage: sdiag"; exit 0; fi\ncat ${JSON.stringify(path.resolve(import.meta.dirname, '../fixtures/slurm-22.05/cli/sdiag.txt'))}` });
    const src = source(dir);
    await src.init(AbortSignal.timeout(20_000));
    assert.match(src.describe(), /for sinfo, squeue, scontrol, sshare\)/);
    writeFileSync(path.join(dir, 'sdiag'), `#!/bin/sh\n${HELP_JSON}\ncat ${JSON.stringify(path.join(FIX, 'cli_sdiag.json'))}\n`);
    const r = await src.fetch('diag', AbortSignal.timeout(20_000));
    assert.match(src.describe(), /for sinfo, squeue, scontrol, sdiag, sshare\)/);
    assert.equal(r.data.serverThreadCount, JSON.parse(readFileSync(path.join(FIX, 'cli_sdiag.json'), 'utf8')).statistics.server_thread_count);
    rmSync(dir, { recursive: true });
  });

  it('forces a JSON layout with slurm.apiVersion (--json=v0.0.42) and reads it with that adapter', async () => {
    const args = path.join(mkdtempSync(path.join(tmpdir(), 'args-')), 'args');
    const dir = slurm2511({ sdiag: `${HELP_JSON}\necho "$*" > ${args}\ncat ${JSON.stringify(path.join(FIX, 'cli_sdiag_v0.0.42.json'))}` });
    const r = await source(dir, { apiVersion: 'v0.0.42' }).fetch('diag', AbortSignal.timeout(20_000));
    assert.equal(readFileSync(args, 'utf8').trim(), '--json=v0.0.42');
    assert.ok(r.data.serverThreadCount !== undefined);
    rmSync(dir, { recursive: true });
  });
});

describe('CLI detection helpers', () => {
  it('reads releases, layouts and cluster names as Slurm prints them', () => {
    assert.equal(parseRelease('slurm-wlm 22.05.8\n'), '22.05.8');
    assert.equal(parseRelease('slurm 25.11.7'), '25.11.7');
    assert.throws(() => parseRelease('sinfo: error'), /sinfo -V printed no Slurm release/);
    assert.deepEqual(parserFor('22.05.8'), { version: 'v0.0.38', pinned: false });
    assert.deepEqual(parserFor('24.11.1'), { version: 'v0.0.42', pinned: false });
    // A release newer than the exporter knows: ask for the newest layout it reads.
    assert.deepEqual(parserFor('26.05.0'), { version: 'v0.0.44', pinned: true });
    assert.equal(parserFor('21.08.8'), undefined);
    assert.equal(metaParserVersion('"plugin": {"type": "openapi\\/v0.0.38"}'), 'v0.0.38');
    assert.equal(metaParserVersion('"data_parser":"data_parser\\/v0.0.44"'), 'v0.0.44');
    assert.equal(clusterNameOf(readFileSync(path.join(FIX, 'cli_scontrol_show_config.txt'), 'utf8')), 'lab2');
  });

  it('maps Slurm\'s error texts onto the error counter\'s reasons', () => {
    assert.equal(classifyFailure('squeue: error: Unable to contact slurm controller (connect failure)'), 'connect');
    assert.equal(classifyFailure('sinfo: error: Munge decode failed: Expired credential'), 'auth');
    assert.equal(classifyFailure("sdiag: unrecognized option '--json'"), 'unsupported');
    assert.equal(classifyFailure('segmentation fault'), 'exec');
  });

  it('runText passes SLURM_CONF and the C locale, and reports a command that does not exist', async () => {
    const dir = binDir({ show: 'echo "$SLURM_CONF $LC_ALL $SLURM_TIME_FORMAT"' });
    const r = await runText(path.join(dir, 'show'), [], AbortSignal.timeout(5000), { env: { SLURM_CONF: '/etc/slurm/x.conf' }, maxBytes: 1000 });
    assert.equal(r.text, '/etc/slurm/x.conf C standard\n');
    await rejectsWith(runText(path.join(dir, 'nope'), [], AbortSignal.timeout(5000), { env: {}, maxBytes: 1000 }), 'exec', /command not found/);
    rmSync(dir, { recursive: true });
  });
});
