import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createFinishedCollector } from '../../src/collectors/finished.ts';
import type { StatefulCollector } from '../../src/collectors/job-events.ts';
import type { MetricFamily } from '../../src/exposition/types.ts';
import { renderFamilies } from '../../src/exposition/writer.ts';
import type { SlurmJob } from '../../src/slurm/model.ts';
import { job } from './collectors-helpers.ts';
import { FIXTURE_CASES, fixtureJobs, jobsCtx, promtoolCheck, rawJobs } from './job-events-helpers.ts';

const NAME = 'slurm_jobs_finished_total';
const T = 1795500000;
const TERMINAL = ['completed', 'failed', 'timeout', 'out_of_memory', 'node_fail', 'cancelled', 'preempted', 'boot_fail', 'deadline'];

/** Samples as { 'state,partition' → value }, cluster checked. */
function all(out: MetricFamily[], cluster = 'lab2'): Record<string, number> {
  const f = out.find((x) => x.desc.name === NAME);
  assert.ok(f, 'no finished family');
  const r: Record<string, number> = {};
  for (const s of f.samples) {
    assert.equal(s.values[0], cluster);
    const k = s.values.slice(1).join(',');
    assert.ok(!(k in r), `duplicate series ${k}`);
    r[k] = s.value;
  }
  return r;
}

const nonZero = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== 0));

function step(c: StatefulCollector, jobs: SlurmJob[], o: Parameters<typeof jobsCtx>[1] = {}): Record<string, number> {
  return all(c.collect(jobsCtx(jobs, o)), o.cluster);
}

const ended = (id: number, state: string, end: number, o: Partial<SlurmJob> = {}): SlurmJob =>
  job(id, state, ['cpu'], { submitTime: T, startTime: T + 1, endTime: end, ...o });

describe('finished jobs: counted once per job end', () => {
  it('pending → running → completed counts once, and stays counted after slurmctld forgets the job', () => {
    const c = createFinishedCollector();
    step(c, []);
    step(c, [job(1, 'pending', ['cpu'])]);
    step(c, [job(1, 'running', ['cpu'], { startTime: T + 1, endTime: T + 3600 })]);
    assert.deepEqual(nonZero(step(c, [ended(1, 'completed', T + 60, { stateFlags: ['completing'] })])), { 'completed,cpu': 1 });
    assert.deepEqual(nonZero(step(c, [ended(1, 'completed', T + 60)])), { 'completed,cpu': 1 });
    assert.deepEqual(nonZero(step(c, [])), { 'completed,cpu': 1 }, 'a counter does not drop when the job is purged');
  });

  it('seeds every end state at 0 for every partition seen, in a stable order', () => {
    const c = createFinishedCollector();
    const out = step(c, [job(1, 'pending', ['cpu', 'preempt']), job(2, 'running', ['gpu'])]);
    assert.deepEqual(Object.keys(out), ['cpu', 'preempt', 'gpu'].flatMap((p) => TERMINAL.map((s) => `${s},${p}`)));
    assert.ok(Object.values(out).every((v) => v === 0));
  });

  it('a requeued job that ends again counts again', () => {
    const c = createFinishedCollector();
    step(c, []);
    step(c, [ended(1, 'node_fail', T + 100)]);
    step(c, [job(1, 'pending', ['cpu'], { stateFlags: ['requeued'] })]);
    assert.deepEqual(nonZero(step(c, [ended(1, 'completed', T + 900)])), { 'node_fail,cpu': 1, 'completed,cpu': 1 });
    assert.deepEqual(nonZero(step(c, [ended(1, 'failed', T + 950)])), { 'node_fail,cpu': 1, 'completed,cpu': 1, 'failed,cpu': 1 }, 'requeued and ended between two polls');
  });

  it('counts a job first seen already ended, in every end state, and a job cancelled while pending', () => {
    const c = createFinishedCollector();
    step(c, []);
    const out = step(c, [
      ...TERMINAL.map((s, i) => ended(i + 1, s, T + 10)),
      job(20, 'cancelled', ['cpu', 'preempt'], { submitTime: T, startTime: T + 5, endTime: T + 5 }),
      job(21, 'teleported', ['cpu'], { endTime: T + 9 }),
    ]);
    assert.deepEqual(nonZero(out), { ...Object.fromEntries(TERMINAL.map((s) => [`${s},cpu`, 1])), 'cancelled,cpu': 2 });
  });

  it('the first snapshot is the baseline, so a restart counts nothing twice', () => {
    const snaps = [[ended(1, 'completed', T + 10)], [ended(1, 'completed', T + 10), ended(2, 'failed', T + 20)]];
    const a = createFinishedCollector();
    for (const s of snaps) step(a, s);
    assert.deepEqual(nonZero(step(a, snaps[1]!)), { 'failed,cpu': 1 });
    const restarted = createFinishedCollector();
    assert.deepEqual(nonZero(step(restarted, snaps[1]!)), {}, 'after a restart the ended jobs of the first poll are baseline');
  });

  it('gives the same output when called twice on the same snapshot, and follows a cluster label change', () => {
    const c = createFinishedCollector();
    step(c, []);
    const snap = [ended(1, 'timeout', T + 10), ended(2, 'completed', T + 10)];
    const a = renderFamilies(c.collect(jobsCtx(snap)), 'text');
    assert.equal(renderFamilies(c.collect(jobsCtx(snap)), 'text'), a);
    assert.equal(renderFamilies(c.collect(jobsCtx(snap, { cluster: 'renamed' })), 'text'), a.replaceAll('cluster="lab2"', 'cluster="renamed"'));
    assert.ok(a.includes('slurm_jobs_finished_total{cluster="lab2",state="timeout",partition="cpu"} 1\n'), a);
  });

  it('forgets ids the snapshot no longer lists', () => {
    const c = createFinishedCollector();
    step(c, []);
    step(c, [ended(1, 'completed', T + 10), ended(2, 'completed', T + 10), job(3, 'running', ['cpu'])]);
    assert.equal(c.remembered(), 2, 'ended jobs only');
    step(c, [ended(2, 'completed', T + 10)]);
    assert.equal(c.remembered(), 1);
  });
});

describe('finished jobs on every captured API version (second snapshot after an empty baseline)', () => {
  const TERMINAL_RAW = new Set(TERMINAL);
  for (const fc of FIXTURE_CASES) {
    it(fc.file, async () => {
      const c = createFinishedCollector();
      step(c, [], { cluster: fc.cluster });
      const jobs = await fixtureJobs(fc);
      const out = c.collect(jobsCtx(jobs, { cluster: fc.cluster }));
      const got = all(out, fc.cluster);
      const want: Record<string, number> = {};
      const raw = rawJobs(fc);
      for (const j of raw.filter((x) => TERMINAL_RAW.has(x.state))) want[`${j.state},${j.partition}`] = (want[`${j.state},${j.partition}`] ?? 0) + 1;
      assert.deepEqual(nonZero(got), want);
      const partitions = new Set(raw.map((j) => j.partition));
      assert.equal(Object.keys(got).length, partitions.size * TERMINAL.length, 'every end state for every partition');
      promtoolCheck(renderFamilies(out, 'text'));
    });
  }

  it('the scenarios themselves: 22.05 and 25.x end one job of each of four states', async () => {
    const counted = async (i: number) => {
      const c = createFinishedCollector();
      step(c, [], { cluster: FIXTURE_CASES[i]!.cluster });
      return nonZero(all(c.collect(jobsCtx(await fixtureJobs(FIXTURE_CASES[i]!), { cluster: FIXTURE_CASES[i]!.cluster })), FIXTURE_CASES[i]!.cluster));
    };
    assert.deepEqual(await counted(0), { 'timeout,debug': 1, 'completed,debug': 1, 'failed,debug': 1, 'cancelled,batch': 1 });
    const later = { 'failed,debug': 1, 'completed,debug': 1, 'cancelled,long': 1, 'timeout,gpu': 1 };
    assert.deepEqual(await counted(1), later);
    assert.deepEqual(await counted(FIXTURE_CASES.length - 1), later);
  });
});
