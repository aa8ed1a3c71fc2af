// The fault matrix (issue 3), against the real exporter process and the simulated slurmrestd: for every fault
// the process stays up, /health answers 200, the last good data stays served (never zeros) while its age grows,
// the error counter grows under a reason that says what happened, and collection recovers within one interval
// after the fault clears. Faults hit only /nodes so the other collector groups show the rest stays healthy.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type FaultSpec, SlurmSimulator } from '../../src/simulator/server.ts';
import { signJwt } from '../../src/simulator/server.ts';
import { type ExporterProcess, httpGet, parseSamples, spawnExporter, sumBy, waitFor, valueOf } from '../support/exporter-process.ts';
import { COLLECTOR_GROUPS } from '../../src/slurm/resources.ts';

const NODES = 20;
const INTERVAL_S = 1;
const KEY = Buffer.from('fault-matrix-test-key-0123456789abcdef');

function config(extra = ''): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'faults-'));
  const file = path.join(dir, 'exporter.yaml');
  const groups = COLLECTOR_GROUPS.map((g) => `  ${g}: { interval: ${INTERVAL_S}s, timeout: 700ms }`);
  writeFileSync(file, ['server:', '  stalenessLimit: 4s', 'slurm:', '  maxResponseSize: 4MiB', extra, 'collectors:', ...groups, ''].join('\n'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return file;
}

async function metrics(exp: ExporterProcess): Promise<Map<string, number>> {
  const r = await httpGet(`${exp.url}/metrics`);
  assert.equal(r.status, 200);
  return parseSamples(r.text);
}

const lastSuccess = (m: Map<string, number>) => valueOf(m, 'slurm_exporter_collector_last_success_timestamp_seconds', { collector: 'nodes' }) ?? 0;
const staleness = (m: Map<string, number>) => valueOf(m, 'slurm_exporter_collector_staleness_seconds', { collector: 'nodes' }) ?? 0;
const apiErrors = (m: Map<string, number>, reason: string) => valueOf(m, 'slurm_exporter_api_errors_total', { endpoint: 'nodes', reason }) ?? 0;
const nodeSum = (text: string) => [...sumBy(text, 'slurm_nodes', 'cluster').values()].reduce((a, b) => a + b, 0);

async function start(opts: { jwtKey?: Buffer; extraConfig?: string; env?: Record<string, string | undefined>; args?: string[] } = {}) {
  const sim = new SlurmSimulator({ nodes: NODES, jobs: 30, tickMs: 0, jwtKey: opts.jwtKey });
  const { url } = await sim.start();
  const exp = await spawnExporter(['--slurm.url', url, '--config.file', config(opts.extraConfig), ...(opts.args ?? [])], { env: { SLURM_JWT: undefined, ...opts.env } });
  return { sim, exp, url };
}

async function stopAll(sim: SlurmSimulator, exp: ExporterProcess): Promise<void> {
  assert.equal(await exp.stop(), 0, 'the exporter exits 0 on SIGTERM');
  await sim.stop();
}

/** Drives one row: healthy → fault for ~3 intervals → cleared → recovered. */
async function row(fault: FaultSpec, reason: string, extra: { extraConfig?: string; checkReady?: boolean } = {}): Promise<void> {
  const { sim, exp } = await start({ extraConfig: extra.extraConfig });
  try {
    await waitFor('/ready', async () => (await httpGet(`${exp.url}/ready`)).status === 200);
    const good = (await httpGet(`${exp.url}/metrics`)).text;
    assert.equal(nodeSum(good), NODES);
    sim.faults.set({ paths: '/nodes$', ...fault });
    // Let a poll in flight when the fault was set finish, then take the reference.
    await new Promise((r) => setTimeout(r, 1500));
    const during1 = await metrics(exp);
    await new Promise((r) => setTimeout(r, extra.checkReady ? 4000 : 2500));
    const during2 = await metrics(exp);
    const page = (await httpGet(`${exp.url}/metrics`)).text;
    assert.equal(exp.proc.exitCode, null, 'the process stays up');
    assert.equal((await httpGet(`${exp.url}/health`)).status, 200, '/health answers 200');
    assert.equal(nodeSum(page), NODES, 'the last good node counts stay served, not zeros');
    assert.equal(lastSuccess(during2), lastSuccess(during1), 'no success during the fault');
    assert.ok(staleness(during2) > staleness(during1) && staleness(during2) >= 2, `the age grows (${staleness(during1)} → ${staleness(during2)})`);
    assert.ok(apiErrors(during2, reason) > apiErrors(during1, reason) || apiErrors(during2, reason) >= 2, `slurm_exporter_api_errors_total{reason="${reason}"} grows`);
    assert.ok((valueOf(during2, 'slurm_exporter_errors_total', { collector: 'nodes', kind: reason }) ?? 0) > 0, 'slurm_exporter_errors_total counts it too');
    assert.ok(lastSuccess(during2) > 0 && (valueOf(during2, 'slurm_exporter_collector_last_success_timestamp_seconds', { collector: 'jobs' }) ?? 0) > lastSuccess(during2), 'other groups keep collecting');
    if (extra.checkReady) {
      const ready = await httpGet(`${exp.url}/ready`);
      assert.equal(ready.status, 503, '/ready turns 503 past the staleness limit');
      assert.match(ready.text, /nodes: data is \d+ s old \(limit 4 s\)/);
    }
    sim.faults.clear();
    const cleared = Date.now();
    const ref = lastSuccess(during2);
    await waitFor('recovery', async () => lastSuccess(await metrics(exp)) > ref, 6000, 100);
    // One interval, plus the fault's own timeout (a hung request ends at its 700 ms timeout) and backoff jitter.
    const took = (Date.now() - cleared) / 1000;
    assert.ok(took <= INTERVAL_S + 0.7 + 1.5, `recovered in ${took.toFixed(1)} s`);
  } finally {
    sim.faults.clear();
    await stopAll(sim, exp);
  }
}

describe('fault matrix (simulated slurmrestd)', { concurrency: 3 }, () => {
  it('connection refused / reset', () => row({ mode: 'refuse' }, 'connect', { checkReady: true }));
  it('accepts and never answers', () => row({ mode: 'hang' }, 'timeout'));

  it('never more than one request in flight per endpoint, even when answers hang', async () => {
    const { sim, exp } = await start();
    try {
      await waitFor('/ready', async () => (await httpGet(`${exp.url}/ready`)).status === 200);
      const since = Date.now();
      sim.faults.set({ mode: 'hang', paths: '/nodes$' });
      await new Promise((r) => setTimeout(r, 5000));
      const times = sim.requestLog.filter((e) => e.time >= since && e.path.endsWith('/nodes')).map((e) => e.time);
      assert.ok(times.length >= 2, `${times.length} requests`);
      // Each hung request is given up at its 700 ms timeout before the next one starts.
      for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 700, `requests ${times[i]! - times[i - 1]!} ms apart`);
    } finally {
      sim.faults.clear();
      await stopAll(sim, exp);
    }
  });
  it('answers a byte at a time', () => row({ mode: 'slow', intervalMs: 200 }, 'timeout'));
  it('HTTP 503', () => row({ mode: 'status', status: 503, body: 'Service Unavailable' }, 'http'));
  it('HTTP 401 that a fixed token cannot fix', () => row({ mode: 'status', status: 401, body: 'Authentication failure' }, 'auth'));
  it('malformed JSON', () => row({ mode: 'malformed' }, 'parse'));
  it('body cut off mid-stream', () => row({ mode: 'truncate', bytes: 5000 }, 'connect'));
  it('a body far over slurm.maxResponseSize', () => row({ mode: 'huge', bytes: 16 * 1024 * 1024 }, 'too_large'));

  it('slurmrestd restarts (down, then back on the same port)', async () => {
    const { sim, exp, url } = await start();
    try {
      await waitFor('/ready', async () => (await httpGet(`${exp.url}/ready`)).status === 200);
      await sim.stop();
      await new Promise((r) => setTimeout(r, 2500));
      const during = await metrics(exp);
      assert.ok(apiErrors(during, 'connect') > 0);
      assert.equal(nodeSum((await httpGet(`${exp.url}/metrics`)).text), NODES);
      const again = new SlurmSimulator({ nodes: NODES, jobs: 30, tickMs: 0, port: Number(new URL(url).port) });
      await again.start();
      const ref = lastSuccess(during);
      await waitFor('recovery after restart', async () => lastSuccess(await metrics(exp)) > ref, 5000, 100);
      await exp.stop();
      await again.stop();
    } finally {
      if (exp.proc.exitCode === null) await exp.stop();
    }
  });

  it('the API version disappears (upgrade): negotiates again, no gap', async () => {
    const { sim, exp } = await start();
    try {
      await waitFor('/ready', async () => (await httpGet(`${exp.url}/ready`)).status === 200);
      assert.match((await httpGet(`${exp.url}/metrics`)).text, /api_version="v0\.0\.44"/);
      sim.faults.set({ mode: 'drop-version', version: 'v0.0.44' });
      await waitFor('slurm_info on v0.0.43', async () => /api_version="v0\.0\.43"/.test((await httpGet(`${exp.url}/metrics`)).text), 8000);
      const m = await metrics(exp);
      assert.equal(apiErrors(m, 'version'), 0, 'the poll that met the 404 negotiated again and succeeded');
      assert.equal((await httpGet(`${exp.url}/ready`)).status, 200);
    } finally {
      await stopAll(sim, exp);
    }
  });

  it('unknown node states and fields: passed through, counted, never fatal', async () => {
    const doc = JSON.parse(readFileSync(new URL('../fixtures/slurm-25.11.7/rest_v0.0.44_slurm_nodes.json', import.meta.url), 'utf8')) as {
      nodes: Record<string, unknown>[];
    };
    doc.nodes[0]!.state = ['QUANTUM_ENTANGLED'];
    doc.nodes[1]!.brand_new_field = { nested: [1, 2, 3] };
    const { sim, exp } = await start();
    try {
      sim.faults.set({ mode: 'status', status: 200, contentType: 'application/json', body: JSON.stringify(doc), paths: '/nodes$' });
      const text = await waitFor('the new state', async () => {
        const t = (await httpGet(`${exp.url}/metrics`)).text;
        return /slurm_nodes\{cluster="[^"]+",state="quantum_entangled"\} 1/.test(t) ? t : undefined;
      });
      assert.equal(nodeSum(text), doc.nodes.length);
      assert.ok((valueOf(parseSamples(text), 'slurm_exporter_anomalies_total', { collector: 'nodes' }) ?? 0) > 0);
      assert.ok(exp.output.some((l) => l.includes('quantum_entangled')), 'logged');
      assert.equal(exp.output.filter((l) => l.includes('node state \\"quantum_entangled\\"')).length, 1, 'logged once');
    } finally {
      await stopAll(sim, exp);
    }
  });

  it('an expired token with a key file: renewed and retried once, no error, no gap', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'faults-key-'));
    writeFileSync(path.join(dir, 'key'), KEY);
    const { sim, exp } = await start({ jwtKey: KEY, args: ['--slurm.jwt-key-file', path.join(dir, 'key'), '--slurm.user', 'root'] });
    try {
      await waitFor('/ready', async () => (await httpGet(`${exp.url}/ready`)).status === 200);
      const since = Date.now();
      sim.faults.set({ mode: 'status', status: 401, body: 'Authentication failure', paths: '/nodes$', times: 1 });
      await waitFor('the 401 to be served', async () => sim.requestLog.some((e) => e.time >= since && e.status === 401));
      await new Promise((r) => setTimeout(r, 1500));
      const m = await metrics(exp);
      assert.equal(apiErrors(m, 'auth'), 0, 'renewed and retried within the same poll');
      const after401 = sim.requestLog.filter((e) => e.time >= since && e.path.endsWith('/nodes'));
      assert.equal(after401[0]!.status, 401);
      assert.equal(after401[1]!.status, 200, 'the retry carried a fresh token');
    } finally {
      await stopAll(sim, exp);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a wrong token (25.x: 511 and a ping that says DOWN): an auth error, and no hammering', async () => {
    const wrong = signJwt('root', Buffer.from('not-the-cluster-key-0123456789abcdef'), 3600);
    const { sim, exp } = await start({ jwtKey: KEY, env: { SLURM_JWT: wrong, SLURM_USER: 'root' } });
    try {
      await new Promise((r) => setTimeout(r, 4000));
      const m = await metrics(exp);
      assert.ok(apiErrors(m, 'auth') > 0, 'reason auth');
      assert.equal((await httpGet(`${exp.url}/health`)).status, 200);
      assert.equal((await httpGet(`${exp.url}/ready`)).status, 503);
      // At most one request per interval per endpoint: an auth failure is not retried fast.
      const nodes = sim.requestLog.filter((e) => e.path.endsWith('/nodes'));
      assert.ok(nodes.length <= 5, `${nodes.length} /nodes requests in 4 s`);
      const text = (await httpGet(`${exp.url}/metrics`)).text;
      assert.ok(!text.includes(wrong) && !exp.output.join('\n').includes(wrong), 'the token never appears');
    } finally {
      await stopAll(sim, exp);
    }
  });
});
