// Opt-in series per job id (limits.jobs): who runs what where, and its size. Costly by nature, so bounded by
// limits.maxJobs, keeping the jobs that hold resources: running first, then the largest by CPUs.
import type { Collector, CollectContext } from './collector.ts';
import type { MetricDesc, MetricFamily, Sample } from '../exposition/types.ts';
import type { SlurmJob } from '../slurm/model.ts';

const COST =
  'Opt-in (limits.jobs, off by default) and costly: four series per job, and every job that ends leaves its series ' +
  'to go stale in Prometheus, so a busy cluster churns many series a day; keep limits.maxJobs small.';
const SIZE = 'Allocated for a running job, requested for a pending one.';
const SRC = 'jobs: one series set per jobs[] record, at most limits.maxJobs';

const INFO: MetricDesc = {
  name: 'slurm_job_info',
  type: 'gauge',
  help: `Always 1: one series per job id with its user, account, partition (as Slurm lists it: a pending job may name several, "cpu,preempt") and base state. ${COST}`,
  labels: ['cluster', 'job_id', 'user', 'account', 'partition', 'state'],
  source: `${SRC}: job_id, user_name, account, partition, job_state`,
};
const CPUS: MetricDesc = {
  name: 'slurm_job_cpus',
  type: 'gauge',
  help: `CPUs of the job. ${SIZE} ${COST}`,
  labels: ['cluster', 'job_id'],
  source: `${SRC}: cpus`,
};
const MEM: MetricDesc = {
  name: 'slurm_job_memory_bytes',
  type: 'gauge',
  help: `Memory of the job, bytes. ${SIZE} ${COST}`,
  labels: ['cluster', 'job_id'],
  source: `${SRC}: TRES mem (MB, converted)`,
};
const GPUS: MetricDesc = {
  name: 'slurm_job_gpus',
  type: 'gauge',
  help: `GPUs of the job. ${SIZE} ${COST}`,
  labels: ['cluster', 'job_id'],
  source: `${SRC}: TRES gres/gpu`,
};
const FOLDED: MetricDesc = {
  name: 'slurm_job_series_folded',
  type: 'gauge',
  help: 'Jobs left without their own series because there are more than limits.maxJobs (running jobs, then the largest by CPUs, are kept). 0 means every job has its series.',
  labels: ['cluster'],
  source: 'jobs: number of jobs[] records minus limits.maxJobs',
};

/** Running jobs first, then by CPUs (largest first), then by job id, so the choice is stable. */
export function jobOrder(a: SlurmJob, b: SlurmJob): number {
  const ra = a.state === 'running' ? 0 : 1;
  const rb = b.state === 'running' ? 0 : 1;
  return ra - rb || b.cpus - a.cpus || a.jobId - b.jobId;
}

function jobFamilies(kept: readonly SlurmJob[], cluster: string): MetricFamily[] {
  const info: Sample[] = [];
  const cpus: Sample[] = [];
  const mem: Sample[] = [];
  const gpus: Sample[] = [];
  for (const j of kept) {
    const id = String(j.jobId);
    info.push({ values: [cluster, id, j.user, j.account, j.partitions.join(','), j.state], value: 1 });
    cpus.push({ values: [cluster, id], value: j.cpus });
    mem.push({ values: [cluster, id], value: j.memoryBytes });
    gpus.push({ values: [cluster, id], value: j.gpus });
  }
  return [
    { desc: INFO, samples: info },
    { desc: CPUS, samples: cpus },
    { desc: MEM, samples: mem },
    { desc: GPUS, samples: gpus },
  ];
}

export const jobSeriesCollector: Collector = {
  name: 'job',
  description: 'Opt-in series per job id (user, account, partition, state, CPUs, memory, GPUs), at most limits.maxJobs jobs. Costly.',
  group: 'jobs',
  switch: 'jobs',
  needs: ['jobs'],
  metrics: [INFO, CPUS, MEM, GPUS, FOLDED],
  collect(ctx: CollectContext): MetricFamily[] {
    const jobs = ctx.data.jobs;
    if (!jobs) return [];
    const kept = [...jobs].sort(jobOrder).slice(0, ctx.limits.maxJobs);
    return [...jobFamilies(kept, ctx.cluster), { desc: FOLDED, samples: [{ values: [ctx.cluster], value: jobs.length - kept.length }] }];
  },
};
