// Value readers shared by the text parsers: Slurm's no-value words, local timestamps, durations, and the
// one way a parser reports malformed input (SlurmFetchError 'parse' naming command, line and problem).
import { SlurmFetchError } from '../../source.ts';

/** Throws the parse error every CLI parser uses: `scontrol show nodes: line 3: <what>`. */
export function fail(command: string, line: number, what: string): never {
  throw new SlurmFetchError('parse', line > 0 ? `${command}: line ${line}: ${what}` : `${command}: ${what}`);
}

// Words Slurm prints for "no value" in text output; the REST adapters see an empty string or no member there.
const EMPTY_WORDS: ReadonlySet<string> = new Set(['', '(null)', 'n/a', 'none', '(none)']);

/** The text, or '' for Slurm's no-value words (`(null)`, `N/A`, `None`). */
export function clean(v: string | undefined): string {
  const t = (v ?? '').trim();
  return EMPTY_WORDS.has(t.toLowerCase()) ? '' : t;
}

// INFINITE as scontrol/squeue/sinfo print it.
const UNLIMITED_WORDS: ReadonlySet<string> = new Set(['unlimited', 'infinite']);

/** Integer or decimal; undefined for no-value and unlimited words; NaN for anything else (the caller reports it). */
export function number(v: string | undefined): number | undefined {
  const t = clean(v);
  if (t === '' || UNLIMITED_WORDS.has(t.toLowerCase())) return undefined;
  return /^-?\d+(?:\.\d+)?(?:e[-+]?\d+)?$/i.test(t) ? Number(t) : NaN;
}

/**
 * A Slurm timestamp (`2026-11-24T07:10:01`) to unix seconds. Slurm prints local time of the process that runs the
 * command, which is a child of this one, so local time here is the same zone. No-value words (`N/A`, `None`,
 * `Unknown`) are 0 as in the REST answers; undefined when the text is not a timestamp (SLURM_TIME_FORMAT set).
 */
export function localTime(v: string | undefined): number | undefined {
  const t = clean(v);
  if (t === '' || t.toLowerCase() === 'unknown') return 0;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(t);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Math.floor(new Date(y, mo - 1, d, h, mi, s).getTime() / 1000);
}

/**
 * A Slurm duration to seconds: `days-hours[:minutes[:seconds]]`, `hours:minutes:seconds`, `minutes:seconds`,
 * `minutes` (the forms sbatch --time accepts and scontrol/squeue print). Undefined for unlimited and no-value
 * words (`UNLIMITED`, `NONE`, `NOT_SET`); NaN when it is none of these.
 */
export function duration(v: string | undefined): number | undefined {
  const t = clean(v);
  if (t === '' || ['unlimited', 'infinite', 'not_set', 'invalid'].includes(t.toLowerCase())) return undefined;
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(t);
  if (!m) return NaN;
  const [days, a, b, c] = [m[1], m[2], m[3], m[4]].map((x) => (x === undefined ? undefined : Number(x)));
  if (days !== undefined) return days * 86400 + (a ?? 0) * 3600 + (b ?? 0) * 60 + (c ?? 0);
  if (c !== undefined) return (a ?? 0) * 3600 + (b ?? 0) * 60 + c;
  if (b !== undefined) return (a ?? 0) * 60 + b;
  return (a ?? 0) * 60;
}

/** A comma-separated list without no-value words. */
export function commaList(v: string | undefined): string[] {
  return clean(v)
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}
