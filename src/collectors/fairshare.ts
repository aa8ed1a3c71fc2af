// Fairshare per account and per user association, as `sshare -a -l` shows it. Accounts and users get
// separate families because Slurm lets an account and a user share a name (root is both). Beyond the
// cardinality bounds the smallest users (accounts) by raw usage are folded into "other"; only figures that
// are parts of one whole add up (raw usage, and normalized usage, a fraction of the cluster's), so the
// "other" series carries those alone: factors, LevelFS and sibling-relative shares do not sum.
import type { Collector, CollectContext } from './collector.ts';
import type { MetricDesc, MetricFamily, Sample } from '../exposition/types.ts';
import type { ShareEntry } from '../slurm/model.ts';
import { OTHER, topN } from './labels.ts';

const ACCOUNT_LABELS = ['cluster', 'account'] as const;
const USER_LABELS = ['cluster', 'user', 'account', 'partition'] as const;
const SRC = 'shares: shares.shares[]';

interface Figure {
  desc: MetricDesc;
  get(e: ShareEntry): number | undefined;
  /** Whether the figures of folded associations may be summed into "other". */
  additive: boolean;
}

function figure(name: string, labels: readonly string[], help: string, source: string, get: Figure['get'], additive = false): Figure {
  return { desc: { name, type: 'gauge', help, labels, source: `${SRC}.${source}` }, get, additive };
}

function finite(v: number | undefined): number | undefined {
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

const FOLD_NOTE = 'Associations folded under "other" (see slurm_fairshare_*_folded) are summed here.';
const NO_FOLD = 'Not given for "other": it does not add up.';

function figures(kind: 'account' | 'user'): Figure[] {
  const l = kind === 'account' ? ACCOUNT_LABELS : USER_LABELS;
  const who = kind === 'account' ? 'account' : 'user association (user in an account; partition is empty unless the association is per partition)';
  const p = `slurm_${kind}_`;
  const out = [
    figure(`${p}raw_shares`, l, `Shares configured for the ${who} (sshare RawShares); absent for root and for Fairshare=parent. ${NO_FOLD}`, 'shares', (e) => e.rawShares),
    figure(`${p}normalized_shares`, l, `The ${who}'s fraction of its siblings' shares (sshare NormShares). ${NO_FOLD}`, 'shares_normalized', (e) => e.normalizedShares),
    figure(`${p}raw_usage`, l, `Decayed usage of the ${who} in billing TRES-seconds, halved every PriorityDecayHalfLife (sshare RawUsage). ${FOLD_NOTE}`, 'usage', (e) => e.rawUsage, true),
    figure(`${p}normalized_usage`, l, `The ${who}'s fraction of the whole cluster's usage, 0..1 (sshare NormUsage); absent for root. ${FOLD_NOTE}`, 'usage_normalized', (e) => e.normalizedUsage, true),
    figure(`${p}effective_usage`, l, `Effective usage of the ${who} (sshare EffectvUsage): with Fair Tree its fraction of the parent account's usage. ${NO_FOLD}`, 'effective_usage', (e) => e.effectiveUsage),
    // sshare prints "inf" for an association that used nothing; left out rather than +Inf, which breaks avg() and graphs.
    figure(`${p}level_fairshare`, l, `Fair Tree's LevelFS of the ${who}: normalized shares over effective usage, above 1 when it used less than its share. Absent while it has used nothing (sshare LevelFS "inf"; see the raw usage). ${NO_FOLD}`, 'fairshare.level', (e) => finite(e.levelFairshare)),
  ];
  if (kind === 'user') {
    out.push(figure('slurm_user_fairshare_factor', l, `The fairshare factor, 0..1, that the priority/multifactor plugin weighs with PriorityWeightFairshare (sshare FairShare); 1 is the most under-served. ${NO_FOLD}`, 'fairshare.factor', (e) => e.fairshareFactor));
  }
  return out;
}

const ACCOUNT_FIGURES = figures('account');
const USER_FIGURES = figures('user');

const USERS_FOLDED: MetricDesc = {
  name: 'slurm_fairshare_users_folded',
  type: 'gauge',
  help: 'Users whose associations were summed under user="other", account="other" because more users than limits.maxUsers have one (those with the least raw usage are folded).',
  labels: ['cluster'],
  source: `${SRC} (distinct users of type USER beyond the limit)`,
};
const ACCOUNTS_FOLDED: MetricDesc = {
  name: 'slurm_fairshare_accounts_folded',
  type: 'gauge',
  help: 'Accounts folded under account="other" because there are more than limits.maxAccounts (those with the least raw usage). A folded sub-account of a folded account adds nothing more to "other": its usage is already in its parent\'s.',
  labels: ['cluster'],
  source: `${SRC} (accounts beyond the limit)`,
};

interface Row {
  values: string[];
  entry: ShareEntry;
}

/** Samples of every figure: kept rows as they are, folded entries summed into `other` for additive figures. */
function render(figs: readonly Figure[], kept: readonly Row[], folded: readonly ShareEntry[], other: string[]): MetricFamily[] {
  return figs.map((f) => {
    const samples: Sample[] = [];
    for (const r of kept) {
      const v = f.get(r.entry);
      if (v !== undefined) samples.push({ values: r.values, value: v });
    }
    if (f.additive && folded.length > 0) {
      let sum = 0;
      for (const e of folded) sum += f.get(e) ?? 0;
      samples.push({ values: other, value: sum });
    }
    return { desc: f.desc, samples };
  });
}

function foldWeights(entries: readonly ShareEntry[]): Map<string, number> {
  const w = new Map<string, number>();
  for (const e of entries) w.set(e.name, (w.get(e.name) ?? 0) + (e.rawUsage ?? 0));
  return w;
}

function accountFamilies(c: string, accounts: readonly ShareEntry[], limit: number): MetricFamily[] {
  const weights = foldWeights(accounts);
  const { map, folded } = topN(weights, limit);
  // A parent missing from the answer (root's '' included) counts as kept, so its children are summed.
  const isFolded = (name: string) => folded > 0 && weights.has(name) && map(name) === OTHER;
  const kept: Row[] = [];
  const sum: ShareEntry[] = [];
  for (const e of accounts) {
    if (!isFolded(e.name)) kept.push({ values: [c, e.name], entry: e });
    // A parent's usage already holds its children's: sum only the top-most folded accounts.
    else if (!isFolded(e.account)) sum.push(e);
  }
  return [...render(ACCOUNT_FIGURES, kept, sum, [c, OTHER]), { desc: ACCOUNTS_FOLDED, samples: [{ values: [c], value: folded }] }];
}

function userFamilies(c: string, users: readonly ShareEntry[], limit: number): MetricFamily[] {
  const { map, folded } = topN(foldWeights(users), limit);
  const kept: Row[] = [];
  const sum: ShareEntry[] = [];
  for (const e of users) {
    if (folded > 0 && map(e.name) === OTHER) sum.push(e);
    else kept.push({ values: [c, e.name, e.account, e.partition], entry: e });
  }
  return [...render(USER_FIGURES, kept, sum, [c, OTHER, OTHER, '']), { desc: USERS_FOLDED, samples: [{ values: [c], value: folded }] }];
}

/** Accounts and users, each association once (Slurm lists each once; a repeat would be a duplicate series). */
function split(shares: readonly ShareEntry[], anomaly: (what: string) => void): { accounts: ShareEntry[]; users: ShareEntry[] } {
  const seen = new Set<string>();
  const accounts: ShareEntry[] = [];
  const users: ShareEntry[] = [];
  for (const e of shares) {
    const key = e.kind === 'account' ? `a\u0000${e.name}` : `u\u0000${e.name}\u0000${e.account}\u0000${e.partition}`;
    if (seen.has(key)) {
      anomaly(`${e.kind} association "${e.name}" listed twice in shares`);
      continue;
    }
    seen.add(key);
    (e.kind === 'account' ? accounts : users).push(e);
  }
  return { accounts, users };
}

export const fairshareCollector: Collector = {
  name: 'fairshare',
  description: 'Fairshare per account and per user association from /shares (sshare -a -l): shares, usage, fairshare factor and Fair Tree LevelFS.',
  group: 'fairshare',
  needs: ['shares'],
  metrics: [...ACCOUNT_FIGURES.map((f) => f.desc), ACCOUNTS_FOLDED, ...USER_FIGURES.map((f) => f.desc), USERS_FOLDED],
  collect(ctx: CollectContext): MetricFamily[] {
    const shares = ctx.data.shares;
    if (!shares) return [];
    const { accounts, users } = split(shares, (w) => ctx.anomaly(w));
    const out: MetricFamily[] = [];
    if (ctx.limits.perAccount) out.push(...accountFamilies(ctx.cluster, accounts, ctx.limits.maxAccounts));
    if (ctx.limits.perUser) out.push(...userFamilies(ctx.cluster, users, ctx.limits.maxUsers));
    return out;
  },
};
