// sdiag's figures from slurmctld's /metrics/scheduler, so the scheduler collector works on the native input as it
// does on slurmrestd's /diag. The families are already in base units (units.ts: microseconds became seconds).
// What /metrics/scheduler does not serve stays undefined: cycles per minute, and the RPC figures by type and
// by user (sdiag's "Remote Procedure Call statistics"), which only /diag and sdiag give.
import type { NativeFamily, SchedulerStats } from '../model.ts';

type NumericField = {
  [K in keyof SchedulerStats]: SchedulerStats[K] extends number | undefined ? K : never;
}[keyof SchedulerStats];

/** Our field and the native family that carries it. */
export const DIAG_FAMILIES: readonly (readonly [NumericField, string])[] = [
  ['serverThreadCount', 'slurm_server_thread_cnt'],
  ['agentQueueSize', 'slurm_agent_queue_size'],
  ['agentCount', 'slurm_agent_cnt'],
  ['agentThreadCount', 'slurm_agent_thread_cnt'],
  ['dbdAgentQueueSize', 'slurm_slurmdbd_queue_size'],
  ['jobsSubmitted', 'slurm_sdiag_jobs_submitted'],
  ['jobsStarted', 'slurm_sdiag_jobs_started'],
  ['jobsCompleted', 'slurm_sdiag_jobs_completed'],
  ['jobsCanceled', 'slurm_sdiag_jobs_canceled'],
  ['jobsFailed', 'slurm_sdiag_jobs_failed'],
  ['jobsPending', 'slurm_sdiag_jobs_pending'],
  ['jobsRunning', 'slurm_sdiag_jobs_running'],
  ['scheduleCycleLastSeconds', 'slurm_schedule_cycle_last'],
  ['scheduleCycleMaxSeconds', 'slurm_schedule_cycle_max'],
  ['scheduleCycleMeanSeconds', 'slurm_sched_mean_cycle'],
  ['scheduleCycleTotal', 'slurm_schedule_cycle_cnt'],
  ['scheduleCycleDepthMean', 'slurm_sched_mean_depth_cycle'],
  ['scheduleQueueLength', 'slurm_schedule_queue_len'],
  ['backfillJobsTotal', 'slurm_backfilled_jobs'],
  ['backfillJobsSinceReset', 'slurm_last_backfilled_jobs'],
  ['backfillHeterogeneousJobsTotal', 'slurm_backfilled_het_jobs'],
  ['backfillCycleTotal', 'slurm_bf_cycle_cnt'],
  ['backfillCycleLastSeconds', 'slurm_bf_cycle_last'],
  ['backfillCycleMaxSeconds', 'slurm_bf_cycle_max'],
  ['backfillCycleMeanSeconds', 'slurm_bf_mean_cycle'],
  ['backfillLastDepth', 'slurm_bf_last_depth'],
  ['backfillLastDepthTry', 'slurm_bf_last_depth_try'],
  ['backfillDepthMean', 'slurm_bf_depth_mean'],
  ['backfillQueueLength', 'slurm_bf_queue_len'],
  ['backfillQueueLengthMean', 'slurm_bf_queue_len_mean'],
  ['backfillTableSize', 'slurm_bf_table_size'],
  ['backfillTableSizeMean', 'slurm_bf_mean_table_sz'],
  ['backfillLastCycleTime', 'slurm_bf_when_last_cycle'],
  ['statsResetTime', 'slurm_last_proc_req_start'],
];

/** Whether a backfill cycle runs now: slurm_bf_active, 0 or 1. */
export const BF_ACTIVE = 'slurm_bf_active';

/** Times Slurm leaves at 0 when the event has not happened yet (no backfill cycle since slurmctld started). */
const ZERO_IS_NEVER: ReadonlySet<NumericField> = new Set(['backfillLastCycleTime', 'statsResetTime']);

function emptyStats(): SchedulerStats {
  const s = Object.fromEntries(DIAG_FAMILIES.map(([field]) => [field, undefined])) as unknown as SchedulerStats;
  return { ...s, scheduleCyclePerMinute: undefined, backfillActive: undefined, rpcByType: [], rpcByUser: [] };
}

/** The one value of an unlabelled family, undefined when absent or not a finite number. */
function scalar(byName: ReadonlyMap<string, NativeFamily>, name: string): number | undefined {
  const v = byName.get(name)?.samples[0]?.value;
  return v === undefined || !Number.isFinite(v) ? undefined : v;
}

export function schedulerStats(families: readonly NativeFamily[]): SchedulerStats {
  const byName = new Map(families.map((f) => [f.name, f]));
  const s = emptyStats();
  for (const [field, name] of DIAG_FAMILIES) {
    const v = scalar(byName, name);
    s[field] = ZERO_IS_NEVER.has(field) && v === 0 ? undefined : v;
  }
  const active = scalar(byName, BF_ACTIVE);
  s.backfillActive = active === undefined ? undefined : active !== 0;
  return s;
}
