// slurmctld's metrics in base units. The metrics/openmetrics plugin of Slurm 25.11 writes memory in megabytes
// (slurm_node_memory_bytes 4000 for RealMemory=4000; the partition and job memory figures too, with or without
// a _bytes name) and scheduler cycle times in microseconds, as sdiag shows them. The model holds bytes and
// seconds, like every other source's.
import type { Anomalies, NativeFamily, NativeSample, NativeUnit } from '../model.ts';
import type { ParsedFamily } from './openmetrics.ts';

/** Slurm's MB, as RealMemory and the REST answers use it: 2^20 bytes. */
const MB = 1024 * 1024;

/** Memory figures: every `_bytes` name, and the job and partition memory sums that have no unit in their name. */
const MEGABYTES = /_bytes$|_memory_alloc$|_mem_(alloc|avail|free|tot)$/;
/** Scheduler and backfill cycle times and sdiag's gettimeofday latency, all microseconds. */
const MICROSECONDS = /^slurm_(bf|sched|schedule)_(mean_cycle|cycle_(last|max|tot))$|^slurm_sdiag_latency$/;
/** Points in time, unix seconds. */
const TIMESTAMPS = new Set(['slurm_bf_when_last_cycle', 'slurm_sdiag_job_states_ts', 'slurm_last_proc_req_start', 'slurm_sched_stats_timestamp']);

const same = (v: number) => v;
// Divided, not multiplied by 1e-6: 832 / 1e6 is exactly what the REST adapters' diag gives.
const fromMicroseconds = (v: number) => v / 1e6;
const fromMegabytes = (v: number) => v * MB;

/** The real unit of a family slurmctld serves, and the conversion to base units. */
export function unitOf(name: string): { unit: NativeUnit; convert: (v: number) => number } {
  if (MICROSECONDS.test(name)) return { unit: 'seconds', convert: fromMicroseconds };
  if (TIMESTAMPS.has(name)) return { unit: 'timestamp', convert: same };
  if (MEGABYTES.test(name)) return { unit: 'bytes', convert: fromMegabytes };
  return { unit: '', convert: same };
}

/** The samples that carry the family's own figure; the parts of a histogram or summary are not kept. */
function ownSamples(f: ParsedFamily, convert: (v: number) => number): NativeSample[] {
  const own = f.type === 'counter' ? [f.name, `${f.name}_total`] : [f.name];
  return f.samples.filter((s) => own.includes(s.name)).map((s) => ({ labels: s.labels, value: convert(s.value) }));
}

/** Parsed families in base units; a family with parts the model cannot hold is noted once. */
export function toNativeFamilies(parsed: readonly ParsedFamily[], a: Anomalies): NativeFamily[] {
  const out: NativeFamily[] = [];
  for (const f of parsed) {
    const { unit, convert } = unitOf(f.name);
    const samples = ownSamples(f, convert);
    if (samples.length < f.samples.length) a.unknown.push(`native family ${f.name} of type ${f.type}: only its own samples are kept`);
    out.push({ name: f.name, help: f.help, type: f.type, unit, samples });
  }
  return out;
}
