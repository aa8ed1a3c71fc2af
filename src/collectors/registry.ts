// Every Slurm collector, in the order their output appears on /metrics and in the reference.
import type { Collector } from './collector.ts';
import { clusterCollector } from './cluster.ts';
import { nodesCollector } from './nodes.ts';
import { partitionsCollector } from './partitions.ts';
import { jobsCollector } from './jobs.ts';
import { usersCollector } from './users.ts';
import { gpusCollector } from './gpus.ts';
import { queueWaitCollector } from './queue-wait.ts';
import { finishedCollector } from './finished.ts';
import { jobSeriesCollector } from './job-series.ts';
import { schedulerCollector } from './scheduler.ts';
import { fairshareCollector } from './fairshare.ts';
import { reservationsCollector } from './reservations.ts';
import { licensesCollector } from './licenses.ts';
import { slurmdbdPingCollector } from './slurmdbd-ping.ts';
import { slurmdbdCollector } from './slurmdbd.ts';
import { nativeCollector } from './native.ts';

export const ALL_COLLECTORS: readonly Collector[] = [
  clusterCollector,
  nodesCollector,
  partitionsCollector,
  jobsCollector,
  usersCollector,
  gpusCollector,
  queueWaitCollector,
  finishedCollector,
  jobSeriesCollector,
  schedulerCollector,
  fairshareCollector,
  reservationsCollector,
  licensesCollector,
  slurmdbdCollector,
  slurmdbdPingCollector,
  nativeCollector,
];

export function collectorByName(name: string): Collector | undefined {
  return ALL_COLLECTORS.find((c) => c.name === name);
}
