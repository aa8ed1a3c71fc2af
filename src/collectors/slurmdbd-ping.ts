// Whether slurmrestd reaches slurmdbd (/slurmdb/{v}/ping, Slurm 24.05 and later), one series per slurmdbd.
// slurmctld's own view of the link is slurm_scheduler_dbd_agent_queue_size: messages it queues while slurmdbd
// does not take them.
import type { Collector, CollectContext } from './collector.ts';
import type { MetricDesc, MetricFamily } from '../exposition/types.ts';

const UP: MetricDesc = {
  name: 'slurm_slurmdbd_up',
  type: 'gauge',
  help: 'Whether slurmdbd answers slurmrestd\'s ping (1) or not (0), per slurmdbd host (primary and backup). Served from API v0.0.42 (Slurm 24.05); on older versions see slurm_scheduler_dbd_agent_queue_size.',
  labels: ['cluster', 'host'],
  source: 'dbping: pings[].responding',
};

const LATENCY: MetricDesc = {
  name: 'slurm_slurmdbd_ping_latency_seconds',
  type: 'gauge',
  help: 'Round-trip time of the last ping from slurmrestd to slurmdbd, seconds.',
  labels: ['cluster', 'host'],
  source: 'dbping: pings[].latency (microseconds)',
};

export const slurmdbdPingCollector: Collector = {
  name: 'slurmdbd_ping',
  description: 'slurmdbd reachability and ping latency as slurmrestd sees it (API v0.0.42 and later).',
  group: 'slurmdbd',
  needs: ['dbping'],
  metrics: [UP, LATENCY],
  collect(ctx: CollectContext): MetricFamily[] {
    const pings = ctx.data.dbping;
    if (!pings) return [];
    const up: MetricFamily = { desc: UP, samples: [] };
    const latency: MetricFamily = { desc: LATENCY, samples: [] };
    for (const p of pings) {
      up.samples.push({ values: [ctx.cluster, p.hostname], value: p.responding ? 1 : 0 });
      if (p.latencySeconds !== undefined) latency.samples.push({ values: [ctx.cluster, p.hostname], value: p.latencySeconds });
    }
    return [up, latency];
  },
};
