// Running and pending jobs and what they hold or ask for (CPUs, memory, GPUs) by user, by account and by QOS,
// read from the same /jobs snapshot as the jobs collector, so it costs no request of its own. A site can have
// thousands of users: users and accounts beyond limits.maxUsers / maxAccounts are summed under "other" so the
// page stays bounded while the sums still add up to the cluster figures.
import type { Collector, CollectContext } from './collector.ts';
import type { CardinalityLimits } from '../config/types.ts';
import type { MetricDesc, MetricFamily } from '../exposition/types.ts';
import type { SlurmJob } from '../slurm/model.ts';
import { OTHER } from './labels.ts';

/** What one user's (account's, QOS's) running and pending jobs hold or ask for. */
export interface Usage {
  running: number;
  pending: number;
  cpusAllocated: number;
  cpusPending: number;
  memoryAllocated: number;
  memoryPending: number;
  gpusAllocated: number;
  gpusPending: number;
}

function emptyUsage(): Usage {
  return { running: 0, pending: 0, cpusAllocated: 0, cpusPending: 0, memoryAllocated: 0, memoryPending: 0, gpusAllocated: 0, gpusPending: 0 };
}

function addUsage(into: Usage, u: Usage): void {
  for (const k of Object.keys(into) as (keyof Usage)[]) into[k] += u[k];
}

function addJob(u: Usage, j: SlurmJob): void {
  if (j.state === 'running') {
    u.running++;
    u.cpusAllocated += j.cpus;
    u.memoryAllocated += j.memoryBytes;
    u.gpusAllocated += j.gpus;
  } else {
    u.pending++;
    u.cpusPending += j.cpus;
    u.memoryPending += j.memoryBytes;
    u.gpusPending += j.gpus;
  }
}

/** Only running and pending jobs count: finished records kept for MinJobAge hold nothing. */
export function isActive(j: SlurmJob): boolean {
  return j.state === 'running' || j.state === 'pending';
}

/** Usage of running and pending jobs per key (user name, account, QOS), in first-seen order. */
export function usageBy(jobs: readonly SlurmJob[], keyOf: (j: SlurmJob) => string): Map<string, Usage> {
  const m = new Map<string, Usage>();
  for (const j of jobs) {
    if (!isActive(j)) continue;
    const k = keyOf(j);
    let u = m.get(k);
    if (!u) m.set(k, (u = emptyUsage()));
    addJob(u, j);
  }
  return m;
}

/** Largest first: allocated CPUs, then pending CPUs, then name, so the choice is stable between renders. */
function byWeight([a, ua]: [string, Usage], [b, ub]: [string, Usage]): number {
  return ub.cpusAllocated - ua.cpusAllocated || ub.cpusPending - ua.cpusPending || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Keeps the `limit` keys with the most allocated CPUs (ties: pending CPUs, then name) and maps every other
 * key to "other". `limit` undefined keeps all. The gpus collector folds users and accounts with the same rule.
 */
export function keepLargest(usage: ReadonlyMap<string, Usage>, limit: number | undefined): { map: (key: string) => string; folded: number } {
  if (limit === undefined || usage.size <= limit) return { map: (k) => k, folded: 0 };
  const keep = new Set([...usage].sort(byWeight).slice(0, Math.max(0, limit)).map(([k]) => k));
  return { map: (k) => (keep.has(k) ? k : OTHER), folded: usage.size - keep.size };
}

function fold(usage: ReadonlyMap<string, Usage>, map: (key: string) => string): Map<string, Usage> {
  const out = new Map<string, Usage>();
  for (const [k, u] of usage) {
    const to = map(k);
    let acc = out.get(to);
    if (!acc) out.set(to, (acc = emptyUsage()));
    addUsage(acc, u);
  }
  return out;
}

/** One breakdown: by user, by account or by QOS. */
interface Breakdown {
  label: 'user' | 'account' | 'qos';
  /** Metric name prefix: slurm_user, slurm_account, slurm_qos. */
  prefix: string;
  /** "user", "account", "QOS": how help texts name the key. */
  what: string;
  source: string;
  keyOf(j: SlurmJob): string;
  on(l: CardinalityLimits): boolean;
  /** Most keys kept as label values; undefined keeps all (QOS are few and defined by the administrator). */
  limit(l: CardinalityLimits): number | undefined;
  folded?: MetricDesc;
}

const RECORDS = 'Only running and pending jobs count; a pending job array whose tasks have not started is one record and counts once.';

function foldNote(b: Breakdown, limitName: string): string {
  return `At most limits.${limitName} ${b.what}s are kept, those with the most allocated CPUs (then pending CPUs, then name); the rest are summed under ${b.label}="${OTHER}" (a real ${b.what} named "${OTHER}" is summed with them), so the values still add up to the cluster figures.`;
}

interface Field {
  suffix: string;
  help: string;
  source: string;
  value(u: Usage): number;
}

const FIELDS: readonly Field[] = [
  { suffix: '_jobs_cpus_allocated', help: 'CPUs allocated to the running jobs of the', source: 'jobs[].cpus of running jobs', value: (u) => u.cpusAllocated },
  { suffix: '_jobs_pending_cpus', help: 'CPUs requested by the pending jobs of the', source: 'jobs[].cpus of pending jobs', value: (u) => u.cpusPending },
  { suffix: '_jobs_memory_allocated_bytes', help: 'Memory allocated to the running jobs of the', source: 'allocated TRES mem of running jobs (MB, converted)', value: (u) => u.memoryAllocated },
  { suffix: '_jobs_pending_memory_bytes', help: 'Memory requested by the pending jobs of the', source: 'requested TRES mem of pending jobs (MB, converted)', value: (u) => u.memoryPending },
  { suffix: '_jobs_gpus_allocated', help: 'GPUs allocated to the running jobs of the', source: 'allocated TRES gres/gpu of running jobs', value: (u) => u.gpusAllocated },
  { suffix: '_jobs_pending_gpus', help: 'GPUs requested by the pending jobs of the', source: 'GPUs requested by pending jobs (TRES, --gpus, --gpus-per-node, --gres)', value: (u) => u.gpusPending },
];

function jobsDesc(b: Breakdown, note: string): MetricDesc {
  return {
    name: `${b.prefix}_jobs`,
    type: 'gauge',
    help: `Running and pending jobs by ${b.what} and state (running or pending). ${RECORDS} ${note}`,
    labels: ['cluster', b.label, 'state'],
    source: `jobs: ${b.source}, jobs[].job_state`,
  };
}

function fieldDesc(b: Breakdown, f: Field, note: string): MetricDesc {
  const unit = f.suffix.endsWith('_bytes') ? ', bytes' : '';
  return { name: b.prefix + f.suffix, type: 'gauge', help: `${f.help} ${b.what}${unit}. ${note}`.trim(), labels: ['cluster', b.label], source: `jobs: ${f.source}, by ${b.source}` };
}

function foldedDesc(name: string, what: string, limitName: string): MetricDesc {
  return {
    name,
    type: 'gauge',
    help: `${what} with running or pending jobs that were summed under "${OTHER}" because there were more than limits.${limitName}; 0 when none were.`,
    labels: ['cluster'],
    source: `jobs: distinct ${what.toLowerCase()} of running and pending jobs beyond limits.${limitName}`,
  };
}

const USER: Breakdown = {
  label: 'user',
  prefix: 'slurm_user',
  what: 'user',
  source: 'jobs[].user_name',
  keyOf: (j) => j.user,
  on: (l) => l.perUser,
  limit: (l) => l.maxUsers,
  folded: foldedDesc('slurm_users_folded', 'Users', 'maxUsers'),
};
const ACCOUNT: Breakdown = {
  label: 'account',
  prefix: 'slurm_account',
  what: 'account',
  source: 'jobs[].account',
  keyOf: (j) => j.account,
  on: (l) => l.perAccount,
  limit: (l) => l.maxAccounts,
  folded: foldedDesc('slurm_accounts_folded', 'Accounts', 'maxAccounts'),
};
const QOS: Breakdown = {
  label: 'qos',
  prefix: 'slurm_qos',
  what: 'QOS',
  source: 'jobs[].qos',
  keyOf: (j) => j.qos,
  on: (l) => l.perQos,
  limit: () => undefined,
};
const BREAKDOWNS: readonly Breakdown[] = [USER, ACCOUNT, QOS];

const NOTES: Record<Breakdown['label'], string> = {
  user: `${foldNote(USER, 'maxUsers')} Only when limits.perUser is on.`,
  account: `${foldNote(ACCOUNT, 'maxAccounts')} Only when limits.perAccount is on.`,
  qos: 'Every QOS is kept. Only when limits.perQos is on.',
};

/** The descriptors of one breakdown, in output order. */
function descsOf(b: Breakdown): { jobs: MetricDesc; fields: MetricDesc[]; folded: MetricDesc | undefined } {
  const note = NOTES[b.label];
  return { jobs: jobsDesc(b, note), fields: FIELDS.map((f) => fieldDesc(b, f, note)), folded: b.folded };
}

const DESCS = new Map(BREAKDOWNS.map((b) => [b.label, descsOf(b)]));

function render(b: Breakdown, c: string, jobs: readonly SlurmJob[], limits: CardinalityLimits): MetricFamily[] {
  const d = DESCS.get(b.label)!;
  const usage = usageBy(jobs, b.keyOf);
  const { map, folded } = keepLargest(usage, b.limit(limits));
  const rows = [...fold(usage, map)];
  const out: MetricFamily[] = [
    {
      desc: d.jobs,
      samples: rows.flatMap(([k, u]) => [
        { values: [c, k, 'running'], value: u.running },
        { values: [c, k, 'pending'], value: u.pending },
      ]),
    },
    ...FIELDS.map((f, i) => ({ desc: d.fields[i]!, samples: rows.map(([k, u]) => ({ values: [c, k], value: f.value(u) })) })),
  ];
  if (d.folded) out.push({ desc: d.folded, samples: [{ values: [c], value: folded }] });
  return out;
}

export const usersCollector: Collector = {
  name: 'users',
  description: 'Running and pending jobs, allocated and requested CPUs, memory and GPUs by user, by account and by QOS (each switched by limits.perUser, perAccount, perQos; users and accounts bounded by limits.maxUsers, maxAccounts).',
  group: 'jobs',
  needs: ['jobs'],
  metrics: BREAKDOWNS.flatMap((b) => {
    const d = DESCS.get(b.label)!;
    return [d.jobs, ...d.fields, ...(d.folded ? [d.folded] : [])];
  }),
  collect(ctx: CollectContext): MetricFamily[] {
    const jobs = ctx.data.jobs;
    if (!jobs) return [];
    return BREAKDOWNS.filter((b) => b.on(ctx.limits)).flatMap((b) => render(b, ctx.cluster, jobs, ctx.limits));
  },
};
