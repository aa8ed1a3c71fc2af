// Faults between the exporter and the REAL slurmrestd of the lab, through a fault-injecting TCP proxy: the
// connection is reset, accepted and left silent, trickled, or cut while the answer streams. Each time the
// process stays up and healthy, the last good data stays served, the error reason is right, and collection
// recovers within one interval once the fault clears.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ExporterProcess, httpGet, parseSamples, spawnExporter, sumBy, waitFor, valueOf } from '../support/exporter-process.ts';
import { FaultProxy, type ProxyMode } from '../support/fault-proxy.ts';
import { readLabEnv } from '../support/slurm-lab.ts';
import { COLLECTOR_GROUPS } from '../../src/slurm/resources.ts';

const lab = readLabEnv();

describe('faults in front of the real Slurm lab', () => {
  let proxy: FaultProxy;
  let exp: ExporterProcess;
  let dir: string;
  before(async () => {
    const u = new URL(lab.SLURM_REST_URL);
    proxy = new FaultProxy({ host: u.hostname, port: Number(u.port) });
    const url = await proxy.start();
    dir = mkdtempSync(path.join(tmpdir(), 'lab-faults-'));
    const conf = path.join(dir, 'exporter.yaml');
    const groups = COLLECTOR_GROUPS.map((g) => `  ${g}: { interval: 1s, timeout: 800ms }`);
    writeFileSync(conf, ['server:', '  stalenessLimit: 5s', 'slurm:', '  maxResponseSize: 1MiB', 'collectors:', ...groups, ''].join('\n'));
    exp = await spawnExporter(['--slurm.url', url, '--config.file', conf], { env: { SLURM_JWT: lab.SLURM_JWT, SLURM_USER: lab.SLURM_USER } });
    await waitFor('/ready', async () => (await httpGet(`${exp.url}/ready`)).status === 200, 30_000);
  });
  after(async () => {
    assert.equal(await exp.stop(), 0);
    await proxy.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const sample = async () => {
    const text = (await httpGet(`${exp.url}/metrics`)).text;
    return { text, m: parseSamples(text) };
  };
  const last = (m: Map<string, number>) => valueOf(m, 'slurm_exporter_collector_last_success_timestamp_seconds', { collector: 'nodes' }) ?? 0;
  const errs = (m: Map<string, number>, reason: string) => valueOf(m, 'slurm_exporter_api_errors_total', { endpoint: 'nodes', reason }) ?? 0;
  const nodes = (text: string) => [...sumBy(text, 'slurm_nodes', 'cluster').values()].reduce((a, b) => a + b, 0);

  const rows: [string, ProxyMode, string][] = [
    ['connections reset', { mode: 'reset' }, 'connect'],
    ['accepted, never answered', { mode: 'hang' }, 'timeout'],
    ['answer trickled a byte at a time', { mode: 'trickle', everyMs: 50 }, 'timeout'],
    ['slurmrestd gone while the answer streams', { mode: 'cut', afterBytes: 700 }, 'connect'],
    ['HTTP 503 in between', { mode: 'respond', status: 503, body: 'Service Unavailable', contentType: 'text/plain' }, 'http'],
    ['HTTP 401 in between', { mode: 'respond', status: 401, body: 'Authentication failure', contentType: 'text/plain' }, 'auth'],
    ['malformed JSON', { mode: 'respond', status: 200, body: '{"meta": {}, "nodes": [{"name": "c1", "state": [' }, 'parse'],
    ['an answer over slurm.maxResponseSize', { mode: 'respond', status: 200, body: `{"nodes": [${'{"name": "x"},'.repeat(100_000)}{}]}` }, 'too_large'],
  ];
  for (const [name, mode, reason] of rows) {
    it(name, async () => {
      const good = await sample();
      const count = nodes(good.text);
      assert.ok(count > 0);
      proxy.set(mode);
      await new Promise((r) => setTimeout(r, 1500));
      const d1 = await sample();
      await new Promise((r) => setTimeout(r, 2500));
      const d2 = await sample();
      assert.equal(exp.proc.exitCode, null);
      assert.equal((await httpGet(`${exp.url}/health`)).status, 200);
      assert.equal(nodes(d2.text), count, 'last good data, not zeros');
      assert.equal(last(d2.m), last(d1.m), 'no success during the fault');
      assert.ok(errs(d2.m, reason) > errs(good.m, reason), `api errors with reason ${reason}`);
      proxy.set({ mode: 'pass' });
      const t0 = Date.now();
      await waitFor('recovery', async () => last((await sample()).m) > last(d2.m), 5000, 100);
      assert.ok((Date.now() - t0) / 1000 <= 1 + 0.8 + 1.5, 'recovered within one interval (+ timeout and jitter)');
    });
  }
});
