// One full collection against a slurmrestd-shaped server, in its own process so peak RSS is the
// exporter's alone. Prints one JSON line. Usage: node bench/collect-once.ts <url> [apiVersion]
import { RestSource } from '../src/slurm/rest/client.ts';
import { Poller } from '../src/poll/poller.ts';
import { SnapshotStore } from '../src/poll/snapshot-store.ts';
import { CollectorRunner } from '../src/poll/collector-runner.ts';
import { LabelledCounter } from '../src/poll/counters.ts';
import { AnomalyLog } from '../src/poll/anomalies.ts';
import { COLLECTOR_GROUPS, RESOURCE_KINDS } from '../src/slurm/resources.ts';
import { ALL_COLLECTORS } from '../src/collectors/registry.ts';
import { renderFamilies } from '../src/exposition/writer.ts';
import type { SlurmRestConfig } from '../src/config/types.ts';
import type { ResourceKind } from '../src/slurm/model.ts';

const url = process.argv[2];
if (!url) throw new Error('usage: collect-once.ts <url> [apiVersion]');
const slurm: SlurmRestConfig = {
  url,
  apiVersion: process.argv[3],
  user: 'bench',
  token: undefined,
  tokenFile: undefined,
  jwtKeyFile: process.env.BENCH_JWT_KEY_FILE,
  jwtLifetimeMs: 3_600_000,
  cluster: undefined,
  maxConnections: 4,
  connectionTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  keepAlive: true,
  maxResponseBytes: 4 * 1024 ** 3,
  rateLimit: { enabled: false, requestsPerSecond: 10, burstSize: 20 },
  cache: { enabled: false, ttlMs: 0, maxSize: 0 },
  tls: { caFile: undefined, insecureSkipVerify: false },
};
const quiet = { debug() {}, info() {}, warn() {}, error: (o: unknown, m?: string) => console.error(m, o) };
const groups = Object.fromEntries(
  COLLECTOR_GROUPS.map((g) => [g, { enabled: true, intervalMs: 3_600_000, timeoutMs: 600_000 }]),
);
const source = new RestSource(slurm, quiet, { userAgent: 'slurm-exporter-bench' });
const store = new SnapshotStore();
const errors = new LabelledCounter();
const anomalies = new AnomalyLog(quiet);
// The default configuration: collectors behind a limits switch (per-job series) are off.
const runner = new CollectorRunner(ALL_COLLECTORS.filter((c) => c.switch === undefined), store, renderFamilies, {
  cluster: undefined,
  limits: { perNode: true, maxReasonLength: 100, perUser: true, perAccount: true, perQos: true, maxUsers: 200, maxAccounts: 200, jobs: false, maxJobs: 1000 },
  log: quiet,
  anomalies,
  errors,
});
// Every kind the collectors read, /jobs and /nodes last (the order of the old baseline bench).
const kinds: ResourceKind[] = process.env.BENCH_KINDS
  ? (process.env.BENCH_KINDS.split(',') as ResourceKind[])
  : [...RESOURCE_KINDS.filter((k) => k !== 'nodes' && k !== 'jobs'), 'nodes', 'jobs'];
const poller = new Poller(source, store, kinds, groups, quiet, anomalies);

const out: Record<string, unknown> = {};
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (const kind of kinds) {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const bytes0 = poller.stats.responseBytes.get([kind]);
  await poller.pollOnce(kind);
  const st = poller.statuses().find((s) => s.kind === kind)!;
  if (st.unsupported) continue;
  if (!st.lastSuccess) throw new Error(`${kind}: ${st.lastError}`);
  const c = process.cpuUsage(c0);
  const wall = (performance.now() - w0) / 1000;
  const bytes = poller.stats.responseBytes.get([kind]) - bytes0;
  out[kind] = {
    wall_s: +wall.toFixed(3),
    cpu_s: +((c.user + c.system) / 1e6).toFixed(3),
    mb: +(bytes / 1e6).toFixed(1),
    mb_per_s_wall: +(bytes / 1e6 / wall).toFixed(1),
    mb_per_cpu_s: +(bytes / 1e6 / ((c.user + c.system) / 1e6)).toFixed(1),
  };
}
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const page = runner.pieces('text').map((p) => p.raw.toString()).join('');
out.total = {
  wall_s: +wall.toFixed(3),
  cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(3),
  peak_rss_mb: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
  series: page.split('\n').filter((l) => l && !l.startsWith('#')).length,
  page_mb: +(page.length / 1e6).toFixed(2),
  render_s: runner.renderSeconds(),
  series_by_collector: seriesByCollector(page),
  jobs: store.get('jobs')?.data.length,
  nodes: store.get('nodes')?.data.length,
};
console.log(JSON.stringify(out));
await poller.stop();
await source.close();

/** Series on the page per collector, by the families each declares (histograms by their _bucket/_sum/_count lines). */
function seriesByCollector(text: string): Record<string, number> {
  const owner = new Map<string, string>();
  for (const c of ALL_COLLECTORS) for (const d of c.metrics) owner.set(d.name, c.name);
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const name = line.slice(0, line.search(/[{ ]/));
    const c = owner.get(name) ?? owner.get(name.replace(/_(bucket|sum|count)$/, '')) ?? 'exporter';
    out[c] = (out[c] ?? 0) + 1;
  }
  return out;
}
