// Job counts by state, flag and pending reason, resources held by running jobs and asked for by pending
// ones, and how long pending jobs have waited; cluster-wide (each job once) and per partition.
import type { Collector, CollectContext } from './collector.ts';
import type { MetricDesc, MetricFamily, Sample } from '../exposition/types.ts';
import type { SlurmJob } from '../slurm/model.ts';
import { Acc, JOB_BASE_STATES, JOB_FLAGS_COMMON, topN } from './labels.ts';

/** Distinct pending reasons kept as label values; the rest are counted under reason="other". */
export const MAX_PENDING_REASONS = 100;

const RECORDS = 'Counts job records as slurmrestd returns them: a pending job array whose tasks have not started is one record with a task range (6_[4-8%3]); each started task is its own record.';
const MULTI = 'A job that names several partitions (a pending job submitted to "cpu,preempt") is counted in each, so the sum over partitions can exceed the cluster figure.';
const SRC_STATE = 'jobs: jobs[].job_state (v0.0.39+: array, base state first; v0.0.38: string)';

const JOBS: MetricDesc = {
  name: 'slurm_jobs',
  type: 'gauge',
  help: `Jobs by base state, lower case as Slurm names it (pending, running, completed, failed, out_of_memory, node_fail, ...; any newer state passes through). The sum over state is the number of job records returned, finished ones included for MinJobAge. ${RECORDS}`,
  labels: ['cluster', 'state'],
  source: SRC_STATE,
};
const WITH_FLAG: MetricDesc = {
  name: 'slurm_jobs_with_flag',
  type: 'gauge',
  help: 'Job records that carry a state flag (completing, configuring, requeued, ...), lower case. A job with several flags counts under each.',
  labels: ['cluster', 'flag'],
  source: SRC_STATE + ' flags',
};
const PENDING: MetricDesc = {
  name: 'slurm_jobs_pending',
  type: 'gauge',
  help: `Pending job records by the reason Slurm gives (Resources, Priority, Dependency, JobHeldUser, ...), each job once. At most ${MAX_PENDING_REASONS} reasons are kept; the rarest others are counted under reason="other". ${RECORDS}`,
  labels: ['cluster', 'reason'],
  source: 'jobs: jobs[].state_reason of pending jobs',
};
const P_PENDING: MetricDesc = {
  name: 'slurm_partition_jobs_pending',
  type: 'gauge',
  help: `Pending job records by partition and reason (reasons bounded as in slurm_jobs_pending). ${MULTI}`,
  labels: ['cluster', 'partition', 'reason'],
  source: 'jobs: jobs[].partition, jobs[].state_reason of pending jobs',
};
const ARRAY_TASKS: MetricDesc = {
  name: 'slurm_jobs_pending_array_tasks',
  type: 'gauge',
  help: 'Pending array tasks that records with a task range stand for (6_[4-8%3] is 5 tasks). slurm_jobs counts each such record once.',
  labels: ['cluster'],
  source: 'jobs: jobs[].array_task_string of pending jobs',
};
const CPUS: MetricDesc = {
  name: 'slurm_jobs_cpus_allocated',
  type: 'gauge',
  help: 'CPUs allocated to running jobs.',
  labels: ['cluster'],
  source: 'jobs: jobs[].cpus of running jobs',
};
const MEM: MetricDesc = {
  name: 'slurm_jobs_memory_allocated_bytes',
  type: 'gauge',
  help: 'Memory allocated to running jobs, bytes.',
  labels: ['cluster'],
  source: 'jobs: memory of running jobs (allocated TRES mem, MB, converted)',
};
const GPUS: MetricDesc = {
  name: 'slurm_jobs_gpus_allocated',
  type: 'gauge',
  help: 'GPUs allocated to running jobs.',
  labels: ['cluster'],
  source: 'jobs: GPUs of running jobs (allocated TRES gres/gpu)',
};
const P_CPUS: MetricDesc = {
  name: 'slurm_partition_jobs_cpus_allocated',
  type: 'gauge',
  help: 'CPUs allocated to running jobs of the partition.',
  labels: ['cluster', 'partition'],
  source: 'jobs: jobs[].cpus of running jobs, by jobs[].partition',
};
const P_MEM: MetricDesc = {
  name: 'slurm_partition_jobs_memory_allocated_bytes',
  type: 'gauge',
  help: 'Memory allocated to running jobs of the partition, bytes.',
  labels: ['cluster', 'partition'],
  source: 'jobs: memory of running jobs, by jobs[].partition',
};
const P_GPUS: MetricDesc = {
  name: 'slurm_partition_jobs_gpus_allocated',
  type: 'gauge',
  help: 'GPUs allocated to running jobs of the partition.',
  labels: ['cluster', 'partition'],
  source: 'jobs: GPUs of running jobs, by jobs[].partition',
};
const PEND_CPUS: MetricDesc = {
  name: 'slurm_jobs_pending_cpus',
  type: 'gauge',
  help: `CPUs requested by pending job records (a task-range array record counts once). ${RECORDS}`,
  labels: ['cluster'],
  source: 'jobs: jobs[].cpus of pending jobs',
};
const PEND_GPUS: MetricDesc = {
  name: 'slurm_jobs_pending_gpus',
  type: 'gauge',
  help: 'GPUs requested by pending job records (a task-range array record counts once).',
  labels: ['cluster'],
  source: 'jobs: GPUs requested by pending jobs (requested TRES gres/gpu)',
};
const P_PEND_CPUS: MetricDesc = {
  name: 'slurm_partition_jobs_pending_cpus',
  type: 'gauge',
  help: `CPUs requested by pending job records of the partition. ${MULTI}`,
  labels: ['cluster', 'partition'],
  source: 'jobs: jobs[].cpus of pending jobs, by jobs[].partition',
};
const P_PEND_GPUS: MetricDesc = {
  name: 'slurm_partition_jobs_pending_gpus',
  type: 'gauge',
  help: `GPUs requested by pending job records of the partition. ${MULTI}`,
  labels: ['cluster', 'partition'],
  source: 'jobs: GPUs of pending jobs, by jobs[].partition',
};
const WAIT_NOTE = 'Age is measured from submit time to the time the jobs snapshot was rendered; a job held or waiting for its begin time counts too.';
const OLDEST: MetricDesc = {
  name: 'slurm_jobs_pending_oldest_wait_seconds',
  type: 'gauge',
  help: `How long the longest-waiting pending job has waited since submission, seconds (0 when none is pending). ${WAIT_NOTE}`,
  labels: ['cluster'],
  source: 'jobs: now - jobs[].submit_time of pending jobs',
};
const WAIT_SUM: MetricDesc = {
  name: 'slurm_jobs_pending_wait_seconds',
  type: 'gauge',
  help: `Sum of the time every pending job has waited since submission, seconds. Mean wait = this / slurm_jobs_pending_waiting. ${WAIT_NOTE}`,
  labels: ['cluster'],
  source: 'jobs: now - jobs[].submit_time of pending jobs',
};
const WAIT_COUNT: MetricDesc = {
  name: 'slurm_jobs_pending_waiting',
  type: 'gauge',
  help: 'Pending job records with a known submit time: the divisor for slurm_jobs_pending_wait_seconds.',
  labels: ['cluster'],
  source: 'jobs: pending jobs with jobs[].submit_time set',
};
const P_OLDEST: MetricDesc = {
  name: 'slurm_partition_jobs_pending_oldest_wait_seconds',
  type: 'gauge',
  help: `Longest wait since submission of a pending job in the partition, seconds. ${MULTI} ${WAIT_NOTE}`,
  labels: ['cluster', 'partition'],
  source: 'jobs: now - jobs[].submit_time of pending jobs, by jobs[].partition',
};
const P_WAIT_SUM: MetricDesc = {
  name: 'slurm_partition_jobs_pending_wait_seconds',
  type: 'gauge',
  help: `Sum of the time the partition's pending jobs have waited since submission, seconds; mean = this / slurm_partition_jobs_pending_waiting. ${MULTI}`,
  labels: ['cluster', 'partition'],
  source: 'jobs: now - jobs[].submit_time of pending jobs, by jobs[].partition',
};
const P_WAIT_COUNT: MetricDesc = {
  name: 'slurm_partition_jobs_pending_waiting',
  type: 'gauge',
  help: `Pending job records of the partition with a known submit time: the divisor for slurm_partition_jobs_pending_wait_seconds. ${MULTI}`,
  labels: ['cluster', 'partition'],
  source: 'jobs: pending jobs with jobs[].submit_time set, by jobs[].partition',
};

/**
 * Number of tasks in a Slurm array task expression (`4-8%3`, `1,3,5-7`, `0-15:4`); undefined when the
 * text is not one. The `%N` throttle limits concurrency, not the task count.
 */
export function arrayTaskCount(expr: string): number | undefined {
  const body = expr.replace(/^\[|\]$/g, '').replace(/%\d+$/, '');
  if (body === '') return undefined;
  let n = 0;
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (hi < lo || step < 1) return undefined;
    n += Math.floor((hi - lo) / step) + 1;
  }
  return n;
}


export const jobsCollector: Collector = {
  name: 'jobs',
  description: 'Job counts by state, flag and pending reason; resources of running and pending jobs; pending wait times; cluster-wide and per partition.',
  group: 'jobs',
  needs: ['jobs'],
  metrics: [
    JOBS, WITH_FLAG, PENDING, P_PENDING, ARRAY_TASKS, CPUS, MEM, GPUS, P_CPUS, P_MEM, P_GPUS, PEND_CPUS, PEND_GPUS,
    P_PEND_CPUS, P_PEND_GPUS, OLDEST, WAIT_SUM, WAIT_COUNT, P_OLDEST, P_WAIT_SUM, P_WAIT_COUNT,
  ],
  collect(ctx: CollectContext): MetricFamily[] {
    const jobs = ctx.data.jobs;
    if (!jobs) return [];
    const c = ctx.cluster;
    const now = ctx.now;
    const seen = new Set<string>();
    const report = (what: string): void => {
      if (seen.has(what)) return;
      seen.add(what);
      ctx.anomaly(what);
    };

    const states = new Acc();
    for (const s of JOB_BASE_STATES) states.seed([c, s]);
    const flags = new Acc();
    for (const f of JOB_FLAGS_COMMON) flags.seed([c, f]);
    const reasonWeights = new Map<string, number>();
    const pending: SlurmJob[] = [];
    const pCpus = new Acc();
    const pMem = new Acc();
    const pGpus = new Acc();
    let cpus = 0;
    let mem = 0;
    let gpus = 0;
    let arrayTasks = 0;
    // Every partition some job record names gets zero series, so a partition's figures drop to 0
    // instead of vanishing when its last running or pending job goes.
    const allParts = new Set<string>();

    for (const j of jobs) {
      states.add([c, j.state]);
      for (const f of new Set(j.stateFlags)) flags.add([c, f]);
      const parts = [...new Set(j.partitions)];
      for (const p of parts) allParts.add(p);
      if (j.state === 'running') {
        cpus += j.cpus;
        mem += j.memoryBytes;
        gpus += j.gpus;
        for (const p of parts) {
          pCpus.add([c, p], j.cpus);
          pMem.add([c, p], j.memoryBytes);
          pGpus.add([c, p], j.gpus);
        }
      } else if (j.state === 'pending') {
        pending.push(j);
        reasonWeights.set(j.reason, (reasonWeights.get(j.reason) ?? 0) + 1);
        if (j.arrayTaskString !== '') {
          const n = arrayTaskCount(j.arrayTaskString);
          if (n === undefined) report(`array task range "${j.arrayTaskString}"`);
          else arrayTasks += n;
        }
      }
    }

    const { map: reasonOf, folded } = topN(reasonWeights, MAX_PENDING_REASONS);
    if (folded > 0) report(`more than ${MAX_PENDING_REASONS} distinct pending reasons; ${folded} folded into "other"`);
    const byReason = new Acc();
    const pByReason = new Acc();
    const pendCpus = new Acc();
    const pendGpus = new Acc();
    const pOldest = new Acc();
    const pWait = new Acc();
    const pWaiting = new Acc();
    for (const p of allParts) {
      for (const acc of [pCpus, pMem, pGpus, pendCpus, pendGpus, pOldest, pWait, pWaiting]) acc.seed([c, p]);
    }
    let pendCpusAll = 0;
    let pendGpusAll = 0;
    let oldest = 0;
    let waitSum = 0;
    let waiting = 0;
    for (const j of pending) {
      const reason = reasonOf(j.reason);
      byReason.add([c, reason]);
      pendCpusAll += j.cpus;
      pendGpusAll += j.gpus;
      const age = j.submitTime > 0 ? Math.max(0, now - j.submitTime) : undefined;
      if (age !== undefined) {
        waitSum += age;
        waiting++;
        if (age > oldest) oldest = age;
      }
      for (const p of new Set(j.partitions)) {
        pByReason.add([c, p, reason]);
        pendCpus.add([c, p], j.cpus);
        pendGpus.add([c, p], j.gpus);
        if (age !== undefined) {
          pOldest.max([c, p], age);
          pWait.add([c, p], age);
          pWaiting.add([c, p]);
        }
      }
    }

    const one = (v: number): Sample[] => [{ values: [c], value: v }];
    return [
      states.family(JOBS),
      flags.family(WITH_FLAG),
      byReason.family(PENDING),
      pByReason.family(P_PENDING),
      { desc: ARRAY_TASKS, samples: one(arrayTasks) },
      { desc: CPUS, samples: one(cpus) },
      { desc: MEM, samples: one(mem) },
      { desc: GPUS, samples: one(gpus) },
      pCpus.family(P_CPUS),
      pMem.family(P_MEM),
      pGpus.family(P_GPUS),
      { desc: PEND_CPUS, samples: one(pendCpusAll) },
      { desc: PEND_GPUS, samples: one(pendGpusAll) },
      pendCpus.family(P_PEND_CPUS),
      pendGpus.family(P_PEND_GPUS),
      { desc: OLDEST, samples: one(oldest) },
      { desc: WAIT_SUM, samples: one(waitSum) },
      { desc: WAIT_COUNT, samples: one(waiting) },
      pOldest.family(P_OLDEST),
      pWait.family(P_WAIT_SUM),
      pWaiting.family(P_WAIT_COUNT),
    ];
  },
};
