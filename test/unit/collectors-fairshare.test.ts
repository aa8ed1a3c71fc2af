// The fairshare collector on every captured /shares answer (v0.0.40..v0.0.44; 22.05 has no /shares), checked
// cell by cell against `sshare -a -l` of the same capture, plus hand-made trees for the unusual cases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fairshareCollector } from '../../src/collectors/fairshare.ts';
import type { CollectContext } from '../../src/collectors/collector.ts';
import type { MetricFamily } from '../../src/exposition/types.ts';
import type { Anomalies, ShareEntry } from '../../src/slurm/model.ts';
import { buildShares } from '../../src/slurm/rest/adapters/shares.ts';

const FIX = new URL('../fixtures/', import.meta.url);
const read = (rel: string): string => readFileSync(new URL(rel, FIX), 'utf8');

function ctx(shares: ShareEntry[], o: { maxUsers?: number; maxAccounts?: number; perUser?: boolean; perAccount?: boolean } = {}): CollectContext & { anomalies: string[] } {
  const anomalies: string[] = [];
  return {
    cluster: 'lab',
    data: { shares },
    now: 1795504216,
    limits: { perNode: true, maxReasonLength: 100, perUser: o.perUser ?? true, perAccount: o.perAccount ?? true, perQos: true, maxUsers: o.maxUsers ?? 200, maxAccounts: o.maxAccounts ?? 200, jobs: false, maxJobs: 1000 },
    anomaly: (w) => anomalies.push(w),
    anomalies,
  };
}

function series(out: MetricFamily[], name: string): Map<string, number> {
  const f = out.find((x) => x.desc.name === name);
  if (!f) throw new Error(`no family ${name}`);
  const m = new Map<string, number>();
  for (const s of f.samples) {
    assert.equal(s.values[0], 'lab', `${name}: cluster comes first`);
    const k = s.values.slice(1).join('/');
    assert.ok(!m.has(k), `${name}: duplicate series ${k}`);
    m.set(k, s.value);
  }
  return m;
}

const CAPTURES = ['slurm-25.05.8', 'slurm-25.11.7'].flatMap((dir) =>
  readdirSync(new URL(`${dir}/`, FIX))
    .filter((f) => /^rest_v0\.0\.\d+_slurm_shares\.json$/.test(f))
    .map((f) => ({ dir, file: f, version: f.split('_')[1] as string })),
);

interface SshareRow {
  account: string;
  user: string;
  cells: Record<string, string>;
}

/** `sshare -a -l` as printed: fixed-width columns whose widths the dashed line gives. */
function parseSshare(text: string): SshareRow[] {
  const [header, dashes, ...rows] = text.split('\n');
  const cols: { name: string; from: number; to: number }[] = [];
  for (const m of (dashes as string).matchAll(/-+/g)) {
    cols.push({ name: (header as string).slice(m.index, m.index + m[0].length).trim(), from: m.index, to: m.index + m[0].length });
  }
  return rows
    .filter((r) => r.trim() !== '')
    .map((r) => {
      const cells = Object.fromEntries(cols.map((c) => [c.name, r.slice(c.from, c.to).trim()]));
      return { account: cells.Account as string, user: cells.User as string, cells };
    });
}

/** sshare's six-decimal print of a value; '' when the exporter has no series (sshare leaves the cell blank). */
function asSshare(v: number | undefined, integer = false): string {
  if (v === undefined) return '';
  return integer ? String(v) : v.toFixed(6);
}

describe('fairshare collector on every captured /shares answer, against sshare -a -l', () => {
  assert.ok(CAPTURES.length >= 8, `captured answers found: ${CAPTURES.length}`);
  for (const cap of CAPTURES) {
    it(`${cap.dir} ${cap.version}: every sshare cell matches`, () => {
      const a: Anomalies = { unknown: [] };
      const entries = buildShares(JSON.parse(read(`${cap.dir}/${cap.file}`)) as Record<string, unknown>, a);
      assert.deepEqual(a.unknown, []);
      const c = ctx(entries);
      const out = fairshareCollector.collect(c);
      assert.deepEqual(c.anomalies, []);
      const rows = parseSshare(read(`${cap.dir}/cli_sshare.txt`));
      assert.equal(rows.length, 8);
      assert.equal(entries.length, rows.length);
      for (const r of rows) {
        const user = r.user !== '';
        const p = user ? 'slurm_user_' : 'slurm_account_';
        const key = user ? `${r.user}/${r.account}/` : r.account;
        const get = (suffix: string) => series(out, p + suffix).get(key);
        const what = `${key} (${user ? 'user' : 'account'})`;
        assert.equal(asSshare(get('raw_shares'), true), r.cells.RawShares, `${what} RawShares`);
        assert.equal(asSshare(get('normalized_shares')), r.cells.NormShares, `${what} NormShares`);
        assert.equal(asSshare(get('raw_usage'), true), r.cells.RawUsage, `${what} RawUsage`);
        assert.equal(asSshare(get('normalized_usage')), r.cells.NormUsage, `${what} NormUsage`);
        assert.equal(asSshare(get('effective_usage')), r.cells.EffectvUsage, `${what} EffectvUsage`);
        // An "inf" LevelFS (no usage) has no series: +Inf would break avg() and graphs.
        assert.equal(asSshare(get('level_fairshare')), r.cells.LevelFS === 'inf' ? '' : r.cells.LevelFS, `${what} LevelFS`);
        if (r.cells.LevelFS === 'inf') assert.equal(get('raw_usage'), 0, `${what}: inf means no usage`);
        assert.equal(user ? asSshare(get('fairshare_factor')) : '', r.cells.FairShare, `${what} FairShare`);
      }
    });
  }

  it('keeps the account root apart from the user root (in root and in physics)', () => {
    const cap = CAPTURES.find((x) => x.dir === 'slurm-25.11.7' && x.version === 'v0.0.44')!;
    const out = fairshareCollector.collect(ctx(buildShares(JSON.parse(read(`${cap.dir}/${cap.file}`)) as Record<string, unknown>, { unknown: [] })));
    assert.equal(series(out, 'slurm_account_raw_usage').get('root'), 4916);
    const users = series(out, 'slurm_user_raw_usage');
    assert.equal(users.get('root/root/'), 757);
    assert.equal(users.get('root/physics/'), 0);
    assert.equal(users.get('grace/chemistry/'), 1890);
    assert.equal(series(out, 'slurm_user_level_fairshare').get('root/physics/'), undefined, 'sshare: inf');
    assert.equal(series(out, 'slurm_user_level_fairshare').get('root/root/'), 0.06423891798891838);
    assert.deepEqual([...series(out, 'slurm_account_raw_shares')], [['chemistry', 40], ['physics', 60]]);
    assert.equal(series(out, 'slurm_fairshare_users_folded').get(''), 0);
    assert.equal(series(out, 'slurm_fairshare_accounts_folded').get(''), 0);
    assert.ok(!out.some((f) => f.desc.name === 'slurm_account_fairshare_factor'));
  });
});

function rec(name: string, parent: string, type: string, o: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    parent,
    partition: '',
    shares: { set: true, infinite: false, number: 1 },
    shares_normalized: { set: true, infinite: false, number: 0.5 },
    usage: 10,
    usage_normalized: { set: true, infinite: false, number: 0.1 },
    effective_usage: { set: true, infinite: false, number: 0.2 },
    fairshare: { factor: { set: true, infinite: false, number: 0.7 }, level: { set: true, infinite: false, number: 2.5 } },
    type: [type],
    ...o,
  };
}

const doc = (list: unknown[]) => ({ shares: { shares: list, total_shares: list.length } });

describe('shares adapter on unusual answers', () => {
  it('an empty list is no associations and no anomaly; the folded gauges still say 0', () => {
    const a: Anomalies = { unknown: [] };
    const entries = buildShares(doc([]), a);
    assert.deepEqual(entries, []);
    assert.deepEqual(a.unknown, []);
    const out = fairshareCollector.collect(ctx(entries));
    assert.equal(series(out, 'slurm_user_raw_usage').size, 0);
    assert.equal(series(out, 'slurm_fairshare_users_folded').get(''), 0);
  });

  it('reports an answer without a list, records without a name and an unknown type, once each', () => {
    const a: Anomalies = { unknown: [] };
    assert.deepEqual(buildShares({ meta: {} }, a), []);
    const got = buildShares(doc([{ type: ['USER'] }, rec('x', 'root', 'WCKEY'), rec('y', 'root', 'WCKEY'), 7, rec('ok', 'root', 'USER')]), a);
    assert.deepEqual(got.map((e) => e.name), ['ok']);
    assert.deepEqual(a.unknown, ['shares answer without a shares list', 'share record without a name (skipped)', 'share record type "WCKEY" (skipped)']);
  });

  it('leaves out what a record does not carry instead of inventing zeros', () => {
    const [e] = buildShares(doc([{ name: 'lonely', type: ['USER'], parent: 'acct' }]), { unknown: [] });
    assert.deepEqual(e, {
      kind: 'user', name: 'lonely', account: 'acct', partition: '', rawShares: undefined, normalizedShares: undefined, rawUsage: undefined,
      normalizedUsage: undefined, effectiveUsage: undefined, fairshareFactor: undefined, levelFairshare: undefined,
    });
    const out = fairshareCollector.collect(ctx([e!]));
    assert.equal(series(out, 'slurm_user_fairshare_factor').size, 0);
  });

  it('reads v0.0.40 sentinels: NO_VAL LevelFS is absent, 2^64 is +Inf; Fairshare=parent has no raw shares or LevelFS', () => {
    const [root, idle, parent] = buildShares(
      doc([
        rec('root', '', 'ASSOCIATION', { fairshare: { factor: 0, level: 4294967294.0 }, shares: { set: false, infinite: false, number: 0 } }),
        rec('idle', 'root', 'USER', { effective_usage: 0, fairshare: { factor: 1, level: 1.8446744073709552e19 } }),
        rec('sub', 'root', 'ASSOCIATION', { shares: { set: true, infinite: false, number: 2147483647 } }),
      ]),
      { unknown: [] },
    );
    assert.equal(root!.levelFairshare, undefined);
    assert.equal(root!.rawShares, undefined);
    assert.equal(root!.fairshareFactor, undefined, 'accounts have no fairshare factor');
    assert.equal(idle!.levelFairshare, Infinity);
    assert.equal(idle!.fairshareFactor, 1);
    assert.equal(idle!.effectiveUsage, 0);
    assert.equal(parent!.rawShares, undefined);
    assert.equal(parent!.levelFairshare, undefined);
  });

  it('keeps per-partition associations of one user apart', () => {
    const entries = buildShares(doc([rec('ada', 'physics', 'USER', { partition: 'gpu', usage: 3 }), rec('ada', 'physics', 'USER', { usage: 4 })]), { unknown: [] });
    const out = fairshareCollector.collect(ctx(entries));
    assert.deepEqual([...series(out, 'slurm_user_raw_usage')], [['ada/physics/gpu', 3], ['ada/physics/', 4]]);
  });

  it('reports a repeated association and shows it once', () => {
    const c = ctx(buildShares(doc([rec('ada', 'physics', 'USER'), rec('ada', 'physics', 'USER', { usage: 99 })]), { unknown: [] }));
    const out = fairshareCollector.collect(c);
    assert.deepEqual([...series(out, 'slurm_user_raw_usage')], [['ada/physics/', 10]]);
    assert.deepEqual(c.anomalies, ['user association "ada" listed twice in shares']);
  });
});

describe('fairshare collector bounds', () => {
  const many = (n: number): ShareEntry[] => [
    { kind: 'account', name: 'root', account: '', partition: '', rawShares: undefined, normalizedShares: 1, rawUsage: 0, normalizedUsage: undefined, effectiveUsage: 1, fairshareFactor: undefined, levelFairshare: undefined },
    ...Array.from({ length: n }, (_, i): ShareEntry => ({
      kind: 'user', name: `u${String(i).padStart(3, '0')}`, account: i % 2 ? 'physics' : 'chemistry', partition: '', rawShares: 1, normalizedShares: 0.01,
      rawUsage: i, normalizedUsage: i / 1000, effectiveUsage: 0.5, fairshareFactor: 0.5, levelFairshare: 1,
    })),
  ];

  it('keeps the maxUsers users with the most raw usage and folds the rest into other, summing only usage', () => {
    const out = fairshareCollector.collect(ctx(many(250)));
    const usage = series(out, 'slurm_user_raw_usage');
    assert.equal(usage.size, 201);
    assert.equal(usage.get('u249/physics/'), 249);
    assert.equal(usage.get('u049/physics/'), undefined);
    assert.equal(usage.get('other/other/'), (49 * 50) / 2, 'sum of raw usage 0..49');
    assert.ok(Math.abs(series(out, 'slurm_user_normalized_usage').get('other/other/')! - 1.225) < 1e-9);
    for (const f of ['fairshare_factor', 'level_fairshare', 'effective_usage', 'raw_shares', 'normalized_shares']) {
      const s = series(out, `slurm_user_${f}`);
      assert.equal(s.size, 200, `${f}: kept users only`);
      assert.equal(s.get('other/other/'), undefined, `${f} is not summed`);
    }
    assert.equal(series(out, 'slurm_fairshare_users_folded').get(''), 50);
  });

  it('folds accounts without counting a sub-account twice', () => {
    const acct = (name: string, parent: string, usage: number): ShareEntry => ({
      kind: 'account', name, account: parent, partition: '', rawShares: 1, normalizedShares: 0.5, rawUsage: usage, normalizedUsage: usage / 165, effectiveUsage: 0.5, fairshareFactor: undefined, levelFairshare: 1,
    });
    const tree = [acct('root', '', 165), acct('a1', 'root', 100), acct('a1sub', 'a1', 60), acct('a2', 'root', 5)];
    const two = fairshareCollector.collect(ctx(tree, { maxAccounts: 2 }));
    assert.deepEqual([...series(two, 'slurm_account_raw_usage')], [['root', 165], ['a1', 100], ['other', 65]]);
    assert.equal(series(two, 'slurm_fairshare_accounts_folded').get(''), 2);
    const one = fairshareCollector.collect(ctx(tree, { maxAccounts: 1 }));
    assert.deepEqual([...series(one, 'slurm_account_raw_usage')], [['root', 165], ['other', 105]], 'a1sub is inside a1');
    assert.equal(series(one, 'slurm_account_level_fairshare').get('other'), undefined);
    const none = fairshareCollector.collect(ctx(tree, { maxAccounts: 0 }));
    assert.deepEqual([...series(none, 'slurm_account_raw_usage')], [['other', 165]], 'everything folded is root\'s usage');
  });

  it('leaves out user or account families when limits.perUser or limits.perAccount is off', () => {
    const names = (o: Parameters<typeof ctx>[1]) => fairshareCollector.collect(ctx(many(3), o)).map((f) => f.desc.name);
    assert.ok(!names({ perUser: false }).some((n) => n.startsWith('slurm_user_') || n === 'slurm_fairshare_users_folded'));
    assert.ok(!names({ perAccount: false }).some((n) => n.startsWith('slurm_account_') || n === 'slurm_fairshare_accounts_folded'));
  });

  it('describes every family it emits, with cluster first', () => {
    const out = fairshareCollector.collect(ctx(many(250), { maxAccounts: 0 }));
    const described = new Set(fairshareCollector.metrics.map((m) => m.name));
    for (const f of out) {
      assert.ok(described.has(f.desc.name), f.desc.name);
      assert.equal(f.desc.labels[0], 'cluster');
      for (const s of f.samples) assert.ok(Number.isFinite(s.value), `${f.desc.name}: ${s.value}`);
    }
  });
});
