// Throughput of the streaming /jobs reader on a synthetic pretty-printed answer built from the real 25.11
// v0.0.44 job records (not part of the test suite), picking the job members the exporter reads (JOB_FIELDS),
// as the /jobs collection does; BENCH_PICK=0 parses every element whole instead.
// Usage: node bench/json-stream.ts [megabytes=200] [chunkKB=64]
import { streamTopLevelArray } from '../src/slurm/rest/json-stream.ts';
import { JOB_FIELDS } from '../src/slurm/rest/adapters/fields.ts';
import { syntheticJobsAnswer } from './lib.ts';

const targetMb = Number(process.argv[2] ?? 200);
const chunkKb = Number(process.argv[3] ?? 64);
const pick = process.env.BENCH_PICK === '0' ? undefined : JOB_FIELDS;
const { body, jobs: n, perJob } = syntheticJobsAnswer(targetMb);
const chunk = chunkKb * 1024;

async function* chunks(): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < body.length; o += chunk) yield body.subarray(o, Math.min(o + chunk, body.length));
}

async function once(): Promise<{ mbps: number; cpuMbps: number; count: number; ms: number }> {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let ids = 0;
  const r = await streamTopLevelArray(
    chunks(),
    'jobs',
    (v) => {
      ids += (v as { job_id: number }).job_id;
    },
    { maxBytes: body.length + 1, pick },
  );
  const c = process.cpuUsage(c0);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (ids === 0) throw new Error('no job ids seen');
  const mb = body.length / 1e6;
  return { mbps: mb / (ms / 1000), cpuMbps: mb / ((c.user + c.system) / 1e6), count: r.count, ms };
}

console.log(`answer: ${(body.length / 1e6).toFixed(1)} MB, ${n} jobs of ~${Math.round(perJob)} bytes, chunks of ${chunkKb} KiB, ${pick ? 'picking JOB_FIELDS' : 'whole elements'}`);
const runs = [];
for (let i = 0; i < 3; i++) runs.push(await once());
for (const r of runs) console.log(`${r.count} jobs in ${r.ms.toFixed(0)} ms = ${r.mbps.toFixed(0)} MB/s (${r.cpuMbps.toFixed(0)} MB per CPU-second)`);
const heap = process.memoryUsage();
console.log(`rss ${(heap.rss / 1e6).toFixed(0)} MB (includes the ${(body.length / 1e6).toFixed(0)} MB synthetic body held in memory)`);
