import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PENDING_REASONS, arrayTaskCount, jobsCollector } from '../../src/collectors/jobs.ts';
import { LAB2_NOW, MB, byLabels, ctx, fam, job, lab2Jobs, nonZero, scalar } from './collectors-helpers.ts';

describe('jobs collector, Slurm 25.11 lab scenario', () => {
  const jobs = lab2Jobs();
  (jobs.find((j) => j.jobId === 20) as { stateFlags: string[] }).stateFlags = ['completing'];
  (jobs.find((j) => j.jobId === 13) as { stateFlags: string[] }).stateFlags = ['requeued'];
  const c = ctx({ jobs }, { now: LAB2_NOW });
  const out = jobsCollector.collect(c);

  it('counts job records by base state; the sum is the number of records', () => {
    const states = byLabels(out, 'slurm_jobs');
    assert.deepEqual(nonZero(states), { running: 8, pending: 10, failed: 1, completed: 1, cancelled: 1, timeout: 1 });
    assert.equal(states.out_of_memory, 0);
    assert.equal(states.node_fail, 0);
    assert.equal(Object.values(states).reduce((a, b) => a + b, 0), jobs.length);
    assert.deepEqual(c.anomalies, []);
  });

  it('counts state flags with zeros for the common ones', () => {
    assert.deepEqual(byLabels(out, 'slurm_jobs_with_flag'), { completing: 1, configuring: 0, requeued: 1 });
  });

  it('counts pending jobs by reason once cluster-wide and in each named partition', () => {
    assert.deepEqual(byLabels(out, 'slurm_jobs_pending'), {
      JobArrayTaskLimit: 1, Priority: 1, Resources: 2, JobHeldUser: 1, JobHeldAdmin: 1, Dependency: 1,
      PartitionTimeLimit: 1, ReqNodeNotAvail: 1, BeginTime: 1,
    });
    assert.deepEqual(byLabels(out, 'slurm_partition_jobs_pending'), {
      'debug,JobArrayTaskLimit': 1, 'debug,Resources': 1, 'debug,JobHeldUser': 1, 'debug,JobHeldAdmin': 1,
      'debug,Dependency': 1, 'debug,PartitionTimeLimit': 1, 'debug,BeginTime': 1,
      'gpu,Priority': 1, 'gpu,Resources': 1, 'long,Resources': 1, 'long,ReqNodeNotAvail': 1,
    });
  });

  it('counts the tasks a pending array range stands for', () => {
    assert.equal(scalar(out, 'slurm_jobs_pending_array_tasks'), 5);
  });

  it('sums resources of running jobs cluster-wide and per partition', () => {
    assert.equal(scalar(out, 'slurm_jobs_cpus_allocated'), 16);
    assert.equal(scalar(out, 'slurm_jobs_memory_allocated_bytes'), 8500 * MB);
    assert.equal(scalar(out, 'slurm_jobs_gpus_allocated'), 3);
    assert.deepEqual(byLabels(out, 'slurm_partition_jobs_cpus_allocated'), { long: 4, gpu: 3, debug: 9 });
    assert.deepEqual(byLabels(out, 'slurm_partition_jobs_gpus_allocated'), { long: 0, gpu: 3, debug: 0 });
    assert.deepEqual(byLabels(out, 'slurm_partition_jobs_memory_allocated_bytes'), { long: 4000 * MB, gpu: 1500 * MB, debug: 3000 * MB });
  });

  it('sums what pending jobs ask for, a multi-partition job in each partition', () => {
    assert.equal(scalar(out, 'slurm_jobs_pending_cpus'), 25);
    assert.equal(scalar(out, 'slurm_jobs_pending_gpus'), 4);
    assert.deepEqual(byLabels(out, 'slurm_partition_jobs_pending_cpus'), { debug: 22, gpu: 2, long: 17 });
    assert.deepEqual(nonZero(byLabels(out, 'slurm_partition_jobs_pending_gpus')), { gpu: 4 });
  });

  it('measures pending waits from the snapshot time', () => {
    assert.equal(scalar(out, 'slurm_jobs_pending_oldest_wait_seconds'), 600);
    assert.equal(scalar(out, 'slurm_jobs_pending_wait_seconds'), 1500);
    assert.equal(scalar(out, 'slurm_jobs_pending_waiting'), 10);
    assert.deepEqual(byLabels(out, 'slurm_partition_jobs_pending_oldest_wait_seconds'), { debug: 600, gpu: 300, long: 100 });
    assert.deepEqual(byLabels(out, 'slurm_partition_jobs_pending_wait_seconds'), { debug: 950, gpu: 500, long: 150 });
    assert.deepEqual(byLabels(out, 'slurm_partition_jobs_pending_waiting'), { debug: 7, gpu: 2, long: 2 });
  });
});

describe('jobs collector, edge cases', () => {
  it('passes unknown states and flags through without reporting them again', () => {
    const c = ctx({
      jobs: [
        job(1, 'teleported', ['a'], { stateFlags: ['glowing'] }),
        job(2, 'teleported', ['a'], { stateFlags: ['glowing'] }),
        job(3, 'out_of_memory', ['a']),
        job(4, 'node_fail', ['a']),
        job(5, 'boot_fail', ['a']),
        job(6, 'deadline', ['a']),
        job(7, 'preempted', ['a']),
      ],
    });
    const out = jobsCollector.collect(c);
    const states = byLabels(out, 'slurm_jobs');
    assert.equal(states.teleported, 2);
    for (const s of ['out_of_memory', 'node_fail', 'boot_fail', 'deadline', 'preempted']) assert.equal(states[s], 1, s);
    assert.equal(byLabels(out, 'slurm_jobs_with_flag').glowing, 2);
    // The adapter reports unknown words once when it reads them (resource-framework.test.ts); the collector
    // passes them through without reporting them a second time.
    assert.deepEqual(c.anomalies, []);
  });

  it(`keeps at most ${MAX_PENDING_REASONS} pending reasons and folds the rarest into "other"`, () => {
    const jobs = [];
    let id = 1;
    // Reason r0 has 150 jobs, r1 149, ..., so the top 100 are r0..r99.
    for (let r = 0; r < 150; r++) for (let k = 0; k < 150 - r; k++) jobs.push(job(id++, 'pending', ['p'], { reason: `r${r}` }));
    const c = ctx({ jobs });
    const out = jobsCollector.collect(c);
    const reasons = byLabels(out, 'slurm_jobs_pending');
    assert.equal(Object.keys(reasons).length, MAX_PENDING_REASONS + 1);
    assert.equal(reasons.r0, 150);
    assert.equal(reasons.r99, 51);
    assert.equal(reasons.r100, undefined);
    assert.equal(reasons.other, (50 * 51) / 2); // r100..r149 have 50..1 jobs
    assert.equal(Object.values(reasons).reduce((a, b) => a + b, 0), jobs.length);
    assert.equal(byLabels(out, 'slurm_partition_jobs_pending')['p,other'], (50 * 51) / 2);
    assert.equal(c.anomalies.length, 1);
  });

  it('keeps zero series for a partition whose jobs all finished', () => {
    const out = jobsCollector.collect(ctx({ jobs: [job(1, 'completed', ['gpu'])] }));
    assert.deepEqual(byLabels(out, 'slurm_partition_jobs_cpus_allocated'), { gpu: 0 });
    assert.deepEqual(byLabels(out, 'slurm_partition_jobs_pending_oldest_wait_seconds'), { gpu: 0 });
    assert.equal(scalar(out, 'slurm_jobs_pending_oldest_wait_seconds'), 0);
  });

  it('ignores pending jobs without a submit time in wait figures and never reports negative ages', () => {
    const out = jobsCollector.collect(ctx({ jobs: [job(1, 'pending', ['p']), job(2, 'pending', ['p'], { submitTime: 2000 })] }, { now: 1000 }));
    assert.equal(scalar(out, 'slurm_jobs_pending_waiting'), 1);
    assert.equal(scalar(out, 'slurm_jobs_pending_wait_seconds'), 0);
  });

  it('falls back to the wall clock when the context carries no snapshot time', () => {
    const submit = Math.floor(Date.now() / 1000) - 3600;
    const out = jobsCollector.collect(ctx({ jobs: [job(1, 'pending', ['p'], { submitTime: submit })] }));
    const age = scalar(out, 'slurm_jobs_pending_oldest_wait_seconds');
    assert.ok(age >= 3600 && age < 3600 + 600, `age ${age}`);
  });

  it('reports an array task range it cannot read', () => {
    const c = ctx({ jobs: [job(1, 'pending', ['p'], { arrayTaskString: 'garbage' })] });
    const out = jobsCollector.collect(c);
    assert.equal(scalar(out, 'slurm_jobs_pending_array_tasks'), 0);
    assert.deepEqual(c.anomalies, ['array task range "garbage"']);
    assert.equal(fam(out, 'slurm_jobs').samples.length, 12); // the standard states, nothing invented
  });
});

describe('arrayTaskCount', () => {
  it('counts ranges, lists, steps and ignores the throttle', () => {
    assert.equal(arrayTaskCount('4-8%3'), 5);
    assert.equal(arrayTaskCount('[3-6%2]'), 4);
    assert.equal(arrayTaskCount('1,3,5-7'), 5);
    assert.equal(arrayTaskCount('0-15:4'), 4);
    assert.equal(arrayTaskCount('7'), 1);
  });
  it('rejects what is not a task expression', () => {
    assert.equal(arrayTaskCount(''), undefined);
    assert.equal(arrayTaskCount('8-4'), undefined);
    assert.equal(arrayTaskCount('a-b'), undefined);
    assert.equal(arrayTaskCount('1-5:0'), undefined);
  });
});
