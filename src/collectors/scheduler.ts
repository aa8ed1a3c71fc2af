// slurmctld scheduler statistics from /diag (sdiag), in base units. Slurm's monotonically growing figures
// are counters: they drop to 0 when the statistics are reset (midnight by default, or sdiag --reset),
// which rate() and increase() treat as a counter reset.
import type { Collector, CollectContext } from './collector.ts';
import type { MetricDesc, MetricFamily, MetricType } from '../exposition/types.ts';
import type { SchedulerStats } from '../slurm/model.ts';
import { topN } from './labels.ts';

/** Users kept as label values in the per-user RPC figures; the rest are summed under user="other". */
export const MAX_RPC_USERS = 50;

type NumericField = {
  [K in keyof SchedulerStats]: SchedulerStats[K] extends number | undefined ? K : never;
}[keyof SchedulerStats];

interface Scalar {
  field: NumericField | 'backfillActive';
  desc: MetricDesc;
}

const RESET = ' Resets to 0 when Slurm resets its statistics (see slurm_scheduler_stats_reset_timestamp_seconds).';

function scalar(field: Scalar['field'], name: string, type: MetricType, help: string, source: string): Scalar {
  return { field, desc: { name, type, help: type === 'counter' && !help.includes('since slurmctld started') ? help + RESET : help, labels: ['cluster'], source: 'diag: statistics.' + source } };
}

const SCALARS: readonly Scalar[] = [
  scalar('serverThreadCount', 'slurm_scheduler_server_threads', 'gauge', 'slurmctld threads serving RPCs now.', 'server_thread_count'),
  scalar('agentQueueSize', 'slurm_scheduler_agent_queue_size', 'gauge', 'Outgoing RPCs (to slurmd) queued in slurmctld\'s agent.', 'agent_queue_size'),
  scalar('agentCount', 'slurm_scheduler_agents', 'gauge', 'slurmctld agents running now.', 'agent_count'),
  scalar('agentThreadCount', 'slurm_scheduler_agent_threads', 'gauge', 'Threads used by slurmctld\'s agents now.', 'agent_thread_count'),
  scalar('dbdAgentQueueSize', 'slurm_scheduler_dbd_agent_queue_size', 'gauge', 'Messages queued for slurmdbd; growth means accounting is not keeping up.', 'dbd_agent_queue_size'),
  scalar('jobsSubmitted', 'slurm_scheduler_jobs_submitted_total', 'counter', 'Jobs submitted.', 'jobs_submitted'),
  scalar('jobsStarted', 'slurm_scheduler_jobs_started_total', 'counter', 'Jobs started.', 'jobs_started'),
  scalar('jobsCompleted', 'slurm_scheduler_jobs_completed_total', 'counter', 'Jobs completed.', 'jobs_completed'),
  scalar('jobsCanceled', 'slurm_scheduler_jobs_canceled_total', 'counter', 'Jobs canceled.', 'jobs_canceled'),
  scalar('jobsFailed', 'slurm_scheduler_jobs_failed_total', 'counter', 'Jobs failed.', 'jobs_failed'),
  scalar('jobsPending', 'slurm_scheduler_jobs_pending', 'gauge', 'Pending jobs as slurmctld counted them for the statistics.', 'jobs_pending'),
  scalar('jobsRunning', 'slurm_scheduler_jobs_running', 'gauge', 'Running jobs as slurmctld counted them for the statistics.', 'jobs_running'),
  scalar('scheduleCycleTotal', 'slurm_scheduler_cycles_total', 'counter', 'Main scheduler cycles run.', 'schedule_cycle_total'),
  scalar('scheduleCycleLastSeconds', 'slurm_scheduler_cycle_last_seconds', 'gauge', 'Duration of the last main scheduler cycle, seconds.', 'schedule_cycle_last (microseconds, converted)'),
  scalar('scheduleCycleMaxSeconds', 'slurm_scheduler_cycle_max_seconds', 'gauge', 'Longest main scheduler cycle since the statistics reset, seconds.', 'schedule_cycle_max (microseconds, converted)'),
  scalar('scheduleCycleMeanSeconds', 'slurm_scheduler_cycle_mean_seconds', 'gauge', 'Mean main scheduler cycle since the statistics reset, seconds.', 'schedule_cycle_mean (microseconds, converted)'),
  scalar('scheduleCycleDepthMean', 'slurm_scheduler_cycle_depth_mean', 'gauge', 'Mean number of jobs the main scheduler looked at per cycle.', 'schedule_cycle_mean_depth'),
  scalar('scheduleCyclePerMinute', 'slurm_scheduler_cycles_per_minute', 'gauge', 'Main scheduler cycles per minute.', 'schedule_cycle_per_minute'),
  scalar('scheduleQueueLength', 'slurm_scheduler_queue_length', 'gauge', 'Jobs in the main scheduler\'s queue at the last cycle.', 'schedule_queue_length'),
  scalar('backfillActive', 'slurm_backfill_active', 'gauge', 'Whether a backfill cycle is running now (1) or not (0).', 'bf_active'),
  scalar('backfillJobsTotal', 'slurm_backfill_jobs_total', 'counter', 'Jobs started by the backfill scheduler since slurmctld started.', 'bf_backfilled_jobs'),
  scalar('backfillJobsSinceReset', 'slurm_backfill_jobs_since_reset_total', 'counter', 'Jobs started by the backfill scheduler since the statistics reset.', 'bf_last_backfilled_jobs'),
  scalar('backfillHeterogeneousJobsTotal', 'slurm_backfill_het_jobs_total', 'counter', 'Heterogeneous job components started by the backfill scheduler since slurmctld started.', 'bf_backfilled_het_jobs'),
  scalar('backfillCycleTotal', 'slurm_backfill_cycles_total', 'counter', 'Backfill scheduler cycles run.', 'bf_cycle_counter'),
  scalar('backfillCycleLastSeconds', 'slurm_backfill_cycle_last_seconds', 'gauge', 'Duration of the last backfill cycle, seconds.', 'bf_cycle_last (microseconds, converted)'),
  scalar('backfillCycleMaxSeconds', 'slurm_backfill_cycle_max_seconds', 'gauge', 'Longest backfill cycle since the statistics reset, seconds.', 'bf_cycle_max (microseconds, converted)'),
  scalar('backfillCycleMeanSeconds', 'slurm_backfill_cycle_mean_seconds', 'gauge', 'Mean backfill cycle since the statistics reset, seconds.', 'bf_cycle_mean (microseconds, converted)'),
  scalar('backfillLastDepth', 'slurm_backfill_last_depth', 'gauge', 'Jobs the last backfill cycle considered.', 'bf_last_depth'),
  scalar('backfillLastDepthTry', 'slurm_backfill_last_depth_try', 'gauge', 'Jobs the last backfill cycle tried to start (had resources for).', 'bf_last_depth_try'),
  scalar('backfillDepthMean', 'slurm_backfill_depth_mean', 'gauge', 'Mean number of jobs a backfill cycle considered.', 'bf_depth_mean'),
  scalar('backfillQueueLength', 'slurm_backfill_queue_length', 'gauge', 'Jobs in the backfill queue at the last cycle.', 'bf_queue_len'),
  scalar('backfillQueueLengthMean', 'slurm_backfill_queue_length_mean', 'gauge', 'Mean backfill queue length.', 'bf_queue_len_mean'),
  scalar('backfillTableSize', 'slurm_backfill_table_size', 'gauge', 'Time slots in the backfill table at the last cycle.', 'bf_table_size'),
  scalar('backfillTableSizeMean', 'slurm_backfill_table_size_mean', 'gauge', 'Mean size of the backfill table.', 'bf_table_size_mean'),
  scalar('backfillLastCycleTime', 'slurm_backfill_last_cycle_timestamp_seconds', 'gauge', 'When the last backfill cycle ran, unix seconds; absent before the first.', 'bf_when_last_cycle'),
  scalar('statsResetTime', 'slurm_scheduler_stats_reset_timestamp_seconds', 'gauge', 'When slurmctld last reset these statistics, unix seconds.', 'req_time_start'),
];

const RPC_CALLS: MetricDesc = {
  name: 'slurm_rpc_calls_total',
  type: 'counter',
  help: 'RPCs slurmctld has served, by message type.' + RESET,
  labels: ['cluster', 'rpc'],
  source: 'diag: statistics.rpcs_by_message_type[].message_type, .count',
};
const RPC_TIME: MetricDesc = {
  name: 'slurm_rpc_duration_seconds_total',
  type: 'counter',
  help: 'Time slurmctld spent serving RPCs, by message type, seconds; divide its rate by slurm_rpc_calls_total\'s for the mean.' + RESET,
  labels: ['cluster', 'rpc'],
  source: 'diag: statistics.rpcs_by_message_type[].total_time (microseconds, converted)',
};
const USER_NOTE = `At most ${MAX_RPC_USERS} users (those with the most RPCs) keep their name; the rest are summed under user="other". When a user moves in or out of the top set, "other" can drop, which rate() reads as a reset.`;
const RPC_USER_CALLS: MetricDesc = {
  name: 'slurm_rpc_user_calls_total',
  type: 'counter',
  help: `RPCs slurmctld has served, by the user who sent them. ${USER_NOTE}` + RESET,
  labels: ['cluster', 'user'],
  source: 'diag: statistics.rpcs_by_user[].user, .count',
};
const RPC_USER_TIME: MetricDesc = {
  name: 'slurm_rpc_user_duration_seconds_total',
  type: 'counter',
  help: `Time slurmctld spent serving RPCs, by the user who sent them, seconds. ${USER_NOTE}` + RESET,
  labels: ['cluster', 'user'],
  source: 'diag: statistics.rpcs_by_user[].total_time (microseconds, converted)',
};
const RPC_USERS_FOLDED: MetricDesc = {
  name: 'slurm_rpc_users_folded',
  type: 'gauge',
  help: `Users whose RPC figures were summed under user="other" because more than ${MAX_RPC_USERS} users sent RPCs.`,
  labels: ['cluster'],
  source: 'diag: statistics.rpcs_by_user[] (count of distinct users beyond the limit)',
};

export const schedulerCollector: Collector = {
  name: 'scheduler',
  description: 'slurmctld scheduler, backfill, agent and RPC statistics from /diag (sdiag).',
  group: 'scheduler',
  needs: ['diag'],
  metrics: [...SCALARS.map((s) => s.desc), RPC_CALLS, RPC_TIME, RPC_USER_CALLS, RPC_USER_TIME, RPC_USERS_FOLDED],
  collect(ctx: CollectContext): MetricFamily[] {
    const d = ctx.data.diag;
    if (!d) return [];
    const c = ctx.cluster;
    const out: MetricFamily[] = [];
    for (const s of SCALARS) {
      const raw = d[s.field];
      if (raw === undefined) continue;
      const value = typeof raw === 'boolean' ? (raw ? 1 : 0) : raw;
      out.push({ desc: s.desc, samples: [{ values: [c], value }] });
    }

    const calls: MetricFamily = { desc: RPC_CALLS, samples: [] };
    const time: MetricFamily = { desc: RPC_TIME, samples: [] };
    const typeSeen = new Map<string, number>();
    for (const r of d.rpcByType) {
      // Slurm lists each type once; merge duplicates anyway so the page never holds a series twice.
      const i = typeSeen.get(r.name);
      if (i !== undefined) {
        (calls.samples[i] as { value: number }).value += r.count;
        (time.samples[i] as { value: number }).value += r.totalTimeSeconds;
        continue;
      }
      typeSeen.set(r.name, calls.samples.length);
      calls.samples.push({ values: [c, r.name], value: r.count });
      time.samples.push({ values: [c, r.name], value: r.totalTimeSeconds });
    }
    out.push(calls, time);

    const weights = new Map<string, number>();
    for (const u of d.rpcByUser) weights.set(u.user, (weights.get(u.user) ?? 0) + u.count);
    const { map, folded } = topN(weights, MAX_RPC_USERS);
    const userCalls = new Map<string, number>();
    const userTime = new Map<string, number>();
    for (const u of d.rpcByUser) {
      const k = map(u.user);
      userCalls.set(k, (userCalls.get(k) ?? 0) + u.count);
      userTime.set(k, (userTime.get(k) ?? 0) + u.totalTimeSeconds);
    }
    out.push(
      { desc: RPC_USER_CALLS, samples: [...userCalls].map(([u, v]) => ({ values: [c, u], value: v })) },
      { desc: RPC_USER_TIME, samples: [...userTime].map(([u, v]) => ({ values: [c, u], value: v })) },
      { desc: RPC_USERS_FOLDED, samples: [{ values: [c], value: folded }] },
    );
    return out;
  },
};
