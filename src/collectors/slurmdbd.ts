// slurmdbd's RPC statistics (sacctmgr show stats). slurmdbd serves every cluster it stores, so these are the
// daemon's figures, not this cluster's alone. They grow until slurmdbd restarts or `sacctmgr clear stats`,
// which rate() reads as a counter reset.
import type { Collector, CollectContext } from './collector.ts';
import type { MetricDesc, MetricFamily, MetricType } from '../exposition/types.ts';
import { topN } from './labels.ts';

const SRC = 'slurmdb_diag: statistics';
const RESET = ' Resets to 0 when slurmdbd restarts or sacctmgr clear stats runs (see slurm_slurmdbd_stats_reset_timestamp_seconds).';

function metric(name: string, type: MetricType, help: string, labels: readonly string[], source: string): MetricDesc {
  return { name, type, help: type === 'counter' ? help + RESET : help, labels, source: `${SRC}.${source}` };
}

const USER_NOTE = 'Users beyond limits.maxUsers (those with the fewest RPCs) are summed under user="other"; when a user moves in or out of the kept set, "other" can drop, which rate() reads as a reset.';

const CALLS = metric('slurm_slurmdbd_rpc_calls_total', 'counter', 'RPCs slurmdbd has served, by type (DBD_GET_JOBS_COND, DBD_JOB_START, ...).', ['cluster', 'rpc'], 'RPCs[].rpc, .count');
const TIME = metric(
  'slurm_slurmdbd_rpc_duration_seconds_total',
  'counter',
  "Time slurmdbd spent serving RPCs, by type, seconds; divide its rate by slurm_slurmdbd_rpc_calls_total's for the mean.",
  ['cluster', 'rpc'],
  'RPCs[].time.total (microseconds, converted)',
);
const USER_CALLS = metric('slurm_slurmdbd_rpc_user_calls_total', 'counter', `RPCs slurmdbd has served, by the user who sent them (slurmctld's come as SlurmUser). ${USER_NOTE}`, ['cluster', 'user'], 'users[].user, .count');
const USER_TIME = metric('slurm_slurmdbd_rpc_user_duration_seconds_total', 'counter', `Time slurmdbd spent serving RPCs, by the user who sent them, seconds. ${USER_NOTE}`, ['cluster', 'user'], 'users[].time.total (microseconds, converted)');
const USERS_FOLDED = metric('slurm_slurmdbd_rpc_users_folded', 'gauge', 'Users whose slurmdbd RPC figures were summed under user="other" because more users than limits.maxUsers sent RPCs.', ['cluster'], 'users[] (distinct users beyond the limit)');
const RESET_TIME = metric('slurm_slurmdbd_stats_reset_timestamp_seconds', 'gauge', 'When slurmdbd started collecting these statistics (slurmdbd start or the last sacctmgr clear stats), unix seconds.', ['cluster'], 'time_start');

/** Sums count and time per key, keeping first-seen order, so a repeated or folded key is one series. */
function sumBy<T extends { count: number; totalTimeSeconds: number }>(rows: readonly T[], key: (r: T) => string): Map<string, { count: number; time: number }> {
  const m = new Map<string, { count: number; time: number }>();
  for (const r of rows) {
    const k = key(r);
    const cur = m.get(k);
    if (cur) {
      cur.count += r.count;
      cur.time += r.totalTimeSeconds;
    } else m.set(k, { count: r.count, time: r.totalTimeSeconds });
  }
  return m;
}

function pair(c: string, sums: Map<string, { count: number; time: number }>, calls: MetricDesc, time: MetricDesc): MetricFamily[] {
  const entries = [...sums];
  return [
    { desc: calls, samples: entries.map(([k, v]) => ({ values: [c, k], value: v.count })) },
    { desc: time, samples: entries.map(([k, v]) => ({ values: [c, k], value: v.time })) },
  ];
}

export const slurmdbdCollector: Collector = {
  name: 'slurmdbd',
  description: 'slurmdbd RPC statistics from /slurmdb/diag (sacctmgr show stats): RPC counts and time by type and by user.',
  group: 'slurmdbd',
  needs: ['dbdiag'],
  metrics: [CALLS, TIME, USER_CALLS, USER_TIME, USERS_FOLDED, RESET_TIME],
  collect(ctx: CollectContext): MetricFamily[] {
    const d = ctx.data.dbdiag;
    if (!d) return [];
    const c = ctx.cluster;
    const weights = new Map<string, number>();
    for (const u of d.rpcByUser) weights.set(u.user, (weights.get(u.user) ?? 0) + u.count);
    const { map, folded } = topN(weights, ctx.limits.maxUsers);
    const out = [
      ...pair(c, sumBy(d.rpcByType, (r) => r.name), CALLS, TIME),
      ...pair(c, sumBy(d.rpcByUser, (u) => map(u.user)), USER_CALLS, USER_TIME),
      { desc: USERS_FOLDED, samples: [{ values: [c], value: folded }] },
    ];
    if (d.statsResetTime !== undefined) out.push({ desc: RESET_TIME, samples: [{ values: [c], value: d.statsResetTime }] });
    return out;
  },
};
