// GRES strings as Slurm prints them for nodes (`gres`, `gres_used`) and jobs (`tres_per_node`, ...):
//   "gpu:tesla:2"  "gpu:fakegpu:1(IDX:0)"  "gpu:2(S:0-1)"  "gpu:a100:4,shard:8"  "gpu:tesla:2(IDX:0,2)"
//   "gres:gpu:tesla:1" (22.05 tres_per_node)  "gres/gpu:1" (25.x tres_per_node)  "(null)"  "N/A"  ""
import type { GresCount } from '../../model.ts';

const SUFFIX: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** A GRES count such as `2`, `100K`; undefined when it is not one. */
export function parseGresCount(s: string): number | undefined {
  const m = /^(\d+)([kmgtp]?)$/i.exec(s.trim());
  if (!m) return undefined;
  return Number(m[1]) * (m[2] ? (SUFFIX[m[2].toLowerCase()] ?? 1) : 1);
}

/** Splits on commas that are not inside parentheses (`gpu:2(IDX:0,2),shard:4`). */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

/** One item such as `gpu:tesla:2(IDX:0)`; undefined when it cannot be read. */
export function parseGresItem(item: string): GresCount | undefined {
  let s = item.trim();
  const paren = s.indexOf('(');
  if (paren >= 0) s = s.slice(0, paren);
  s = s.replace(/^gres[:/]/i, '');
  if (s === '') return undefined;
  // `gpu=2` / `gpu:a100=2` (TRES style) as well as `gpu:a100:2` (GRES style).
  const eq = s.indexOf('=');
  let parts: string[];
  let count: number | undefined;
  if (eq >= 0) {
    count = parseGresCount(s.slice(eq + 1));
    parts = s.slice(0, eq).split(':');
  } else {
    parts = s.split(':');
    const last = parts[parts.length - 1] ?? '';
    count = parseGresCount(last);
    if (count !== undefined) parts.pop();
    else count = 1; // `gpu` or `gpu:a100` alone means one
  }
  if (count === undefined) return undefined;
  const type = (parts[0] ?? '').trim().toLowerCase();
  if (type === '' || !/^[a-z0-9_.-]+$/.test(type)) return undefined;
  return { type, model: parts.slice(1).join(':').trim(), count };
}

/**
 * Parses a GRES list. Entries with count 0 (`gpu:0` in 22.05's gres_used of a node without GPUs) are left out:
 * absent means zero. Items that cannot be read are passed to `bad` and skipped.
 */
export function parseGres(s: unknown, bad?: (item: string) => void): GresCount[] {
  if (typeof s !== 'string') return [];
  const t = s.trim();
  if (t === '' || t === '(null)' || t.toUpperCase() === 'N/A') return [];
  const out: GresCount[] = [];
  for (const item of splitTopLevel(t)) {
    const g = parseGresItem(item);
    if (g === undefined) {
      bad?.(item);
      continue;
    }
    if (g.count === 0) continue;
    const same = out.find((o) => o.type === g.type && o.model === g.model);
    if (same) same.count += g.count;
    else out.push(g);
  }
  return out;
}

/** Total of one GRES type (`gpu`) over all models. */
export function gresTotal(list: readonly GresCount[], type: string): number {
  let n = 0;
  for (const g of list) if (g.type === type) n += g.count;
  return n;
}
