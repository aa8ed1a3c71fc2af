// Job ids are never no-value fields: 4294967294 and 4294967295 (NO_VAL and INFINITE as plain numbers) are
// federated job ids, as is any integer up to 2^53 - 1. Captured records with only their ids changed, plain
// (v0.0.38, Slurm 22.05) and as {set, infinite, number} structs (v0.0.44, Slurm 25.11).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { adapterFor } from '../../src/slurm/rest/adapters/index.ts';
import { JOB_FIELDS } from '../../src/slurm/rest/adapters/fields.ts';
import { streamTopLevelArray } from '../../src/slurm/rest/json-stream.ts';
import type { Anomalies, SlurmJob } from '../../src/slurm/model.ts';

type Rec = Record<string, unknown>;

function capturedJobs(file: string): Rec[] {
  const doc = JSON.parse(readFileSync(new URL(`../fixtures/${file}`, import.meta.url), 'utf8')) as { jobs: Rec[] };
  return doc.jobs;
}

const V38 = { version: 'v0.0.38', file: 'slurm-22.05/slurm_v0.0.38_jobs.json', id: (n: unknown) => n };
const V44 = {
  version: 'v0.0.44',
  file: 'slurm-25.11.7/rest_v0.0.44_slurm_jobs.json',
  id: (n: unknown) => ({ set: true, infinite: false, number: n }),
};

/** The record through the stream reader (as slurmrestd prints it, picked) and the version's adapter. */
async function build(version: string, record: Rec): Promise<{ job: SlurmJob | undefined; anomalies: Anomalies }> {
  const text = JSON.stringify({ jobs: [record] }, null, 2);
  const seen: unknown[] = [];
  async function* body(): AsyncGenerator<Uint8Array> {
    yield Buffer.from(text);
  }
  await streamTopLevelArray(body(), 'jobs', (v) => seen.push(v), { maxBytes: 1e6, pick: JOB_FIELDS });
  const anomalies: Anomalies = { unknown: [] };
  return { job: adapterFor(version)!.job(seen[0], anomalies), anomalies };
}

for (const v of [V38, V44]) {
  test(`${v.version}: a federated job id (4294967294, 4294967295, 2^53 - 1) is kept`, async () => {
    const record = capturedJobs(v.file)[0]!;
    for (const id of [4294967294, 4294967295, 2 ** 53 - 1]) {
      const { job, anomalies } = await build(v.version, { ...record, job_id: v.id(id) });
      assert.equal(job?.jobId, id, `job_id ${id}`);
      assert.deepEqual(anomalies.unknown.filter((t) => /job_id/.test(t)), [], `job_id ${id}: no anomaly`);
    }
  });

  test(`${v.version}: an array task of a federated array job keeps its array_job_id`, async () => {
    const task = capturedJobs(v.file).find((j) => JSON.stringify(j.array_job_id) !== JSON.stringify(v.id(0)))!;
    const { job } = await build(v.version, { ...task, job_id: v.id(4294967295), array_job_id: v.id(4294967294) });
    assert.equal(job?.jobId, 4294967295);
    assert.equal(job?.arrayJobId, 4294967294);
    const { job: plain } = await build(v.version, task);
    assert.ok(plain !== undefined && plain.arrayJobId > 0, 'the captured task is an array task');
  });

  test(`${v.version}: a job_id that is not a whole non-negative number JSON carries exactly is absent`, async () => {
    const record = capturedJobs(v.file)[0]!;
    for (const bad of [-1, 1.5, 2 ** 53, 2 ** 64, '17', null]) {
      const { job, anomalies } = await build(v.version, { ...record, job_id: v.id(bad) });
      assert.equal(job, undefined, `job_id ${String(bad)}`);
      assert.ok(anomalies.unknown.includes('job record without a job_id (skipped)'), `job_id ${String(bad)}: anomaly`);
    }
  });
}

test('v0.0.44: a job_id struct with set:false (or infinite) is absent; an unset array_job_id reads 0', async () => {
  const record = capturedJobs(V44.file)[0]!;
  for (const id of [{ set: false, infinite: false, number: 4294967294 }, { set: true, infinite: true, number: 0 }]) {
    const { job } = await build('v0.0.44', { ...record, job_id: id });
    assert.equal(job, undefined, JSON.stringify(id));
  }
  const { job } = await build('v0.0.44', { ...record, array_job_id: { set: false, infinite: false, number: 9 } });
  assert.equal(job?.arrayJobId, 0);
});
