// The slurmdbd collector on every captured /slurmdb/{v}/diag answer (v0.0.38..v0.0.44). No sacctmgr show
// stats was captured, so values are checked against the raw answer itself: microseconds become seconds,
// average * count = total, and the per-type and per-user figures add up to the same totals.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { slurmdbdCollector } from '../../src/collectors/slurmdbd.ts';
import type { Anomalies, SlurmdbdStats } from '../../src/slurm/model.ts';
import { buildDbdStats } from '../../src/slurm/rest/adapters/slurmdbd.ts';
import { type TestCtx, ctx as baseCtx, seriesOf } from './collectors-helpers.ts';

const FIX = new URL('../fixtures/', import.meta.url);
const read = (rel: string): string => readFileSync(new URL(rel, FIX), 'utf8');
type Rec = Record<string, unknown>;

function ctx(dbdiag: SlurmdbdStats, maxUsers = 200): TestCtx {
  return baseCtx({ dbdiag }, { cluster: 'lab', now: 1795504216, maxUsers });
}


// A function, so TypeScript does not narrow a.unknown after an assert.deepEqual(a.unknown, []).
const seen = (a: Anomalies, what: string): boolean => a.unknown.includes(what);
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

const CAPTURES = [
  'slurm-22.05/slurmdb_v0.0.38_diag.json',
  ...['slurm-25.05.8', 'slurm-25.11.7'].flatMap((dir) =>
    readdirSync(new URL(`${dir}/`, FIX))
      .filter((f) => /^rest_v0\.0\.\d+_slurmdb_diag\.json$/.test(f))
      .map((f) => `${dir}/${f}`),
  ),
];

describe('slurmdbd collector on every captured /slurmdb/diag answer', () => {
  assert.equal(CAPTURES.length, 9);
  for (const file of CAPTURES) {
    it(`${file}: RPC counts and seconds by type and by user`, () => {
      const raw = (JSON.parse(read(file)) as Rec).statistics as Rec;
      const a: Anomalies = { unknown: [] };
      const c = ctx(buildDbdStats(JSON.parse(read(file)) as Rec, a));
      const out = slurmdbdCollector.collect(c);
      assert.deepEqual(a.unknown, []);
      assert.deepEqual(c.anomalies, []);
      const calls = seriesOf(out, 'slurm_slurmdbd_rpc_calls_total');
      const time = seriesOf(out, 'slurm_slurmdbd_rpc_duration_seconds_total');
      const rpcs = raw.RPCs as { rpc: string; count: number; time: { average: number; total: number } }[];
      assert.equal(Object.keys(calls).length, rpcs.length);
      for (const r of rpcs) {
        assert.equal(calls[r.rpc], r.count, `${r.rpc} count`);
        assert.equal(time[r.rpc], r.time.total / 1e6, `${r.rpc} seconds`);
        // The unit check: the average (µs, truncated) times the count is the total, so total is µs too.
        assert.ok(Math.abs(r.time.average * r.count - r.time.total) <= r.count, `${r.rpc}: average * count = total`);
      }
      const userCalls = seriesOf(out, 'slurm_slurmdbd_rpc_user_calls_total');
      assert.deepEqual(Object.keys(userCalls), ['root'], 'the lab clusters only talked to slurmdbd as root');
      assert.equal(sum(userCalls), sum(calls), 'per-user calls add up to per-type calls');
      assert.ok(Math.abs(sum(seriesOf(out, 'slurm_slurmdbd_rpc_user_duration_seconds_total')) - sum(time)) < 1e-9);
      assert.equal(seriesOf(out, 'slurm_slurmdbd_rpc_users_folded')[''], 0);
      assert.equal(seriesOf(out, 'slurm_slurmdbd_stats_reset_timestamp_seconds')[''], raw.time_start);
    });
  }

  it('22.05: DBD_ADD_CLUSTERS took 1.044141 s once; root sent 287 RPCs in 1.79454 s', () => {
    const out = slurmdbdCollector.collect(ctx(buildDbdStats(JSON.parse(read(CAPTURES[0]!)) as Rec, { unknown: [] })));
    assert.equal(seriesOf(out, 'slurm_slurmdbd_rpc_calls_total').DBD_ADD_CLUSTERS, 1);
    assert.equal(seriesOf(out, 'slurm_slurmdbd_rpc_duration_seconds_total').DBD_ADD_CLUSTERS, 1.044141);
    assert.deepEqual(seriesOf(out, 'slurm_slurmdbd_rpc_user_calls_total'), { root: 287 });
    assert.deepEqual(seriesOf(out, 'slurm_slurmdbd_rpc_user_duration_seconds_total'), { root: 1.79454 });
    assert.equal(seriesOf(out, 'slurm_slurmdbd_stats_reset_timestamp_seconds')[''], 1795504193);
  });

  it('counters end in _total, cluster comes first, every family is described', () => {
    const out = slurmdbdCollector.collect(ctx(buildDbdStats(JSON.parse(read(CAPTURES[1]!)) as Rec, { unknown: [] })));
    const described = new Map(slurmdbdCollector.metrics.map((m) => [m.name, m]));
    for (const f of out) {
      assert.equal(described.get(f.desc.name), f.desc);
      assert.equal(f.desc.labels[0], 'cluster');
      assert.equal(f.desc.type === 'counter', f.desc.name.endsWith('_total'), f.desc.name);
    }
  });
});

describe('slurmdbd statistics on unusual answers', () => {
  it('more users than maxUsers: the busiest keep their name, the rest are summed under other', () => {
    const users = Array.from({ length: 250 }, (_, i) => ({ user: `u${String(i).padStart(3, '0')}`, count: i + 1, time: { average: 1, total: (i + 1) * 10 } }));
    const out = slurmdbdCollector.collect(ctx(buildDbdStats({ statistics: { time_start: 0, RPCs: [], users } }, { unknown: [] }), 200));
    const calls = seriesOf(out, 'slurm_slurmdbd_rpc_user_calls_total');
    assert.equal(Object.keys(calls).length, 201);
    assert.equal(calls.u249, 250);
    assert.equal(calls.u049, undefined);
    assert.equal(calls.other, (50 * 51) / 2, 'counts 1..50');
    assert.ok(Math.abs(seriesOf(out, 'slurm_slurmdbd_rpc_user_duration_seconds_total').other! - (50 * 51 * 10) / 2 / 1e6) < 1e-12);
    assert.equal(seriesOf(out, 'slurm_slurmdbd_rpc_users_folded')[''], 50);
    assert.ok(!out.some((f) => f.desc.name === 'slurm_slurmdbd_stats_reset_timestamp_seconds'), 'time_start 0 is unknown');
  });

  it('empty lists, missing lists and records it cannot use', () => {
    const a: Anomalies = { unknown: [] };
    assert.deepEqual(buildDbdStats({ statistics: { RPCs: [], users: [] } }, a), { statsResetTime: undefined, rpcByType: [], rpcByUser: [] });
    assert.deepEqual(buildDbdStats({ statistics: {} }, a), { statsResetTime: undefined, rpcByType: [], rpcByUser: [] });
    assert.deepEqual(a.unknown, []);
    const s = buildDbdStats({ statistics: { time_start: 5, RPCs: [{ rpc: 'DBD_FINI', count: 2 }, { count: 9 }, { rpc: 'DBD_OLD', count: 1, total_time: 3000000 }], users: 'root' } }, a);
    assert.deepEqual(s.rpcByType, [
      { name: 'DBD_FINI', count: 2, totalTimeSeconds: 0 },
      { name: 'DBD_OLD', count: 1, totalTimeSeconds: 3 },
    ]);
    assert.deepEqual(a.unknown, ['slurmdbd RPC record without a rpc (skipped)', 'slurmdbd user statistics are not a list']);
    assert.deepEqual(buildDbdStats({ errors: [] }, a).rpcByType, []);
    assert.ok(seen(a, 'slurmdbd diag answer without statistics'));
    const out = slurmdbdCollector.collect(ctx(buildDbdStats({ statistics: { RPCs: [], users: [] } }, { unknown: [] })));
    assert.equal(seriesOf(out, 'slurm_slurmdbd_rpc_users_folded')[''], 0);
    assert.deepEqual(seriesOf(out, 'slurm_slurmdbd_rpc_calls_total'), {});
  });

  it('a type listed twice is one series', () => {
    const s = buildDbdStats({ statistics: { RPCs: [{ rpc: 'X', count: 1, time: { total: 1 } }, { rpc: 'X', count: 2, time: { total: 2 } }], users: [] } }, { unknown: [] });
    assert.deepEqual(seriesOf(slurmdbdCollector.collect(ctx(s)), 'slurm_slurmdbd_rpc_calls_total'), { X: 3 });
  });
});
