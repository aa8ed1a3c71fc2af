// The users collector: per-user, per-account and per-QOS job figures on every captured API version (checked
// against squeue of the same capture and against tables read off it by hand), and hand-made edge cases: folding
// at the limits, the switches, names shared by a user and an account, jobs without GPUs, multi-partition jobs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { usersCollector } from '../../src/collectors/users.ts';
import type { CardinalityLimits, CollectContext } from '../../src/collectors/collector.ts';
import type { MetricFamily } from '../../src/exposition/types.ts';
import type { ResourceData, SlurmJob } from '../../src/slurm/model.ts';
import { adapterFor } from '../../src/slurm/rest/adapters/index.ts';
import { MB, byLabels, job } from './collectors-helpers.ts';

type Rec = Record<string, unknown>;
const FIX = new URL('../fixtures/', import.meta.url);
const read = (rel: string): Rec => JSON.parse(readFileSync(new URL(rel, FIX), 'utf8')) as Rec;

const LIMITS: CardinalityLimits = {
  perNode: true, maxReasonLength: 100, perUser: true, perAccount: true, perQos: true, maxUsers: 200, maxAccounts: 200, jobs: false, maxJobs: 1000,
};

function context(data: Partial<ResourceData>, limits: Partial<CardinalityLimits> = {}, cluster = 'lab2'): CollectContext {
  return { cluster, data, now: 0, limits: { ...LIMITS, ...limits }, anomaly: () => {} };
}

function collect(jobs: SlurmJob[], limits: Partial<CardinalityLimits> = {}, cluster = 'lab2'): MetricFamily[] {
  const out = usersCollector.collect(context({ jobs }, limits, cluster));
  for (const f of out) for (const s of f.samples) assert.equal(s.values[0], cluster, `${f.desc.name}: cluster first`);
  assert.deepEqual(usersCollector.collect(context({ jobs }, limits, cluster)), out, 'same output for the same snapshot');
  return out;
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

// ---- captured answers ----------------------------------------------------------------------------------------

interface Case {
  version: string;
  jobs: string;
  squeue: string;
}
const CASES: Case[] = [
  { version: 'v0.0.38', jobs: 'slurm-22.05/slurm_v0.0.38_jobs.json', squeue: 'slurm-22.05/cli/squeue.json' },
  ...['v0.0.40', 'v0.0.41', 'v0.0.42', 'v0.0.43'].map((v) => ({ version: v, jobs: `slurm-25.05.8/rest_${v}_slurm_jobs.json`, squeue: 'slurm-25.05.8/cli_squeue.json' })),
  ...['v0.0.41', 'v0.0.42', 'v0.0.43', 'v0.0.44'].map((v) => ({ version: v, jobs: `slurm-25.11.7/rest_${v}_slurm_jobs.json`, squeue: 'slurm-25.11.7/cli_squeue.json' })),
];

function fixtureJobs(c: Case): SlurmJob[] {
  const adapter = adapterFor(c.version)!;
  return (read(c.jobs).jobs as Rec[]).map((r) => adapter.job(r, { unknown: [] })!);
}

/** What squeue says, read without the adapter: per key, `running,pending,cpusA,cpusP,memA,memP,gpusA,gpusP`. */
function fromSqueue(rel: string, key: 'user_name' | 'account' | 'qos'): Record<string, string> {
  const acc: Record<string, number[]> = {};
  for (const j of read(rel).jobs as Rec[]) {
    const state = String(Array.isArray(j.job_state) ? j.job_state[0] : j.job_state).toLowerCase();
    if (state !== 'running' && state !== 'pending') continue;
    const tres = String(state === 'running' ? j.tres_alloc_str : j.tres_req_str);
    const m = /mem=(\d+)([MG])/.exec(tres)!;
    const mem = Number(m[1]) * (m[2] === 'G' ? 1024 : 1) * MB;
    const gpus = Number(/gres\/gpu=(\d+)/.exec(tres)?.[1] ?? 0);
    const cpus = typeof j.cpus === 'number' ? j.cpus : (j.cpus as { number: number }).number;
    const a = (acc[String(j[key])] ??= [0, 0, 0, 0, 0, 0, 0, 0]);
    const off = state === 'running' ? 0 : 1;
    a[off]! += 1;
    a[2 + off]! += cpus;
    a[4 + off]! += mem;
    a[6 + off]! += gpus;
  }
  return Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, v.join(',')]));
}

/** The collector's figures in the same shape as fromSqueue. */
function table(out: MetricFamily[], prefix: string): Record<string, string> {
  const jobs = byLabels(out, `${prefix}_jobs`);
  const names = ['_jobs_cpus_allocated', '_jobs_pending_cpus', '_jobs_memory_allocated_bytes', '_jobs_pending_memory_bytes', '_jobs_gpus_allocated', '_jobs_pending_gpus'];
  const fields = names.map((n) => byLabels(out, prefix + n));
  const keys = Object.keys(fields[0]!);
  return Object.fromEntries(keys.map((k) => [k, [jobs[`${k},running`], jobs[`${k},pending`], ...fields.map((f) => f[k])].join(',')]));
}

const M = (mb: number): number => mb * MB;
// Read off squeue / scontrol show jobs by hand (running and pending jobs only).
const LAB2_USERS = {
  ada: `5,5,6,16,${M(3500)},${M(8000)},3,2`,
  grace: `2,3,5,3,${M(2500)},${M(1500)},0,2`,
  root: `1,2,2,2,${M(1000)},${M(1000)},0,0`,
};
const LAB2_QOS = { normal: `8,9,13,9,${M(7000)},${M(4500)},3,4`, high: `0,1,0,12,0,${M(6000)},0,0` };
const LAB_USERS = {
  root: `2,3,2,3,${M(1000)},${M(1500)},0,0`,
  alice: `2,3,3,4,${M(1524)},${M(2000)},1,2`,
  bob: `3,3,3,3,${M(1500)},${M(1500)},0,0`,
};
const LAB_QOS = { normal: `6,9,6,10,${M(3000)},${M(5000)},1,2`, high: `1,0,2,0,${M(1024)},0,0,0` };

describe('users collector on every captured API version', () => {
  for (const c of CASES) {
    it(`${c.version} (${c.jobs.split('/')[0]}): agrees with squeue of the same capture`, () => {
      const old = c.version === 'v0.0.38';
      const out = collect(fixtureJobs(c), {}, old ? 'lab' : 'lab2');
      assert.deepEqual(table(out, 'slurm_user'), fromSqueue(c.squeue, 'user_name'));
      assert.deepEqual(table(out, 'slurm_account'), fromSqueue(c.squeue, 'account'));
      assert.deepEqual(table(out, 'slurm_qos'), fromSqueue(c.squeue, 'qos'));
      assert.deepEqual(table(out, 'slurm_user'), old ? LAB_USERS : LAB2_USERS);
      assert.deepEqual(table(out, 'slurm_qos'), old ? LAB_QOS : LAB2_QOS);
      assert.equal(byLabels(out, 'slurm_users_folded')[''], 0);
      assert.equal(byLabels(out, 'slurm_accounts_folded')[''], 0);
    });
  }

  it('25.11: "root" is both a user and an account, and each breakdown keeps its own', () => {
    const out = collect(fixtureJobs(CASES.at(-1)!));
    assert.deepEqual(byLabels(out, 'slurm_account_jobs_cpus_allocated'), { chemistry: 5, physics: 6, root: 2 });
    assert.deepEqual(byLabels(out, 'slurm_user_jobs_cpus_allocated'), { grace: 5, ada: 6, root: 2 });
  });
});

// ---- hand-made -----------------------------------------------------------------------------------------------

/** Five users: u1 largest by allocated CPUs ... u5 smallest; u3 and u4 tie on allocated CPUs, u4 has more pending. */
function fiveUsers(): SlurmJob[] {
  const run = (id: number, user: string, account: string, cpus: number, gpus = 0) =>
    job(id, 'running', ['cpu'], { user, account, cpus, gpus, memoryBytes: cpus * 1000 * MB });
  const pend = (id: number, user: string, account: string, cpus: number, gpus = 0) =>
    job(id, 'pending', ['cpu', 'long'], { user, account, cpus, gpus, memoryBytes: cpus * 500 * MB });
  return [
    run(1, 'u1', 'a1', 64, 4), run(2, 'u1', 'a1', 32), pend(3, 'u1', 'a1', 8, 2),
    run(4, 'u2', 'a2', 48),
    run(5, 'u3', 'a2', 16), pend(6, 'u3', 'a2', 1),
    run(7, 'u4', 'a3', 16), pend(8, 'u4', 'a3', 4, 1),
    pend(9, 'u5', 'a3', 2),
    job(10, 'completed', ['cpu'], { user: 'u6', account: 'a4', cpus: 999 }),
    job(11, 'failed', ['cpu'], { user: 'u1', account: 'a1', cpus: 999 }),
  ];
}

const FAMILIES = ['_jobs_cpus_allocated', '_jobs_pending_cpus', '_jobs_memory_allocated_bytes', '_jobs_pending_memory_bytes', '_jobs_gpus_allocated', '_jobs_pending_gpus'];

describe('users collector: folding at the limits', () => {
  const jobs = fiveUsers();

  it('keeps the largest users by allocated CPUs, ties by pending CPUs, and sums the rest under "other"', () => {
    const out = collect(jobs, { maxUsers: 2 });
    assert.deepEqual(byLabels(out, 'slurm_user_jobs_cpus_allocated'), { u1: 96, u2: 48, other: 32 });
    assert.equal(byLabels(out, 'slurm_users_folded')[''], 3);
    const three = collect(jobs, { maxUsers: 3 });
    assert.deepEqual(Object.keys(byLabels(three, 'slurm_user_jobs_cpus_allocated')).sort(), ['other', 'u1', 'u2', 'u4'], 'u4 wins the tie with u3 on pending CPUs');
  });

  it('ties on allocated and pending CPUs go by name', () => {
    const tie = [job(1, 'running', ['cpu'], { user: 'zed', cpus: 4 }), job(2, 'running', ['cpu'], { user: 'amy', cpus: 4 })];
    assert.deepEqual(byLabels(collect(tie, { maxUsers: 1 }), 'slurm_user_jobs_cpus_allocated'), { other: 4, amy: 4 });
  });

  it('the folded sums still add up to the cluster totals, for users and accounts', () => {
    const active = jobs.filter((j) => j.state === 'running' || j.state === 'pending');
    const total = (state: string, f: (j: SlurmJob) => number) => active.filter((j) => j.state === state).reduce((s, j) => s + f(j), 0);
    const want = [
      total('running', (j) => j.cpus), total('pending', (j) => j.cpus), total('running', (j) => j.memoryBytes),
      total('pending', (j) => j.memoryBytes), total('running', (j) => j.gpus), total('pending', (j) => j.gpus),
    ];
    for (const limits of [{ maxUsers: 2, maxAccounts: 1 }, { maxUsers: 1, maxAccounts: 2 }, {}]) {
      const out = collect(jobs, limits);
      for (const prefix of ['slurm_user', 'slurm_account', 'slurm_qos']) {
        assert.deepEqual(FAMILIES.map((f) => sum(byLabels(out, prefix + f))), want, `${prefix} ${JSON.stringify(limits)}`);
        const states = byLabels(out, `${prefix}_jobs`);
        assert.equal(sum(states), active.length, `${prefix}_jobs`);
      }
    }
  });

  it('folds accounts by their own limit', () => {
    const out = collect(jobs, { maxAccounts: 1 });
    assert.deepEqual(byLabels(out, 'slurm_account_jobs_cpus_allocated'), { a1: 96, other: 80 });
    assert.equal(byLabels(out, 'slurm_accounts_folded')[''], 2);
    assert.equal(byLabels(out, 'slurm_users_folded')[''], 0);
  });
});

describe('users collector: edge cases', () => {
  it('each breakdown has its own switch; all off writes nothing', () => {
    const jobs = fiveUsers();
    const names = (out: MetricFamily[]) => new Set(out.map((f) => f.desc.name.split('_')[1]));
    assert.deepEqual(names(collect(jobs, { perUser: false })), new Set(['account', 'accounts', 'qos']));
    assert.deepEqual(names(collect(jobs, { perAccount: false })), new Set(['user', 'users', 'qos']));
    assert.deepEqual(names(collect(jobs, { perQos: false })), new Set(['user', 'users', 'account', 'accounts']));
    assert.deepEqual(collect(jobs, { perUser: false, perAccount: false, perQos: false }), []);
    assert.deepEqual(usersCollector.collect(context({})), [], 'no jobs snapshot yet');
  });

  it('a user and an account with the same name do not mix', () => {
    const jobs = [
      job(1, 'running', ['cpu'], { user: 'physics', account: 'chemistry', cpus: 2 }),
      job(2, 'running', ['cpu'], { user: 'ada', account: 'physics', cpus: 8 }),
    ];
    const out = collect(jobs);
    assert.deepEqual(byLabels(out, 'slurm_user_jobs_cpus_allocated'), { physics: 2, ada: 8 });
    assert.deepEqual(byLabels(out, 'slurm_account_jobs_cpus_allocated'), { chemistry: 2, physics: 8 });
  });

  it('a job with no GPUs gives 0 GPU series, not missing ones', () => {
    const out = collect([job(1, 'running', ['cpu'], { user: 'ada', cpus: 4 }), job(2, 'pending', ['cpu'], { user: 'ada', cpus: 2 })]);
    assert.deepEqual(byLabels(out, 'slurm_user_jobs_gpus_allocated'), { ada: 0 });
    assert.deepEqual(byLabels(out, 'slurm_user_jobs_pending_gpus'), { ada: 0 });
    assert.deepEqual(byLabels(out, 'slurm_user_jobs'), { 'ada,running': 1, 'ada,pending': 1 });
  });

  it('a pending job naming two partitions counts once', () => {
    const out = collect([job(1, 'pending', ['cpu', 'long'], { user: 'ada', cpus: 16, gpus: 2 })]);
    assert.deepEqual(byLabels(out, 'slurm_user_jobs_pending_cpus'), { ada: 16 });
    assert.deepEqual(byLabels(out, 'slurm_qos_jobs_pending_gpus'), { normal: 2 });
  });

  it('declares every family it writes, each with cluster first', () => {
    const declared = new Set(usersCollector.metrics.map((d) => d.name));
    for (const f of collect(fiveUsers(), { maxUsers: 1 })) {
      assert.ok(declared.has(f.desc.name), f.desc.name);
      assert.equal(f.desc.labels[0], 'cluster');
    }
    assert.equal(usersCollector.group, 'jobs');
    assert.deepEqual(usersCollector.needs, ['jobs']);
  });
});
