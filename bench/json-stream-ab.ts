// The /jobs stream reader of this tree against another tree's (BENCH_BASELINE, e.g. a git worktree of the
// commit before a change), on the same synthetic pretty-printed v0.0.44 answer, with each tree's own picked
// job members, alternated in one process so both see the same machine. Usage:
//   BENCH_BASELINE=/tmp/baseline node bench/json-stream-ab.ts [megabytes=300]
import { ROOT, syntheticJobsAnswer } from './lib.ts';

type Stream = (body: AsyncIterable<Uint8Array>, key: string, on: (v: unknown) => void, o: { maxBytes: number; pick?: ReadonlySet<string> }) => Promise<{ count: number }>;

const BASELINE = process.env.BENCH_BASELINE;
if (!BASELINE) throw new Error('set BENCH_BASELINE to the other tree');
const targetMb = Number(process.argv[2] ?? 300);

async function load(root: string): Promise<{ stream: Stream; pick: ReadonlySet<string> }> {
  const js = (await import(`${root}/src/slurm/rest/json-stream.ts`)) as { streamTopLevelArray: Stream };
  const f = (await import(`${root}/src/slurm/rest/adapters/fields.ts`)) as { JOB_FIELDS: ReadonlySet<string> };
  return { stream: js.streamTopLevelArray, pick: f.JOB_FIELDS };
}

const { body, jobs: n } = syntheticJobsAnswer(targetMb);

async function* chunks(): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < body.length; o += 65536) yield body.subarray(o, Math.min(o + 65536, body.length));
}

async function once(impl: { stream: Stream; pick: ReadonlySet<string> }): Promise<number> {
  const c0 = process.cpuUsage();
  const r = await impl.stream(chunks(), 'jobs', () => undefined, { maxBytes: body.length + 1, pick: impl.pick });
  const c = process.cpuUsage(c0);
  if (r.count !== n) throw new Error(`read ${r.count} of ${n} jobs`);
  return body.length / 1e6 / ((c.user + c.system) / 1e6);
}

const now = await load(ROOT.replace(/\/$/, ''));
const before = await load(BASELINE);
const a: number[] = [];
const b: number[] = [];
for (let i = 0; i < 5; i++) {
  a.push(await once(now));
  b.push(await once(before));
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[2]!;
console.log(JSON.stringify({ mb: +(body.length / 1e6).toFixed(0), jobs: n, now_mb_per_cpu_s: a.map((x) => +x.toFixed(0)), before_mb_per_cpu_s: b.map((x) => +x.toFixed(0)), ratio_of_medians: +(median(a) / median(b)).toFixed(3) }));
