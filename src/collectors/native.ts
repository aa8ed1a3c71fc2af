// slurmctld's own metrics (Slurm 25.11+, MetricsType=metrics/openmetrics), re-exposed for what our own
// collectors do not already give: every family without an equivalent of ours (docs/native-metrics.md) comes out
// as slurm_native_<name>, in base units (slurmctld's megabytes as bytes, microseconds as seconds), with the
// cluster label first and our cardinality limits. A family a newer Slurm adds passes through under the same
// prefix with a generic help and is counted once as an anomaly, so nothing slurmctld serves is lost silently.
import type { Collector, CollectContext, CardinalityLimits } from './collector.ts';
import type { MetricDesc, MetricFamily, Sample } from '../exposition/types.ts';
import type { NativeEndpoint, NativeFamily, NativeUnit } from '../slurm/model.ts';
import { NATIVE_FAMILIES, type NativeFamilyInfo } from '../slurm/native/catalog.ts';
import { unitOf } from '../slurm/native/units.ts';
import { Acc, OTHER, topN } from './labels.ts';

const ENDPOINT_ORDER: readonly NativeEndpoint[] = ['nodes', 'partitions', 'jobs', 'jobs-users-accts', 'scheduler'];

/** Our name for a native family: prefix slurm_native_, unit suffix for what was converted, _total for counters. */
export function nativeName(name: string, unit: NativeUnit, type = 'gauge'): string {
  let base = name.replace(/^slurm_/, '').replaceAll(':', '_');
  if (unit === 'bytes') base = base.replace(/_bytes$/, '') + '_bytes';
  else if (unit === 'seconds') base += '_seconds';
  else if (unit === 'timestamp') base = base.replace(/_(ts|timestamp)$/, '') + '_timestamp_seconds';
  if (type === 'counter' && !base.endsWith('_total')) base += '_total';
  return `slurm_native_${base}`;
}

/** Label names of a family slurmctld 25.11 serves, from its name (they are fixed per family). */
function labelsOf(info: NativeFamilyInfo): string[] {
  if (/^slurm_node_/.test(info.name)) return ['node'];
  if (/^slurm_partition_/.test(info.name)) return ['partition'];
  if (/^slurm_user_/.test(info.name)) return ['username'];
  if (/^slurm_account_/.test(info.name)) return ['account'];
  return [];
}

type Scope = 'node' | 'user' | 'account' | 'cluster';

function scopeOf(labels: readonly string[]): Scope {
  if (labels.includes('node')) return 'node';
  if (labels.includes('username') || labels.includes('user')) return 'user';
  if (labels.includes('account')) return 'account';
  return 'cluster';
}

const UNIT_TEXT: Record<NativeUnit, string> = {
  bytes: ' In bytes: slurmctld writes megabytes (whatever the name says); converted.',
  seconds: ' In seconds: slurmctld writes microseconds; converted.',
  timestamp: ' Unix seconds.',
  '': '',
};

const FOLD_TEXT = (what: string, limit: string, label: string) =>
  `At most limits.${limit} ${what}s are kept, those with the most allocated CPUs (slurmctld's ${what} cpus_alloc, then name); the rest are summed under ${label}="${OTHER}".`;

const SCOPE_NOTE: Record<Scope, string | undefined> = {
  node: 'Per node: only when limits.perNode is on.',
  user: `Per user: only when limits.perUser is on. ${FOLD_TEXT('user', 'maxUsers', 'username')}`,
  account: `Per account: only when limits.perAccount is on. ${FOLD_TEXT('account', 'maxAccounts', 'account')}`,
  cluster: undefined,
};

function sentence(text: string): string {
  const t = text.trim();
  return t === '' ? t : /[.!?]$/.test(t) ? t : `${t}.`;
}

function declared(info: NativeFamilyInfo): MetricDesc {
  const { unit } = unitOf(info.name);
  const labels = labelsOf(info);
  const note = SCOPE_NOTE[scopeOf(labels)];
  const desc: MetricDesc = {
    name: nativeName(info.name, unit),
    type: 'gauge',
    help: `${sentence(info.help)}${UNIT_TEXT[unit]}`,
    labels: ['cluster', ...labels],
    source: `slurmctld /metrics/${info.endpoint}: ${info.name}`,
  };
  return note ? { ...desc, note } : desc;
}

/** The families slurmctld 25.11 serves that no collector of ours covers, by native name. */
const PASSED = new Map(NATIVE_FAMILIES.filter((f) => f.ours === undefined).map((f) => [f.name, declared(f)]));
/**
 * The ones our collectors cover: not re-exposed beside slurmrestd or the CLI. With the native source alone they
 * are, except the scheduler's, which the scheduler collector reads through the diag kind either way.
 */
const COVERED = new Map(NATIVE_FAMILIES.filter((f) => f.ours !== undefined).map((f) => [f.name, declared(f)]));
const ALONE_NOTE = 'Only with slurm.source native (beside slurmrestd or the CLI our own collectors cover it).';
const ALONE_ONLY = new Map(
  [...COVERED].filter(([, d]) => !d.source.startsWith('slurmctld /metrics/scheduler')).map(([n, d]) => [n, { ...d, note: [d.note, ALONE_NOTE].filter(Boolean).join(' ') }]),
);

function foldedDesc(what: string, limit: string, label: string): MetricDesc {
  return {
    name: `slurm_native_${what}s_folded`,
    type: 'gauge',
    help: `${what[0]!.toUpperCase()}${what.slice(1)}s in slurmctld's /metrics/jobs-users-accts summed under ${label}="${OTHER}" because there were more than limits.${limit}; 0 when none were.`,
    labels: ['cluster'],
    source: `slurmctld /metrics/jobs-users-accts: distinct ${label} values beyond limits.${limit}`,
  };
}

const USERS_FOLDED = foldedDesc('user', 'maxUsers', 'username');
const ACCOUNTS_FOLDED = foldedDesc('account', 'maxAccounts', 'account');

/** Label names of a family as served, first seen first; slurmctld's own `cluster` would clash with ours. */
function servedLabels(f: NativeFamily): string[] {
  const names = new Set<string>();
  for (const s of f.samples) for (const k of Object.keys(s.labels)) names.add(k === 'cluster' ? 'exported_cluster' : k);
  return [...names];
}

/** A family a newer Slurm added (or one whose labels changed): passed through with a generic help, noted once. */
function passThrough(f: NativeFamily, e: NativeEndpoint, labels: string[], ctx: CollectContext): MetricDesc {
  ctx.anomaly(`native family ${f.name} (/metrics/${e}) not in Slurm 25.11's set: passed through`);
  const help = sentence(f.help || 'No help given by slurmctld');
  return {
    name: nativeName(f.name, f.unit, f.type),
    type: f.type === 'counter' ? 'counter' : 'gauge',
    help: `${help} Passed through from slurmctld /metrics/${e}, a family this exporter does not know yet.${UNIT_TEXT[f.unit]}`,
    labels: ['cluster', ...labels],
    source: `slurmctld /metrics/${e}: ${f.name}`,
  };
}

function descFor(f: NativeFamily, e: NativeEndpoint, ctx: CollectContext): MetricDesc {
  const labels = servedLabels(f);
  const known = PASSED.get(f.name) ?? ALONE_ONLY.get(f.name);
  const same = known && labels.every((l) => known.labels.includes(l));
  return known && same ? known : passThrough(f, e, labels, ctx);
}

function wanted(scope: Scope, l: CardinalityLimits): boolean {
  if (scope === 'node') return l.perNode;
  if (scope === 'user') return l.perUser;
  if (scope === 'account') return l.perAccount;
  return true;
}

/** Keeps the `limit` label values with the most allocated CPUs, as the users collector does; the rest become "other". */
function folding(families: readonly NativeFamily[], label: string, weightFamily: string, limit: number): { map: (v: string) => string; folded: number } {
  const weights = new Map<string, number>();
  for (const f of families) for (const s of f.samples) if (s.labels[label] !== undefined) weights.set(s.labels[label], weights.get(s.labels[label]) ?? 0);
  for (const s of families.find((f) => f.name === weightFamily)?.samples ?? []) {
    const k = s.labels[label];
    if (k !== undefined) weights.set(k, (weights.get(k) ?? 0) + s.value);
  }
  return topN(weights, Math.max(0, limit));
}

interface Fold {
  label: string;
  map: (v: string) => string;
}

function samplesOf(f: NativeFamily, desc: MetricDesc, cluster: string, fold: Fold | undefined): Sample[] {
  const acc = new Acc();
  const names = desc.labels.slice(1);
  for (const s of f.samples) {
    const values = names.map((n) => s.labels[n === 'exported_cluster' ? 'cluster' : n] ?? '');
    const at = fold ? names.indexOf(fold.label) : -1;
    if (fold && at >= 0) values[at] = fold.map(values[at]!);
    acc.add([cluster, ...values], s.value);
  }
  return acc.samples();
}

/** The folds of /metrics/jobs-users-accts, and the gauges of how many were folded. */
function accountFolds(families: readonly NativeFamily[], ctx: CollectContext): { folds: Partial<Record<Scope, Fold>>; out: MetricFamily[] } {
  const folds: Partial<Record<Scope, Fold>> = {};
  const out: MetricFamily[] = [];
  if (ctx.limits.perUser) {
    const { map, folded } = folding(families, 'username', 'slurm_user_jobs_cpus_alloc', ctx.limits.maxUsers);
    folds.user = { label: 'username', map };
    out.push({ desc: USERS_FOLDED, samples: [{ values: [ctx.cluster], value: folded }] });
  }
  if (ctx.limits.perAccount) {
    const { map, folded } = folding(families, 'account', 'slurm_account_jobs_cpus_alloc', ctx.limits.maxAccounts);
    folds.account = { label: 'account', map };
    out.push({ desc: ACCOUNTS_FOLDED, samples: [{ values: [ctx.cluster], value: folded }] });
  }
  return { folds, out };
}

function endpointFamilies(e: NativeEndpoint, families: readonly NativeFamily[], alone: boolean, ctx: CollectContext): MetricFamily[] {
  const { folds, out: foldedGauges } = e === 'jobs-users-accts' ? accountFolds(families, ctx) : { folds: {}, out: [] };
  const out: MetricFamily[] = [];
  for (const f of families) {
    if (COVERED.has(f.name) && !(alone && ALONE_ONLY.has(f.name))) continue;
    const desc = descFor(f, e, ctx);
    const scope = scopeOf(desc.labels);
    if (!wanted(scope, ctx.limits)) continue;
    out.push({ desc, samples: samplesOf(f, desc, ctx.cluster, folds[scope]) });
  }
  return [...out, ...foldedGauges];
}

/** Two families under one name (a new Slurm family renamed onto a known one) would break the page: the first wins. */
function unique(families: MetricFamily[]): MetricFamily[] {
  const seen = new Set<string>();
  return families.filter((f) => !seen.has(f.desc.name) && (seen.add(f.desc.name), true));
}

export const nativeCollector: Collector = {
  name: 'native',
  description: "slurmctld's own metrics (Slurm 25.11+, MetricsType=metrics/openmetrics) that no other collector gives (all of them with slurm.source native), as slurm_native_*: base units, cluster label, the per-node, per-user and per-account limits (see docs/native-metrics.md).",
  group: 'native',
  needs: ['native'],
  metrics: [...PASSED.values(), ...ALONE_ONLY.values(), USERS_FOLDED, ACCOUNTS_FOLDED],
  collect(ctx: CollectContext): MetricFamily[] {
    const native = ctx.data.native;
    if (!native) return [];
    const out = ENDPOINT_ORDER.flatMap((e) => {
      const families = native.endpoints[e];
      return families ? endpointFamilies(e, families, native.alone, ctx) : [];
    });
    return unique(out);
  },
};
