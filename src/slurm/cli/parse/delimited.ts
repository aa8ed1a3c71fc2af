// Lines of `squeue -h -O Field:|,...` / `sinfo -h -O Field:|,...`: every field ends in `|` (the `:|` suffix, with
// no width, so nothing is cut), so a whole line ends in `|` and a cut one does not. One free-text column (a job
// name, a node reason) may itself hold `|`: the surplus cells are given back to it.
import { fail } from './values.ts';

export interface DelimitedOptions {
  /** The -O field names, in order. */
  fields: readonly string[];
  /** Whether every field carries the `|` suffix (so each line must end in `|`). */
  terminated: boolean;
  /** The column that absorbs surplus `|` (free text). */
  absorb: string;
}

export interface DelimitedRow {
  line: number;
  /** The cell of a field (case-insensitive, as squeue/sinfo take the names); '' when the field is not in the list. */
  get(field: string): string;
  has(field: string): boolean;
}

/** `-O` argument for a field list: `JobID:|,Name:|,...`. */
export function formatOf(fields: readonly string[]): string {
  return fields.map((f) => `${f}:|`).join(',');
}

function cellsOf(line: string, lineNo: number, command: string, o: DelimitedOptions): string[] {
  if (o.terminated && !line.endsWith('|')) fail(command, lineNo, 'line does not end in "|" (truncated output?)');
  const cells = line.split('|');
  if (o.terminated) cells.pop(); // the empty piece after the final `|`
  const n = o.fields.length;
  if (cells.length < n) fail(command, lineNo, `${cells.length} fields where ${n} were asked for (truncated or garbled line)`);
  const at = o.fields.findIndex((f) => f.toLowerCase() === o.absorb.toLowerCase());
  if (cells.length > n && at >= 0) {
    const extra = cells.length - n;
    cells.splice(at, extra + 1, cells.slice(at, at + extra + 1).join('|'));
  }
  if (cells.length !== n) fail(command, lineNo, `${cells.length} fields where ${n} were asked for (garbled line)`);
  return cells;
}

/** The rows of the output; blank lines are skipped; throws SlurmFetchError('parse') for a line of the wrong shape. */
export function parseDelimited(text: string, command: string, o: DelimitedOptions): DelimitedRow[] {
  const index = new Map(o.fields.map((f, i) => [f.toLowerCase(), i]));
  const rows: DelimitedRow[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = cellsOf(line, i + 1, command, o);
    const pick = (f: string) => index.get(f.toLowerCase());
    rows.push({
      line: i + 1,
      get: (f) => {
        const at = pick(f);
        return at === undefined ? '' : (cells[at] as string).trim();
      },
      has: (f) => pick(f) !== undefined,
    });
  });
  return rows;
}
