import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QUEUE_WAIT_BUCKETS, createQueueWaitCollector, queueWaitSeconds } from '../../src/collectors/queue-wait.ts';
import type { StatefulCollector } from '../../src/collectors/job-events.ts';
import type { MetricFamily } from '../../src/exposition/types.ts';
import { renderFamilies } from '../../src/exposition/writer.ts';
import type { SlurmJob } from '../../src/slurm/model.ts';
import { job } from './collectors-helpers.ts';
import { FIXTURE_CASES, fixtureJobs, jobsCtx, promqlExpect, promtoolCheck, rawJobs, type RawJob } from './job-events-helpers.ts';

const NAME = 'slurm_job_queue_wait_seconds';
const T = 1795500000;

interface Hist {
  count: number;
  sum: number;
  /** Cumulative counts by bound. */
  le: Record<number, number>;
}

/** The histogram's series as { 'partition,account' → count, sum, buckets }, cluster checked. */
function hists(out: MetricFamily[], cluster = 'lab2'): Record<string, Hist> {
  const f = out.find((x) => x.desc.name === NAME);
  assert.ok(f, 'no queue wait family');
  const r: Record<string, Hist> = {};
  for (const s of f.samples) {
    assert.equal(s.values[0], cluster);
    const le = Object.fromEntries(QUEUE_WAIT_BUCKETS.map((b, i) => [b, s.histogram!.buckets[i]!]));
    r[s.values.slice(1).join(',')] = { count: s.value, sum: s.histogram!.sum, le };
  }
  return r;
}

function counts(out: MetricFamily[]): Record<string, number> {
  return Object.fromEntries(Object.entries(hists(out)).map(([k, h]) => [k, h.count]));
}

/** One step: a snapshot of the given jobs. */
function step(c: StatefulCollector, jobs: SlurmJob[], o: Parameters<typeof jobsCtx>[1] = {}): MetricFamily[] {
  return c.collect(jobsCtx(jobs, o));
}

const pending = (id: number, o: Partial<SlurmJob> = {}): SlurmJob => job(id, 'pending', ['cpu'], { submitTime: T, ...o });
const running = (id: number, start: number, o: Partial<SlurmJob> = {}): SlurmJob => job(id, 'running', ['cpu'], { submitTime: T, startTime: start, ...o });

describe('queue wait: one observation per job start', () => {
  it('baseline, then pending → running → completed observes the start once', () => {
    const c = createQueueWaitCollector();
    const base = step(c, [running(1, T + 5), pending(2)]);
    assert.deepEqual(counts(base), { 'cpu,physics': 0 }, 'the baseline observes nothing but has the zero series');
    const started = step(c, [running(1, T + 5), running(2, T + 100)]);
    assert.deepEqual(hists(started)['cpu,physics'], { count: 1, sum: 100, le: le([[300, 1]]) });
    const done = step(c, [job(2, 'completed', ['cpu'], { submitTime: T, startTime: T + 100, endTime: T + 200 })]);
    assert.deepEqual(counts(done), { 'cpu,physics': 1 });
  });

  it('a requeued job that starts again is observed again, also when it restarts between two polls', () => {
    const c = createQueueWaitCollector();
    step(c, []);
    step(c, [running(1, T + 10)]);
    step(c, [pending(1, { submitTime: T + 50, stateFlags: ['requeued'] })]);
    assert.deepEqual(hists(step(c, [running(1, T + 80, { submitTime: T + 50 })]))['cpu,physics'], { count: 2, sum: 40, le: le([[10, 1], [30, 2]]) });
    assert.equal(counts(step(c, [running(1, T + 500, { submitTime: T + 50 })]))['cpu,physics'], 3, 'new start time without a pending poll');
  });

  it('a job first seen already finished is observed; one cancelled before it started is not', () => {
    const c = createQueueWaitCollector();
    step(c, []);
    const out = step(c, [
      job(1, 'completed', ['cpu'], { submitTime: T, startTime: T + 20, endTime: T + 30 }),
      job(2, 'timeout', ['cpu'], { submitTime: T, startTime: T + 40, endTime: T + 40 }),
      job(3, 'cancelled', ['cpu'], { submitTime: T, startTime: T + 60, endTime: T + 60 }),
      job(4, 'cancelled', ['cpu'], { submitTime: T, startTime: T + 60, endTime: T + 90 }),
      job(5, 'deadline', ['cpu'], { submitTime: T, startTime: T + 70, endTime: T + 70 }),
      job(6, 'suspended', ['cpu'], { submitTime: T, startTime: T + 5 }),
      job(7, 'pending', ['cpu'], { submitTime: T, startTime: T + 9999, reason: 'Resources' }),
    ]);
    assert.deepEqual(hists(out)['cpu,physics'], { count: 4, sum: 20 + 40 + 60 + 5, le: le([[10, 1], [30, 2], [60, 4]]) });
  });

  it('jobs of the baseline are never observed, and a restarted exporter does not count them again', () => {
    const snapshots = [[running(1, T + 10)], [running(1, T + 10), running(2, T + 20)]];
    for (let restart = 0; restart < 2; restart++) {
      const c = createQueueWaitCollector();
      const out = snapshots.slice(restart).map((s) => step(c, s)).at(-1)!;
      assert.deepEqual(counts(out), { 'cpu,physics': restart === 0 ? 1 : 0 });
    }
  });

  it('gives the same output when called twice on the same snapshot, and follows a cluster label change', () => {
    const c = createQueueWaitCollector();
    step(c, []);
    const snap = [running(1, T + 10), running(2, T + 700, { account: 'bio' })];
    const a = renderFamilies(step(c, snap), 'text');
    assert.equal(renderFamilies(step(c, snap), 'text'), a);
    assert.equal(renderFamilies(step(c, snap, { cluster: 'renamed' }), 'text'), a.replaceAll('cluster="lab2"', 'cluster="renamed"'));
  });

  it('forgets ids the snapshot no longer lists', () => {
    const c = createQueueWaitCollector();
    step(c, []);
    step(c, [running(1, T + 10), running(2, T + 10), pending(3)]);
    assert.equal(c.remembered(), 2, 'started jobs only');
    step(c, [running(2, T + 10)]);
    assert.equal(c.remembered(), 1);
    // A forgotten job that reappears (it cannot in Slurm: a purged id does not return) counts as a new start.
    assert.equal(counts(step(c, [running(1, T + 10), running(2, T + 10)]))['cpu,physics'], 3);
  });

  it('measures from the eligible time when it is later than the submit time, else from the submit time', () => {
    assert.equal(queueWaitSeconds(running(1, T + 100, { eligibleTime: T + 40 })), 60);
    assert.equal(queueWaitSeconds(running(1, T + 100, { eligibleTime: 0 })), 100);
    assert.equal(queueWaitSeconds(running(1, T + 100, { eligibleTime: T - 40 })), 100, 'eligible before submit: submit');
    assert.equal(queueWaitSeconds(running(1, T + 100, { submitTime: 0 })), undefined);
    assert.equal(queueWaitSeconds(running(1, T + 100, { eligibleTime: T + 200 })), undefined, 'started before eligible: no measure');
  });

  it('counts a wait exactly on a bound in that bucket (le is inclusive), one second more in the next', () => {
    const c = createQueueWaitCollector();
    step(c, []);
    const waits = [0, 10, 11, 60, 604800, 604801];
    const h = hists(step(c, waits.map((w, i) => running(i + 1, T + w))))['cpu,physics']!;
    assert.equal(h.count, 6);
    assert.deepEqual([h.le[10], h.le[30], h.le[60], h.le[300], h.le[604800]], [2, 3, 4, 4, 5]);
  });

  it('keeps the first maxAccounts accounts for good; later ones are "other"', () => {
    const c = createQueueWaitCollector();
    const lim = { limits: { maxAccounts: 2 } };
    step(c, [pending(1, { account: 'a' }), pending(2, { account: 'b' }), pending(3, { account: 'c' })], lim);
    // a leaves the queue; d is new: a keeps its slot, d goes to other, so no label set changes meaning.
    const out = step(c, [running(2, T + 1, { account: 'b' }), running(3, T + 2, { account: 'c' }), running(4, T + 3, { account: 'd' })], lim);
    assert.deepEqual(counts(out), { 'cpu,a': 0, 'cpu,b': 1, 'cpu,other': 2 });
  });

  it('labels a started job with the partition it runs in; zero series for every partition a pending job names', () => {
    const c = createQueueWaitCollector();
    step(c, [job(1, 'pending', ['cpu', 'preempt'], { submitTime: T })]);
    const out = step(c, [job(1, 'running', ['preempt'], { submitTime: T, startTime: T + 3 })]);
    assert.deepEqual(counts(out), { 'cpu,physics': 0, 'preempt,physics': 1 });
  });
});

describe('queue wait: limits.perAccount off', () => {
  it('counts every account under account="other": one series set per partition', () => {
    const c = createQueueWaitCollector();
    const off = { limits: { perAccount: false } };
    step(c, [], off);
    const out = step(c, [running(1, T + 30, { account: 'physics' }), running(2, T + 90, { account: 'chemistry' })], off);
    const accounts = new Set(out[0]!.samples.map((x) => x.values[2]));
    assert.deepEqual([...accounts], ['other']);
    assert.equal(out[0]!.samples.length, 1);
    assert.equal(out[0]!.samples[0]!.value, 2, 'both starts observed');
  });
});

describe('queue wait through the writer', () => {
  function page(): string {
    const c = createQueueWaitCollector();
    step(c, [pending(9, { account: 'bio' })]);
    const waits = [5, 45, 60, 100, 4000];
    return renderFamilies(step(c, waits.map((w, i) => running(i + 1, T + w))), 'text');
  }

  it('writes cumulative buckets ending in +Inf = _count, and passes promtool', () => {
    const text = page();
    assert.ok(text.includes('# TYPE slurm_job_queue_wait_seconds histogram\n'));
    const line = (le: string) => `slurm_job_queue_wait_seconds_bucket{cluster="lab2",partition="cpu",account="physics",le="${le}"} `;
    for (const [le, n] of [['10', 1], ['30', 1], ['60', 3], ['300', 4], ['3600', 4], ['7200', 5], ['604800', 5], ['+Inf', 5]] as const) {
      assert.ok(text.includes(line(le) + n + '\n'), `${le}: ${text}`);
    }
    assert.ok(text.includes('slurm_job_queue_wait_seconds_count{cluster="lab2",partition="cpu",account="physics"} 5\n'));
    assert.ok(text.includes('slurm_job_queue_wait_seconds_sum{cluster="lab2",partition="cpu",account="physics"} 4210\n'));
    assert.ok(text.includes('slurm_job_queue_wait_seconds_count{cluster="lab2",partition="cpu",account="bio"} 0\n'));
    promtoolCheck(text);
  });

  it('histogram_quantile() in Prometheus\' engine reads it: median 52.5 s, 90th percentile 5400 s', () => {
    const text = page();
    // Median: rank 2.5 falls in (30, 60], holding ranks 2..3: 30 + 30 × 1.5/2.
    promqlExpect(text, 'histogram_quantile(0.5, sum by (le) (slurm_job_queue_wait_seconds_bucket))', 52.5);
    // 90th: rank 4.5 falls in (3600, 7200], holding rank 5: 3600 + 3600 × 0.5.
    promqlExpect(text, 'histogram_quantile(0.9, sum by (le) (slurm_job_queue_wait_seconds_bucket{account="physics"}))', 5400);
  });
});

/** Independent count from the raw JSON: started means it got nodes; the wait as the help defines it. */
function rawWaits(jobs: RawJob[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const j of jobs) {
    if (j.state === 'pending' || j.nodes === '') continue;
    const from = j.eligible > 0 && j.eligible >= j.submit ? j.eligible : j.submit;
    const k = `${j.partition},${j.account}`;
    m.set(k, [...(m.get(k) ?? []), j.start - from]);
  }
  return m;
}

// Per fixture family: started jobs and their waits (the captures' scenarios; see the fixtures' READMEs).
const EXPECTED: Record<string, { count: number; sum: number; le10: number; le60: number }> = {
  'slurm-22.05': { count: 10, sum: 8, le10: 10, le60: 10 },
  'slurm-25.05.8': { count: 12, sum: 79, le10: 9, le60: 12 },
  'slurm-25.11.7': { count: 11, sum: 53, le10: 10, le60: 11 },
};

describe('queue wait on every captured API version (second snapshot after an empty baseline)', () => {
  for (const fc of FIXTURE_CASES) {
    it(`${fc.file}`, async () => {
      const c = createQueueWaitCollector();
      step(c, [], { cluster: fc.cluster });
      const out = step(c, await fixtureJobs(fc), { cluster: fc.cluster });
      const got = hists(out, fc.cluster);
      const want = rawWaits(rawJobs(fc));
      for (const [k, waits] of want) {
        assert.equal(got[k]?.count, waits.length, `${k} count`);
        assert.equal(got[k]?.sum, waits.reduce((a, b) => a + b, 0), `${k} sum`);
      }
      for (const [k, h] of Object.entries(got)) if (!want.has(k)) assert.equal(h.count, 0, `${k}: only zero series beyond the started jobs`);
      const all = Object.values(got);
      const total = (f: (h: Hist) => number) => all.reduce((a, h) => a + f(h), 0);
      const e = EXPECTED[fc.file.split('/')[0]!]!;
      assert.deepEqual({ count: total((h) => h.count), sum: total((h) => h.sum), le10: total((h) => h.le[10]!), le60: total((h) => h.le[60]!) }, e);
      promtoolCheck(renderFamilies(out, 'text'));
    });
  }
});

function le(points: [number, number][]): Record<number, number> {
  // Cumulative counts from (bound, count from here on) steps, like a histogram's buckets.
  const r: Record<number, number> = {};
  let cur = 0;
  for (const b of QUEUE_WAIT_BUCKETS) {
    const p = points.find(([x]) => x === b);
    if (p) cur = p[1];
    r[b] = cur;
  }
  return r;
}
