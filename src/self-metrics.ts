// The exporter's own metrics, built at scrape time: a few dozen series, cheap, and always current.
import { EXPORTER_METRICS } from './collectors/exporter-metrics.ts';
import type { MetricDesc, MetricFamily, Sample } from './exposition/types.ts';
import type { Poller } from './poll/poller.ts';
import type { CollectorRunner } from './poll/collector-runner.ts';
import type { LabelledCounter } from './poll/counters.ts';
import { VERSION } from './version.ts';

const byName = new Map<string, MetricDesc>(Object.values(EXPORTER_METRICS).map((d) => [d.name, d]));

function desc(name: string): MetricDesc {
  const d = byName.get(name);
  if (!d) throw new Error(`exporter metric ${name} is not declared in collectors/exporter-metrics.ts`);
  return d;
}

export interface SelfMetricsInput {
  cluster: string;
  poller: Poller;
  runner: CollectorRunner;
  collectorErrors: LabelledCounter;
  anomalies: LabelledCounter;
  /** The protections in front of Slurm: cache hits and ms waited for the rate limit. */
  guard: { cacheHits: number; rateLimitedMs: number };
  scrapes: LabelledCounter;
  lastScrapeSeconds: number;
  isLeader: boolean;
  leaderChanges: number;
  extra?: MetricFamily[];
}

function fromCounter(name: string, c: LabelledCounter): MetricFamily {
  return { desc: desc(name), samples: c.entries().map((e) => ({ values: e.labels, value: e.value })) };
}

export function selfMetricFamilies(i: SelfMetricsInput): MetricFamily[] {
  const now = Date.now();
  const statuses = i.poller.groupStatuses();
  const per = (f: (s: (typeof statuses)[number]) => number | undefined): Sample[] =>
    statuses.flatMap((s) => {
      const v = f(s);
      return v === undefined ? [] : [{ values: [s.group], value: v }];
    });
  const families: MetricFamily[] = [
    {
      desc: desc('slurm_exporter_build_info'),
      samples: [{ values: [VERSION, process.version], value: 1 }],
    },
    { desc: desc('slurm_exporter_scrape_duration_seconds'), samples: [{ values: [], value: i.lastScrapeSeconds }] },
    fromCounter('slurm_exporter_scrapes_total', i.scrapes),
    // Poll failures (collector group, fetch error kind) and collector failures (collector, 'collect').
    { desc: desc('slurm_exporter_errors_total'), samples: [...i.poller.stats.errors.entries(), ...i.collectorErrors.entries()].map((e) => ({ values: e.labels, value: e.value })) },
    fromCounter('slurm_exporter_api_errors_total', i.poller.stats.apiErrors),
    fromCounter('slurm_exporter_slurm_requests_total', i.poller.stats.requests),
    fromCounter('slurm_exporter_slurm_response_bytes_total', i.poller.stats.responseBytes),
    fromCounter('slurm_exporter_anomalies_total', i.anomalies),
    { desc: desc('slurm_exporter_slurm_cache_hits_total'), samples: [{ values: [], value: i.guard.cacheHits }] },
    { desc: desc('slurm_exporter_slurm_rate_limited_seconds_total'), samples: [{ values: [], value: i.guard.rateLimitedMs / 1000 }] },
    { desc: desc('slurm_exporter_collector_supported'), samples: per((s) => (s.unsupported ? 0 : 1)) },
    { desc: desc('slurm_exporter_collector_duration_seconds'), samples: per((s) => s.lastDurationSeconds) },
    { desc: desc('slurm_exporter_collector_success'), samples: per((s) => (s.lastSuccess === undefined ? undefined : s.lastSuccess ? 1 : 0)) },
    {
      desc: desc('slurm_exporter_collector_last_success_timestamp_seconds'),
      samples: per((s) => (s.lastSuccessAt === undefined ? undefined : s.lastSuccessAt / 1000)),
    },
    {
      desc: desc('slurm_exporter_collector_staleness_seconds'),
      samples: per((s) => (s.lastSuccessAt === undefined ? undefined : (now - s.lastSuccessAt) / 1000)),
    },
    ...processFamilies(),
    { desc: desc('slurm_exporter_leader'), samples: [{ values: [], value: i.isLeader ? 1 : 0 }] },
    { desc: desc('slurm_exporter_leader_changes_total'), samples: [{ values: [], value: i.leaderChanges }] },
  ];
  if (i.extra) families.push(...i.extra);
  return families;
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
