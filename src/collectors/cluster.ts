// Controller reachability and what the cluster runs, from /ping (and the version slurmrestd reports).
import type { Collector, CollectContext } from './collector.ts';
import type { MetricDesc, MetricFamily } from '../exposition/types.ts';

const UP: MetricDesc = {
  name: 'slurm_up',
  type: 'gauge',
  help: 'Whether at least one slurmctld answered the last ping (1) or none did (0). A failed poll keeps the last value; see slurm_exporter_collector_staleness_seconds.',
  labels: ['cluster'],
  source: 'ping: pings[].pinged / responding',
};

const CONTROLLER_UP: MetricDesc = {
  name: 'slurm_controller_up',
  type: 'gauge',
  help: 'Whether this slurmctld (primary or backup) answered the ping: 1 up, 0 down.',
  labels: ['cluster', 'hostname', 'mode'],
  source: 'ping: pings[].hostname, .mode, .pinged / .responding',
};

const CONTROLLER_LATENCY: MetricDesc = {
  name: 'slurm_controller_ping_seconds',
  type: 'gauge',
  help: 'Round-trip time of the last ping from slurmrestd to this slurmctld, seconds. Absent when the API version does not report it (v0.0.38 and older).',
  labels: ['cluster', 'hostname', 'mode'],
  source: 'ping: pings[].latency (microseconds, converted)',
};

const INFO: MetricDesc = {
  name: 'slurm_info',
  type: 'gauge',
  help: 'Always 1; the Slurm release slurmrestd reports and the REST API version the exporter speaks to it.',
  labels: ['cluster', 'version', 'api_version'],
  source: 'meta.slurm.release / meta.plugin (any answer); api_version as negotiated',
};

export const clusterCollector: Collector = {
  name: 'cluster',
  description: 'slurmctld reachability (ping) and the Slurm and API versions.',
  group: 'cluster',
  needs: ['cluster'],
  metrics: [UP, CONTROLLER_UP, CONTROLLER_LATENCY, INFO],
  collect(ctx: CollectContext): MetricFamily[] {
    const info = ctx.data.cluster;
    if (!info) return [];
    const c = ctx.cluster;
    const up: MetricFamily = { desc: CONTROLLER_UP, samples: [] };
    const latency: MetricFamily = { desc: CONTROLLER_LATENCY, samples: [] };
    let anyUp = false;
    for (const p of info.controllers) {
      if (p.status !== 'up' && p.status !== 'down') ctx.anomaly(`controller ping status "${p.status}"`);
      const isUp = p.status === 'up';
      anyUp ||= isUp;
      up.samples.push({ values: [c, p.hostname, p.mode], value: isUp ? 1 : 0 });
      if (p.latencySeconds !== undefined) latency.samples.push({ values: [c, p.hostname, p.mode], value: p.latencySeconds });
    }
    return [
      { desc: UP, samples: [{ values: [c], value: anyUp ? 1 : 0 }] },
      up,
      latency,
      { desc: INFO, samples: [{ values: [c, info.slurmVersion, info.apiVersion], value: 1 }] },
    ];
  },
};
