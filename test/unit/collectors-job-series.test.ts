import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jobOrder, jobSeriesCollector } from '../../src/collectors/job-series.ts';
import type { MetricFamily } from '../../src/exposition/types.ts';
import { renderFamilies } from '../../src/exposition/writer.ts';
import type { SlurmJob } from '../../src/slurm/model.ts';
import { MB, job } from './collectors-helpers.ts';
import { FIXTURE_CASES, fixtureJobs, jobsCtx, promtoolCheck, rawJobs } from './job-events-helpers.ts';

function collect(jobs: SlurmJob[], maxJobs = 1000, cluster = 'lab2'): MetricFamily[] {
  return jobSeriesCollector.collect(jobsCtx(jobs, { limits: { maxJobs }, cluster }));
}

function samples(out: MetricFamily[], name: string): { values: readonly string[]; value: number }[] {
  const f = out.find((x) => x.desc.name === name);
  assert.ok(f, `no ${name}`);
  return f.samples;
}

const ids = (out: MetricFamily[]) => samples(out, 'slurm_job_info').map((s) => Number(s.values[1]));
const folded = (out: MetricFamily[]) => samples(out, 'slurm_job_series_folded')[0]?.value;

describe('job series (opt-in, limits.jobs)', () => {
  it('is switched by limits.jobs in the jobs group', () => {
    assert.equal(jobSeriesCollector.switch, 'jobs');
    assert.equal(jobSeriesCollector.group, 'jobs');
    assert.deepEqual(jobSeriesCollector.needs, ['jobs']);
  });

  it('writes one info series and the sizes per job', () => {
    const out = collect([
      job(7, 'running', ['gpu'], { user: 'grace', account: 'chem', cpus: 8, memoryBytes: 4000 * MB, gpus: 2 }),
      job(8, 'pending', ['cpu', 'preempt'], { cpus: 2, memoryBytes: 1000 * MB }),
    ]);
    assert.deepEqual(samples(out, 'slurm_job_info'), [
      { values: ['lab2', '7', 'grace', 'chem', 'gpu', 'running'], value: 1 },
      { values: ['lab2', '8', 'ada', 'physics', 'cpu,preempt', 'pending'], value: 1 },
    ]);
    assert.deepEqual(samples(out, 'slurm_job_cpus'), [{ values: ['lab2', '7'], value: 8 }, { values: ['lab2', '8'], value: 2 }]);
    assert.deepEqual(samples(out, 'slurm_job_memory_bytes').map((s) => s.value), [4000 * MB, 1000 * MB]);
    assert.deepEqual(samples(out, 'slurm_job_gpus').map((s) => s.value), [2, 0]);
    assert.equal(folded(out), 0);
  });

  it('keeps maxJobs jobs: running first, then by CPUs, then job id; counts the rest as folded', () => {
    const jobs = [
      job(1, 'pending', ['a'], { cpus: 64 }),
      job(2, 'running', ['a'], { cpus: 1 }),
      job(3, 'running', ['a'], { cpus: 4 }),
      job(4, 'completed', ['a'], { cpus: 4 }),
      job(5, 'running', ['a'], { cpus: 4 }),
    ];
    assert.deepEqual(ids(collect(jobs, 4)), [3, 5, 2, 1]);
    assert.equal(folded(collect(jobs, 4)), 1);
    assert.deepEqual(ids(collect(jobs, 1)), [3]);
    assert.equal(folded(collect(jobs, 1)), 4);
    assert.deepEqual([...jobs].sort(jobOrder).map((j) => j.jobId), [3, 5, 2, 1, 4]);
  });

  it('gives the same output twice on the same snapshot and leaves the snapshot unsorted', () => {
    const jobs = [job(2, 'pending', ['a']), job(1, 'running', ['a'])];
    assert.equal(renderFamilies(collect(jobs, 1), 'text'), renderFamilies(collect(jobs, 1), 'text'));
    assert.deepEqual(jobs.map((j) => j.jobId), [2, 1]);
  });

  it('writes only the folded count when there are no jobs', () => {
    const out = collect([]);
    assert.deepEqual(out.filter((f) => f.samples.length > 0).map((f) => f.desc.name), ['slurm_job_series_folded']);
    assert.equal(folded(out), 0);
  });
});

describe('job series on every captured API version', () => {
  for (const fc of FIXTURE_CASES) {
    it(fc.file, async () => {
      const jobs = await fixtureJobs(fc);
      const raw = rawJobs(fc);
      const out = collect(jobs, 1000, fc.cluster);
      const info = samples(out, 'slurm_job_info');
      assert.deepEqual(info.map((s) => Number(s.values[1])).sort((a, b) => a - b), raw.map((j) => j.id).sort((a, b) => a - b));
      const byId = new Map(raw.map((j) => [String(j.id), j]));
      for (const s of info) {
        const r = byId.get(s.values[1]!)!;
        assert.deepEqual([s.values[0], s.values[3], s.values[4], s.values[5]], [fc.cluster, r.account, r.partition, r.state], `job ${s.values[1]}`);
      }
      promtoolCheck(renderFamilies(out, 'text'));
      // Capped at 3: the running jobs with the most CPUs.
      const capped = collect(jobs, 3, fc.cluster);
      assert.deepEqual(ids(capped), fc.version === 'v0.0.38' ? [2, 1, 4] : [1, 3, 4]);
      assert.equal(folded(capped), raw.length - 3);
    });
  }

  it('25.11: with room for 10, the big pending job (12 CPUs) follows the running ones', async () => {
    const out = collect(await fixtureJobs(FIXTURE_CASES.at(-1)!), 10);
    assert.deepEqual(ids(out), [1, 3, 4, 2, 5, 7, 8, 9, 12, 6]);
    assert.equal(folded(out), 12);
  });
});
