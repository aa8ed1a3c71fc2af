// Collection off the serving thread, with the real worker threads: the exporter (in this process, so the test
// can reach its threads) reads a simulated slurmrestd. A collection thread that is terminated (a crash) or
// whose event loop is blocked (a hang) is restarted and counted; meanwhile the last good data stays served
// with its growing age, counters keep counting from where they were, and scrapes are answered at once:
// nothing the collection thread does can hold the thread that serves them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SlurmSimulator } from '../../src/simulator/server.ts';
import { resolveFromData } from '../../src/config/load.ts';
import { startExporter, type RunningExporter } from '../../src/main.ts';
import { WorkerCluster } from '../../src/worker/cluster-host.ts';
import { COLLECTOR_GROUPS } from '../../src/slurm/resources.ts';
import { httpGet, parseSamples, sumBy, valueOf, waitFor } from '../support/exporter-process.ts';

const lines: { level: string; msg: string | undefined; obj: unknown }[] = [];
const log = Object.assign(
  Object.fromEntries(['debug', 'info', 'warn', 'error'].map((level) => [level, (obj: unknown, msg?: string) => lines.push({ level, obj, msg })])),
  { level: 'info' },
) as unknown as Parameters<typeof startExporter>[1];

async function metrics(exp: RunningExporter): Promise<{ m: Map<string, number>; text: string; ms: number }> {
  const t0 = performance.now();
  const r = await httpGet(`${exp.url}/metrics`);
  const ms = performance.now() - t0;
  assert.equal(r.status, 200);
  return { m: parseSamples(r.text), text: r.text, ms };
}

describe('collection threads', () => {
  let sim: SlurmSimulator;
  let exp: RunningExporter;
  let host: WorkerCluster;
  before(async () => {
    sim = new SlurmSimulator({ nodes: 30, jobs: 200, tickMs: 0, clusterName: 'threads' });
    const { url } = await sim.start();
    const cfg = resolveFromData(
      {
        server: { listenAddress: '127.0.0.1:0', stalenessLimit: '30s', collection: { hangTimeout: '4s' } },
        slurm: { url, user: 'root' },
        collectors: Object.fromEntries(COLLECTOR_GROUPS.map((g) => [g, { interval: '1s', timeout: '800ms' }])),
      },
      [],
      {},
    );
    exp = await startExporter(cfg, log);
    host = exp.clusters[0] as WorkerCluster;
    assert.ok(host instanceof WorkerCluster, 'collection runs in a worker thread by default');
    await waitFor('ready', async () => (await httpGet(`${exp.url}/ready`)).status === 200, 15_000);
  });
  after(async () => {
    await exp.stop();
    await sim.stop();
  });

  it('a terminated thread is restarted and counted as a crash; its data stays served and counters carry on', async () => {
    const before = (await metrics(exp)).m;
    const requestsBefore = valueOf(before, 'slurm_exporter_slurm_requests_total', { cluster: 'threads', endpoint: 'nodes' })!;
    await host.collectionThread()!.current()!.terminate();
    // Right after: the last data is still there, and the page is served.
    const during = await metrics(exp);
    assert.equal(sumBy(during.text, 'slurm_nodes', 'cluster').get('threads'), 30);
    await waitFor('restart counted', async () => valueOf((await metrics(exp)).m, 'slurm_exporter_collection_restarts_total', { cluster: 'threads', reason: 'crash' }) === 1, 10_000);
    // The new thread's requests add to the old one's: the counter never goes back.
    const seen: number[] = [];
    await waitFor('the new thread polls', async () => {
      const v = valueOf((await metrics(exp)).m, 'slurm_exporter_slurm_requests_total', { cluster: 'threads', endpoint: 'nodes' })!;
      seen.push(v);
      return v > requestsBefore + 1;
    }, 10_000);
    assert.ok(seen.every((v) => v >= requestsBefore), `no counter reset across the restart (${requestsBefore} then ${seen.join(', ')})`);
    assert.equal(sumBy((await metrics(exp)).text, 'slurm_nodes', 'cluster').get('threads'), 30);
    assert.ok(lines.some((l) => l.level === 'error' && /collection thread exited; restarting it/.test(l.msg ?? '')));
  });

  it('a thread whose event loop is blocked is ended after hangTimeout and counted as a hang; scrapes never wait for it', async () => {
    await waitFor('ready', async () => (await httpGet(`${exp.url}/ready`)).status === 200, 10_000);
    host.collectionThread()!.block(8000);
    const slowest: number[] = [];
    const t0 = Date.now();
    // While the collection thread cannot turn its event loop, the page keeps coming at once, with the last data.
    while (Date.now() - t0 < 1500) {
      const r = await metrics(exp);
      slowest.push(r.ms);
      assert.equal(sumBy(r.text, 'slurm_nodes', 'cluster').get('threads'), 30);
    }
    assert.ok(Math.max(...slowest) < 1000, `scrapes answered while collection is blocked (slowest ${Math.round(Math.max(...slowest))} ms)`);
    await waitFor('hang counted', async () => valueOf((await metrics(exp)).m, 'slurm_exporter_collection_restarts_total', { cluster: 'threads', reason: 'hang' }) === 1, 10_000);
    // The age of the data grows while no thread collects, then a new thread brings fresh data.
    await waitFor('fresh data again', async () => {
      const m = (await metrics(exp)).m;
      return valueOf(m, 'slurm_exporter_collector_staleness_seconds', { cluster: 'threads', collector: 'nodes' })! < 1.5;
    }, 10_000);
    assert.ok(lines.some((l) => l.level === 'error' && /collection thread hangs; restarting it/.test(l.msg ?? '')));
    await waitFor('ready again', async () => (await httpGet(`${exp.url}/ready`)).status === 200, 10_000);
  });

  it('OpenMetrics is rendered in the thread the first time a scraper asks for it', async () => {
    const r = await httpGet(`${exp.url}/metrics`, { accept: 'application/openmetrics-text; version=1.0.0' });
    assert.equal(r.status, 200);
    assert.match(r.text, /^slurm_nodes\{cluster="threads",state="[a-z]+"\} \d+$/m);
    assert.match(r.text, /# EOF\n$/);
  });
});
