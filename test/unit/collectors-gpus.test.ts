// The gpus collector: GRES by type and model at every level, on every captured API version (checked against
// the capture's own sinfo / scontrol show nodes and squeue answers, and against tables read off them by hand),
// plus hand-made cases: unavailable GPUs on broken and drained nodes, untyped and unknown GRES (shard, mps),
// multi-partition pending jobs, folding users and accounts at the limits, the switches, shared names.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gpusCollector } from '../../src/collectors/gpus.ts';
import { nodesCollector } from '../../src/collectors/nodes.ts';
import { NO_MODEL } from '../../src/collectors/labels.ts';
import type { CardinalityLimits, CollectContext } from '../../src/collectors/collector.ts';
import type { MetricFamily } from '../../src/exposition/types.ts';
import type { ResourceData, SlurmJob, SlurmNode } from '../../src/slurm/model.ts';
import { adapterFor } from '../../src/slurm/rest/adapters/index.ts';
import { byLabels, gres, job, node, nonZero } from './collectors-helpers.ts';

type Rec = Record<string, unknown>;
const FIX = new URL('../fixtures/', import.meta.url);
const read = (rel: string): Rec => JSON.parse(readFileSync(new URL(rel, FIX), 'utf8')) as Rec;

const LIMITS: CardinalityLimits = {
  perNode: true, maxReasonLength: 100, perUser: true, perAccount: true, perQos: true, maxUsers: 200, maxAccounts: 200, jobs: false, maxJobs: 1000,
};

function collect(nodes: SlurmNode[], jobs: SlurmJob[], limits: Partial<CardinalityLimits> = {}, cluster = 'lab2'): MetricFamily[] {
  const ctx = (data: Partial<ResourceData>): CollectContext => ({ cluster, data, now: 0, limits: { ...LIMITS, ...limits }, anomaly: () => {} });
  const out = gpusCollector.collect(ctx({ nodes, jobs }));
  const declared = new Set(gpusCollector.metrics.map((d) => d.name));
  // Cluster-wide GRES totals are the nodes collector's slurm_gres{type,model}: checked here with the same model rule.
  const totals = nodesCollector.collect(ctx({ nodes })).filter((f) => f.desc.name === 'slurm_gres' || f.desc.name === 'slurm_gres_allocated');
  for (const f of totals) for (const s of f.samples) assert.ok(!s.values.includes(''), `${f.desc.name}: no empty label value in ${s.values.join(',')}`);
  for (const f of out) {
    assert.ok(declared.has(f.desc.name), `${f.desc.name} declared`);
    for (const s of f.samples) assert.equal(s.values[0], cluster, `${f.desc.name}: cluster first`);
    for (const s of f.samples) assert.ok(!s.values.includes(''), `${f.desc.name}: no empty label value in ${s.values.join(',')}`);
  }
  assert.deepEqual(gpusCollector.collect(ctx({ nodes, jobs })), out, 'same output for the same snapshot');
  return [...out, ...totals];
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

// ---- captured answers ----------------------------------------------------------------------------------------

interface Case {
  version: string;
  dir: string;
  file(kind: 'nodes' | 'jobs'): string;
}
const CASES: Case[] = [
  { version: 'v0.0.38', dir: 'slurm-22.05', file: (k) => `slurm-22.05/slurm_v0.0.38_${k}.json` },
  ...['v0.0.40', 'v0.0.41', 'v0.0.42', 'v0.0.43'].map((v) => ({ version: v, dir: 'slurm-25.05.8', file: (k: string) => `slurm-25.05.8/rest_${v}_slurm_${k}.json` })),
  ...['v0.0.41', 'v0.0.42', 'v0.0.43', 'v0.0.44'].map((v) => ({ version: v, dir: 'slurm-25.11.7', file: (k: string) => `slurm-25.11.7/rest_${v}_slurm_${k}.json` })),
];

function fixture(c: Case): { nodes: SlurmNode[]; jobs: SlurmJob[] } {
  const a = adapterFor(c.version)!;
  const none = { unknown: [] };
  return {
    nodes: (read(c.file('nodes')).nodes as Rec[]).map((r) => a.node(r, none)!),
    jobs: (read(c.file('jobs')).jobs as Rec[]).map((r) => a.job(r, none)!),
  };
}

/** Configured and used GPUs per `partition,gpu,model` from the capture's CLI node answer, without the adapter. */
function cliNodes(c: Case): { conf: Record<string, number>; used: Record<string, number> } {
  const file = c.dir === 'slurm-22.05' ? 'slurm-22.05/cli/sinfo.json' : `${c.dir}/cli_scontrol_show_nodes.json`;
  const conf: Record<string, number> = {};
  const used: Record<string, number> = {};
  const add = (into: Record<string, number>, parts: string[], s: unknown) => {
    const m = /gpu:([^:(]+):(\d+)/.exec(String(s));
    if (!m || m[2] === '0') return;
    for (const p of parts) into[`${p},gpu,${m[1]}`] = (into[`${p},gpu,${m[1]}`] ?? 0) + Number(m[2]);
  };
  for (const n of read(file).nodes as Rec[]) {
    const parts = Array.isArray(n.partitions) ? (n.partitions as string[]) : String(n.partitions).split(',');
    add(conf, parts, n.gres);
    add(used, parts, n.gres_used);
  }
  return { conf, used };
}

/** GPUs per `who,gpu,model` of running (allocated) and pending jobs, read from squeue of the same capture. */
function cliJobs(c: Case, who: 'partition' | 'user_name' | 'account'): { alloc: Record<string, number>; pend: Record<string, number> } {
  const file = c.dir === 'slurm-22.05' ? 'slurm-22.05/cli/squeue.json' : `${c.dir}/cli_squeue.json`;
  const alloc: Record<string, number> = {};
  const pend: Record<string, number> = {};
  for (const j of read(file).jobs as Rec[]) {
    const state = String(Array.isArray(j.job_state) ? j.job_state[0] : j.job_state).toLowerCase();
    const running = state === 'running';
    if (!running && state !== 'pending') continue;
    const count = /gres\/gpu=(\d+)/.exec(String(running ? j.tres_alloc_str : j.tres_req_str))?.[1];
    if (!count) continue;
    const hint = running ? String((j.gres_detail as string[])[0]) : String(j.tres_per_node);
    const model = /gpu:([^:(]+):\d+/.exec(hint)?.[1] ?? NO_MODEL;
    const into = running ? alloc : pend;
    const k = `${String(j[who])},gpu,${model}`;
    into[k] = (into[k] ?? 0) + Number(count);
  }
  return { alloc, pend };
}

describe('gpus collector on every captured API version', () => {
  for (const c of CASES) {
    it(`${c.version} (${c.dir}): agrees with sinfo / scontrol show nodes and squeue of the same capture`, () => {
      const { nodes, jobs } = fixture(c);
      const old = c.dir === 'slurm-22.05';
      const out = collect(nodes, jobs, {}, old ? 'lab' : 'lab2');
      const cli = cliNodes(c);
      assert.deepEqual(byLabels(out, 'slurm_partition_gres'), cli.conf);
      assert.deepEqual(nonZero(byLabels(out, 'slurm_partition_gres_allocated')), cli.used);
      for (const [who, prefix] of [['partition', 'slurm_partition'], ['user_name', 'slurm_user'], ['account', 'slurm_account']] as const) {
        const want = cliJobs(c, who);
        assert.deepEqual(nonZero(byLabels(out, `${prefix}_jobs_gres_allocated`)), want.alloc, `${prefix} allocated`);
        assert.deepEqual(nonZero(byLabels(out, `${prefix}_jobs_pending_gres`)), want.pend, `${prefix} pending`);
      }
      // Read off the captures by hand: 22.05 g1 gpu:tesla:2 (1 used by job 5, alice), job 11 (alice) asks tesla:2;
      // 25.x n1, n2 gpu:fakegpu:2 (3 used by ada's jobs 2, 3), jobs 10 (grace) and 11 (ada) ask gpu:2, no model.
      if (old) {
        assert.deepEqual(byLabels(out, 'slurm_gres'), { 'gpu,tesla': 2 });
        assert.deepEqual(byLabels(out, 'slurm_gres_allocated'), { 'gpu,tesla': 1 });
        assert.deepEqual(byLabels(out, 'slurm_jobs_gres_allocated'), { 'gpu,tesla': 1 });
        assert.deepEqual(byLabels(out, 'slurm_jobs_pending_gres'), { 'gpu,tesla': 2 });
        assert.deepEqual(byLabels(out, 'slurm_cluster_gpus_unavailable'), { tesla: 0 });
        assert.deepEqual(byLabels(out, 'slurm_user_jobs_pending_gres'), { 'alice,gpu,tesla': 2 });
      } else {
        assert.deepEqual(byLabels(out, 'slurm_gres'), { 'gpu,fakegpu': 4 });
        assert.deepEqual(byLabels(out, 'slurm_gres_allocated'), { 'gpu,fakegpu': 3 });
        assert.deepEqual(byLabels(out, 'slurm_partition_gres'), { 'debug,gpu,fakegpu': 4, 'gpu,gpu,fakegpu': 4 });
        assert.deepEqual(byLabels(out, 'slurm_jobs_gres_allocated'), { 'gpu,fakegpu': 3 });
        assert.deepEqual(byLabels(out, 'slurm_jobs_pending_gres'), { 'gpu,fakegpu': 0, [`gpu,${NO_MODEL}`]: 4 });
        assert.deepEqual(byLabels(out, 'slurm_cluster_gpus_unavailable'), { fakegpu: 0 }, 'n1, n2 are mixed+planned: they can take jobs');
        assert.deepEqual(byLabels(out, 'slurm_user_jobs_gres_allocated'), { 'ada,gpu,fakegpu': 3 });
        assert.deepEqual(byLabels(out, 'slurm_account_jobs_pending_gres'), { [`chemistry,gpu,${NO_MODEL}`]: 2, [`physics,gpu,${NO_MODEL}`]: 2 });
      }
    });
  }
});

// ---- hand-made -----------------------------------------------------------------------------------------------

function gpuNodes(): SlurmNode[] {
  const inGpu = (o: Partial<SlurmNode>): Partial<SlurmNode> => ({ cpus: 64, ...o });
  return [
    node('a1', 'idle', [], inGpu({ gres: gres('gpu:a100:4,shard:a100:16,mps:400'), partitions: ['gpu', 'a100'] })),
    node('a2', 'down', ['not_responding'], inGpu({ gres: gres('gpu:a100:4'), partitions: ['gpu', 'a100'] })),
    node('a3', 'mixed', ['drain'], inGpu({ gres: gres('gpu:a100:4'), gresUsed: gres('gpu:a100:1'), partitions: ['gpu', 'a100'] })),
    node('h1', 'idle', ['drain'], inGpu({ gres: gres('gpu:h100:8'), partitions: ['gpu'] })),
    node('h2', 'allocated', ['not_responding'], inGpu({ gres: gres('gpu:h100:8'), gresUsed: gres('gpu:h100:8'), partitions: ['gpu'] })),
    node('h3', 'mixed', [], inGpu({ gres: gres('gpu:h100:8'), gresUsed: gres('gpu:h100:2,shard:h100:0'), partitions: ['gpu'] })),
    node('u1', 'down', [], inGpu({ gres: gres('gpu:2'), partitions: ['gpu'] })),
    node('c1', 'idle', [], { partitions: ['cpu'] }),
  ];
}

const U = NO_MODEL;

describe('gpus collector: nodes', () => {
  const out = collect(gpuNodes(), []);

  it('counts configured and allocated GRES of every type by model; no model is "unspecified"', () => {
    assert.deepEqual(byLabels(out, 'slurm_gres'), { 'gpu,a100': 12, 'shard,a100': 16, [`mps,${U}`]: 400, 'gpu,h100': 24, [`gpu,${U}`]: 2 });
    assert.deepEqual(nonZero(byLabels(out, 'slurm_gres_allocated')), { 'gpu,a100': 1, 'gpu,h100': 10 });
    assert.equal(byLabels(out, 'slurm_gres_allocated')['shard,a100'], 0, 'configured but unused is 0');
  });

  it('counts unallocated GPUs of nodes that cannot take jobs as unavailable, by model', () => {
    // a2 down (4), a3 draining (3 of 4 free), h1 drained (8), h2 not responding but full (0), u1 down untyped (2).
    assert.deepEqual(byLabels(out, 'slurm_cluster_gpus_unavailable'), { a100: 7, h100: 8, [U]: 2 });
    assert.deepEqual(byLabels(out, 'slurm_partition_gpus_unavailable'), { 'gpu,a100': 7, 'a100,a100': 7, 'gpu,h100': 8, [`gpu,${U}`]: 2 });
  });

  it('counts a node in several partitions in each', () => {
    const p = byLabels(out, 'slurm_partition_gres');
    assert.equal(p['gpu,gpu,a100'], 12);
    assert.equal(p['a100,gpu,a100'], 12);
    assert.equal(p['gpu,gpu,h100'], 24);
    assert.equal(p['cpu,gpu,a100'], undefined, 'a partition without GRES has no GRES series');
  });
});

describe('gpus collector: jobs', () => {
  const jobs = [
    job(1, 'running', ['gpu'], { user: 'ada', account: 'ml', cpus: 16, gres: gres('gpu:a100:2,shard:a100:4') }),
    job(2, 'running', ['gpu'], { user: 'ml', account: 'physics', cpus: 8, gres: gres('gpu:h100:8') }),
    job(3, 'pending', ['gpu', 'a100'], { user: 'ada', account: 'ml', cpus: 4, gres: gres('gpu:2') }),
    job(4, 'pending', ['gpu'], { user: 'grace', account: 'chem', cpus: 2, gres: gres('mps:100') }),
    job(5, 'running', ['cpu'], { user: 'grace', account: 'chem', cpus: 64 }),
    job(6, 'completed', ['gpu'], { user: 'ada', account: 'ml', gres: gres('gpu:a100:4') }),
  ];

  it('sums running and pending jobs once cluster-wide, a two-partition pending job in each partition', () => {
    const out = collect(gpuNodes(), jobs);
    assert.deepEqual(nonZero(byLabels(out, 'slurm_jobs_gres_allocated')), { 'gpu,a100': 2, 'shard,a100': 4, 'gpu,h100': 8 });
    assert.deepEqual(nonZero(byLabels(out, 'slurm_jobs_pending_gres')), { [`gpu,${U}`]: 2, [`mps,${U}`]: 100 });
    assert.deepEqual(nonZero(byLabels(out, 'slurm_partition_jobs_pending_gres')), { [`gpu,gpu,${U}`]: 2, [`a100,gpu,${U}`]: 2, [`gpu,mps,${U}`]: 100 });
    assert.equal(byLabels(out, 'slurm_partition_jobs_gres_allocated')['a100,gpu,a100'], 0, 'seeded from the nodes: drops to 0, not absent');
  });

  it('keeps users and accounts apart when they share a name; a job without GPUs adds nothing', () => {
    const out = collect(gpuNodes(), jobs);
    assert.deepEqual(byLabels(out, 'slurm_user_jobs_gres_allocated'), { 'ada,gpu,a100': 2, 'ada,shard,a100': 4, 'ml,gpu,h100': 8 });
    assert.deepEqual(byLabels(out, 'slurm_account_jobs_gres_allocated'), { 'ml,gpu,a100': 2, 'ml,shard,a100': 4, 'physics,gpu,h100': 8 });
    assert.deepEqual(byLabels(out, 'slurm_user_jobs_pending_gres'), { [`ada,gpu,${U}`]: 2, [`grace,mps,${U}`]: 100 });
  });

  it('folds users and accounts as the users collector does, and the sums still match the cluster', () => {
    // By allocated CPUs: grace 64 (no GPUs) > ada 16 > ml 8.
    const out = collect(gpuNodes(), jobs, { maxUsers: 1, maxAccounts: 2 });
    assert.deepEqual(byLabels(out, 'slurm_user_jobs_gres_allocated'), { 'other,gpu,a100': 2, 'other,shard,a100': 4, 'other,gpu,h100': 8 });
    assert.deepEqual(byLabels(out, 'slurm_user_jobs_pending_gres'), { [`other,gpu,${U}`]: 2, [`grace,mps,${U}`]: 100 });
    assert.deepEqual(Object.keys(byLabels(out, 'slurm_account_jobs_gres_allocated')).sort(), ['ml,gpu,a100', 'ml,shard,a100', 'other,gpu,h100']);
    for (const prefix of ['slurm_user', 'slurm_account']) {
      assert.equal(sum(byLabels(out, `${prefix}_jobs_gres_allocated`)), sum(byLabels(out, 'slurm_jobs_gres_allocated')), prefix);
      assert.equal(sum(byLabels(out, `${prefix}_jobs_pending_gres`)), sum(byLabels(out, 'slurm_jobs_pending_gres')), prefix);
    }
  });

  it('limits.perUser and perAccount switch the user and account families off', () => {
    const names = (o: MetricFamily[]) => o.map((f) => f.desc.name);
    const noUser = names(collect(gpuNodes(), jobs, { perUser: false }));
    assert.ok(!noUser.some((n) => n.startsWith('slurm_user_')) && noUser.includes('slurm_account_jobs_gres_allocated'));
    const noAccount = names(collect(gpuNodes(), jobs, { perAccount: false }));
    assert.ok(!noAccount.some((n) => n.startsWith('slurm_account_')) && noAccount.includes('slurm_user_jobs_gres_allocated'));
    assert.equal(names(collect(gpuNodes(), jobs, { perUser: false, perAccount: false })).length, 10);
  });

  it('writes nothing until both nodes and jobs have a snapshot', () => {
    const ctx = (data: Partial<ResourceData>): CollectContext => ({ cluster: 'x', data, now: 0, limits: LIMITS, anomaly: () => {} });
    assert.deepEqual(gpusCollector.collect(ctx({ nodes: gpuNodes() })), []);
    assert.deepEqual(gpusCollector.collect(ctx({ jobs })), []);
    assert.equal(gpusCollector.group, 'nodes');
    assert.deepEqual(gpusCollector.needs, ['nodes', 'jobs']);
  });
});
