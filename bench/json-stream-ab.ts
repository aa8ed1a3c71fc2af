// The /jobs stream reader of this tree against another version, on the same synthetic pretty-printed v0.0.44
// answer, alternated in one process so both see the same machine. The other version is either a tree
// (BENCH_BASELINE, e.g. a git worktree of the commit before a change; each tree picks its own job members) or
// one json-stream.ts file (BENCH_BASELINE_FILE, e.g. a copy taken before editing; it picks this tree's
// members). Figures are MB per CPU-second (user + system of this process) and wall MB/s. Usage:
//   BENCH_BASELINE=/tmp/baseline node bench/json-stream-ab.ts [megabytes=300] [runs=5]
//   BENCH_BASELINE_FILE=/tmp/json-stream-baseline.ts node bench/json-stream-ab.ts 300 7
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, syntheticJobsAnswer } from './lib.ts';

type Stream = (body: AsyncIterable<Uint8Array>, key: string, on: (v: unknown) => void, o: { maxBytes: number; pick?: ReadonlySet<string> }) => Promise<{ count: number }>;
interface Impl {
  stream: Stream;
  pick: ReadonlySet<string> | undefined;
}

const BASELINE = process.env.BENCH_BASELINE;
const BASELINE_FILE = process.env.BENCH_BASELINE_FILE;
if (!BASELINE && !BASELINE_FILE) throw new Error('set BENCH_BASELINE to the other tree or BENCH_BASELINE_FILE to the other json-stream.ts');
const targetMb = Number(process.argv[2] ?? 300);
const runs = Number(process.argv[3] ?? 5);
const noPick = process.env.BENCH_PICK === '0';

async function fields(root: string): Promise<ReadonlySet<string> | undefined> {
  const f = (await import(`${root}/src/slurm/rest/adapters/fields.ts`)) as { JOB_FIELDS: ReadonlySet<string> };
  return noPick ? undefined : f.JOB_FIELDS;
}

async function load(root: string): Promise<Impl> {
  const js = (await import(`${root}/src/slurm/rest/json-stream.ts`)) as { streamTopLevelArray: Stream };
  return { stream: js.streamTopLevelArray, pick: await fields(root) };
}

/** A lone json-stream.ts copy: its one relative import (../source.ts) is pointed at this tree's. */
async function loadFile(file: string): Promise<Impl> {
  const source = pathToFileURL(`${ROOT}src/slurm/source.ts`).href;
  const text = readFileSync(file, 'utf8').replace(/from '\.\.\/source\.ts'/g, `from '${source}'`);
  const copy = join(mkdtempSync(join(tmpdir(), 'json-stream-ab-')), 'json-stream.mts');
  writeFileSync(copy, text);
  const js = (await import(pathToFileURL(copy).href)) as { streamTopLevelArray: Stream };
  return { stream: js.streamTopLevelArray, pick: await fields(ROOT.replace(/\/$/, '')) };
}

const { body, jobs: n } = syntheticJobsAnswer(targetMb);

async function* chunks(): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < body.length; o += 65536) yield body.subarray(o, Math.min(o + 65536, body.length));
}

async function once(impl: Impl): Promise<{ cpu: number; wall: number }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await impl.stream(chunks(), 'jobs', () => undefined, { maxBytes: body.length + 1, pick: impl.pick });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  if (r.count !== n) throw new Error(`read ${r.count} of ${n} jobs`);
  return { cpu: body.length / 1e6 / ((c.user + c.system) / 1e6), wall: body.length / 1e6 / wall };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const now = await load(ROOT.replace(/\/$/, ''));
const before = BASELINE_FILE ? await loadFile(BASELINE_FILE) : await load(BASELINE!);
// One unmeasured run each, so neither pays for its JIT warm-up inside the figures.
await once(now);
await once(before);
const a: { cpu: number; wall: number }[] = [];
const b: { cpu: number; wall: number }[] = [];
for (let i = 0; i < runs; i++) {
  a.push(await once(now));
  b.push(await once(before));
}
const r0 = (xs: number[]) => xs.map((x) => +x.toFixed(0));
console.log(
  JSON.stringify({
    mb: +(body.length / 1e6).toFixed(0),
    jobs: n,
    pick: !noPick,
    now_mb_per_cpu_s: r0(a.map((x) => x.cpu)),
    before_mb_per_cpu_s: r0(b.map((x) => x.cpu)),
    median_now: +median(a.map((x) => x.cpu)).toFixed(0),
    median_before: +median(b.map((x) => x.cpu)).toFixed(0),
    ratio_of_medians: +(median(a.map((x) => x.cpu)) / median(b.map((x) => x.cpu))).toFixed(3),
    wall_now_mb_s: r0(a.map((x) => x.wall)),
    wall_before_mb_s: r0(b.map((x) => x.wall)),
    wall_ratio_of_medians: +(median(a.map((x) => x.wall)) / median(b.map((x) => x.wall))).toFixed(3),
  }),
);
