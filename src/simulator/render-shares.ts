// /shares records and the /slurmdb/diag answer for one API version, spliced into that version's real captures.
import type { Cluster, SimDbdRow, SimDbdStats, SimShare } from './cluster.ts';
import { type Render, type Slot, type Template, bool, indentAt, num, numField, raw, str, strArray } from './template.ts';

/** A double as slurmrestd prints one: `1.0`, `0.15462421261980686`, `2.3283064376228985e-10`, `1.8446744073709552e+19`. */
export function double(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  return Math.abs(x) >= 1e16 ? x.toExponential() : String(x);
}

// How v0.0.40/41 print a plain double that is not set (NO_VAL) or infinite (2^64), as the captures show.
const PLAIN_NO_VAL = '4294967294.0';
const PLAIN_INFINITE = '1.8446744073709552e+19';

/**
 * A value that is a {set, infinite, number} struct in some versions and plain in others: null renders as
 * not set, Infinity as infinite. `integer` prints `0` rather than `0.0` (uint32 fields such as shares).
 */
function maybeStruct<T>(t: Template, base: string, path: string, get: (r: T) => number | null, integer = false): Slot<T>[] {
  const print = (v: number) => (integer ? String(Math.round(v)) : double(v));
  if (t.has(`${base}.${path}.number`)) {
    return [
      bool(`${path}.set`, (r) => {
        const v = get(r);
        return v !== null && v !== Infinity;
      }),
      bool(`${path}.infinite`, (r) => get(r) === Infinity),
      raw(`${path}.number`, () => (r) => {
        const v = get(r);
        return v === null || v === Infinity ? print(0) : print(v);
      }),
    ];
  }
  return [
    raw(path, () => (r) => {
      const v = get(r);
      return v === null ? PLAIN_NO_VAL : v === Infinity ? PLAIN_INFINITE : print(v);
    }),
  ];
}

export function compileShareRecord(t: Template, c: Cluster): Render<SimShare> {
  const base = 'shares.shares.0';
  const user = ['USER'];
  const account = ['ASSOCIATION'];
  return t.compileValue<SimShare>(base, [
    num('id', (s) => s.id),
    str('cluster', () => c.name),
    str('name', (s) => s.name),
    str('parent', (s) => s.parent),
    ...maybeStruct<SimShare>(t, base, 'shares_normalized', (s) => s.sharesNorm),
    ...maybeStruct<SimShare>(t, base, 'shares', (s) => s.shares, true),
    ...maybeStruct<SimShare>(t, base, 'effective_usage', (s) => s.usageEff),
    ...maybeStruct<SimShare>(t, base, 'usage_normalized', (s) => s.usageNorm),
    num('usage', (s) => Math.round(s.usage)),
    ...maybeStruct<SimShare>(t, base, 'fairshare.factor', (s) => s.factor),
    ...maybeStruct<SimShare>(t, base, 'fairshare.level', (s) => s.level),
    strArray('type', (s) => (s.kind === 'user' ? user : account)),
  ]);
}

/** What the slurmdbd diag answer is rendered from. */
export interface DbdView {
  cluster: string;
  stats: SimDbdStats;
}

interface ListShape {
  first: number;
  end: number;
  separator: string;
}

function listShape(t: Template, path: string): ListShape {
  let n = 0;
  while (t.has(`${path}.${n}`)) n++;
  if (n === 0) throw new Error(`template ${t.name}: "${path}" holds no record to copy`);
  const first = t.span(`${path}.0`).start;
  return { first, end: t.span(`${path}.${n - 1}`).end, separator: `,\n${indentAt(t.text, first)}` };
}

function rows(rec: Render<SimDbdRow>, list: readonly SimDbdRow[], sep: string): string {
  return list.map(rec).join(sep);
}

/**
 * The answer around two lists (statistics.RPCs and statistics.users); the text between them is kept, and
 * the document-level values (cluster, time_start) are spliced wherever that version prints them.
 */
export function compileDbdDiag(t: Template): Render<DbdView> {
  const s = 'statistics';
  const rpcs = listShape(t, `${s}.RPCs`);
  const users = listShape(t, `${s}.users`);
  const slots: Slot<DbdView>[] = [str('meta.slurm.cluster', (v) => v.cluster, true), ...numField<DbdView>(t, '', `${s}.time_start`, (v) => v.stats.timeStart)];
  const inRange = (from: number, to: number) =>
    slots.filter((sl) => {
      const sp = t.spans.get(sl.path);
      return sp !== undefined && sp.start >= from && sp.end <= to;
    });
  const head = t.compileText(0, rpcs.first, inRange(0, rpcs.first));
  const middle = t.compileText(rpcs.end, users.first, inRange(rpcs.end, users.first));
  const tail = t.compileText(users.end, t.text.length, inRange(users.end, t.text.length));
  const time = [num<SimDbdRow>('count', (r) => r.count), num<SimDbdRow>('time.average', (r) => Math.floor(r.totalUs / Math.max(1, r.count))), num<SimDbdRow>('time.total', (r) => r.totalUs)];
  const rpc = t.compileValue<SimDbdRow>(`${s}.RPCs.0`, [str('rpc', (r) => r.key), ...time]);
  const user = t.compileValue<SimDbdRow>(`${s}.users.0`, [str('user', (r) => r.key), ...time]);
  return (v) => head(v) + rows(rpc, v.stats.rpcs, rpcs.separator) + middle(v) + rows(user, v.stats.users, users.separator) + tail(v);
}
