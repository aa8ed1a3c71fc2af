// The exporter's own metrics, built at scrape time: a few dozen series, cheap, and always current.
import { EXPORTER_METRICS } from './collectors/exporter-metrics.ts';
import type { MetricDesc, MetricFamily } from './exposition/types.ts';
import type { GroupStatus } from './poll/poller.ts';
import type { LabelledCounter } from './poll/counters.ts';
import { VERSION } from './version.ts';

const byName = new Map<string, MetricDesc>(Object.values(EXPORTER_METRICS).map((d) => [d.name, d]));

function desc(name: string): MetricDesc {
  const d = byName.get(name);
  if (!d) throw new Error(`exporter metric ${name} is not declared in collectors/exporter-metrics.ts`);
  return d;
}

type Entries = { labels: string[]; value: number }[];

/**
 * What one cluster's pipeline counted, as plain data (it crosses from the collection thread); its series carry
 * the cluster label.
 */
export interface ClusterSelfInput {
  cluster: string;
  /** Per collector group (Poller.groupStatuses). */
  groups: GroupStatus[];
  counters: { errors: Entries; apiErrors: Entries; requests: Entries; responseBytes: Entries; collectorErrors: Entries; anomalies: Entries };
  /** The protections in front of Slurm: cache hits and ms waited for the rate limit. */
  guard: { cacheHits: number; rateLimitedMs: number };
  /** Collection threads restarted after a crash or a hang, by reason. */
  restarts: Entries;
  /** The collection thread's V8 heap, when it has one of its own. */
  heap?: { used: number; total: number };
}

/** What the process counted (its scrapes) and its leadership. */
export interface ProcessSelfInput {
  scrapes: LabelledCounter;
  lastScrapeSeconds: number;
  isLeader: boolean;
  leaderChanges: number;
  extra?: MetricFamily[];
}

function fromCounter(name: string, c: LabelledCounter): MetricFamily {
  return { desc: desc(name), samples: c.entries().map((e) => ({ values: e.labels, value: e.value })) };
}


/** One family over every cluster: `values` gives each cluster's label values after its cluster label. */
function perCluster(name: string, clusters: readonly ClusterSelfInput[], values: (c: ClusterSelfInput) => { labels: string[]; value: number }[]): MetricFamily {
  return { desc: desc(name), samples: clusters.flatMap((c) => values(c).map((v) => ({ values: [c.cluster, ...v.labels], value: v.value }))) };
}

/** Per collector group of each cluster; groups with no value yet are left out. */
function perGroup(name: string, clusters: readonly ClusterSelfInput[], f: (s: GroupStatus, now: number) => number | undefined): MetricFamily {
  const now = Date.now();
  return perCluster(name, clusters, (c) =>
    c.groups.flatMap((s) => {
      const v = f(s, now);
      return v === undefined ? [] : [{ labels: [s.group], value: v }];
    }),
  );
}

/** What describes the process and its leadership: rendered on every scrape (a few series). */
export function processSelfFamilies(i: ProcessSelfInput): MetricFamily[] {
  const families: MetricFamily[] = [
    { desc: desc('slurm_exporter_build_info'), samples: [{ values: [VERSION, process.version], value: 1 }] },
    { desc: desc('slurm_exporter_scrape_duration_seconds'), samples: [{ values: [], value: i.lastScrapeSeconds }] },
    fromCounter('slurm_exporter_scrapes_total', i.scrapes),
    ...processFamilies(),
    { desc: desc('slurm_exporter_leader'), samples: [{ values: [], value: i.isLeader ? 1 : 0 }] },
    { desc: desc('slurm_exporter_leader_changes_total'), samples: [{ values: [], value: i.leaderChanges }] },
  ];
  if (i.extra) families.push(...i.extra);
  return families;
}

/** What describes the work for each cluster (hundreds of series per cluster: main.ts renders them at most once a second). */
export function clusterSelfFamilies(cs: readonly ClusterSelfInput[]): MetricFamily[] {
  return [
    // Poll failures (collector group, fetch error kind) and collector failures (collector, 'collect').
    perCluster('slurm_exporter_errors_total', cs, (c) => [...c.counters.errors, ...c.counters.collectorErrors]),
    perCluster('slurm_exporter_api_errors_total', cs, (c) => c.counters.apiErrors),
    perCluster('slurm_exporter_slurm_requests_total', cs, (c) => c.counters.requests),
    perCluster('slurm_exporter_slurm_response_bytes_total', cs, (c) => c.counters.responseBytes),
    perCluster('slurm_exporter_anomalies_total', cs, (c) => c.counters.anomalies),
    perCluster('slurm_exporter_collection_restarts_total', cs, (c) => c.restarts),
    perCluster('slurm_exporter_collection_heap_used_bytes', cs, (c) => (c.heap ? [{ labels: [], value: c.heap.used }] : [])),
    perCluster('slurm_exporter_collection_heap_total_bytes', cs, (c) => (c.heap ? [{ labels: [], value: c.heap.total }] : [])),
    perCluster('slurm_exporter_slurm_cache_hits_total', cs, (c) => [{ labels: [], value: c.guard.cacheHits }]),
    perCluster('slurm_exporter_slurm_rate_limited_seconds_total', cs, (c) => [{ labels: [], value: c.guard.rateLimitedMs / 1000 }]),
    perGroup('slurm_exporter_collector_supported', cs, (s) => (s.unsupported ? 0 : 1)),
    perGroup('slurm_exporter_collector_duration_seconds', cs, (s) => s.lastDurationSeconds),
    perGroup('slurm_exporter_collector_success', cs, (s) => (s.lastSuccess === undefined ? undefined : s.lastSuccess ? 1 : 0)),
    perGroup('slurm_exporter_collector_last_success_timestamp_seconds', cs, (s) => (s.lastSuccessAt === undefined ? undefined : s.lastSuccessAt / 1000)),
    perGroup('slurm_exporter_collector_staleness_seconds', cs, (s, now) => (s.lastSuccessAt === undefined ? undefined : (now - s.lastSuccessAt) / 1000)),
  ];
}


const START_SECONDS = Math.round((Date.now() - performance.now()) / 10) / 100;

function processFamilies(): MetricFamily[] {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  const one = (name: string, value: number): MetricFamily => ({ desc: desc(name), samples: [{ values: [], value }] });
  return [
    one('process_cpu_seconds_total', (cpu.user + cpu.system) / 1e6),
    one('process_resident_memory_bytes', mem.rss),
    one('process_start_time_seconds', START_SECONDS),
    one('nodejs_heap_size_used_bytes', mem.heapUsed),
    one('nodejs_heap_size_total_bytes', mem.heapTotal),
  ];
}
