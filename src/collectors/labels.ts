// Helpers shared by the Slurm collectors: label-keyed accumulators, the state vocabularies that get
// zero series, and the bounding of label values that can grow without limit.
import type { MetricDesc, MetricFamily, Sample } from '../exposition/types.ts';
import type { GresCount } from '../slurm/model.ts';

export { JOB_BASE_STATES, JOB_FLAGS_KNOWN, JOB_TERMINAL_STATES, NODE_BASE_STATES, NODE_FLAGS_KNOWN, PARTITION_STATES } from '../slurm/states.ts';

/**
 * Sums values per label tuple, keeping first-seen order, so zero series seeded first come out first and
 * the output is stable between renders.
 */
export class Acc {
  private readonly m = new Map<string, { values: string[]; value: number }>();

  add(values: string[], by = 1): void {
    const key = values.join('\u0000');
    const cur = this.m.get(key);
    if (cur) cur.value += by;
    else this.m.set(key, { values, value: by });
  }

  /** Ensure a series exists (value 0 unless already counted). */
  seed(values: string[]): void {
    this.add(values, 0);
  }

  max(values: string[], v: number): void {
    const key = values.join('\u0000');
    const cur = this.m.get(key);
    if (!cur) this.m.set(key, { values, value: v });
    else if (v > cur.value) cur.value = v;
  }

  get(values: string[]): number | undefined {
    return this.m.get(values.join('\u0000'))?.value;
  }

  get size(): number {
    return this.m.size;
  }

  samples(): Sample[] {
    return [...this.m.values()];
  }

  family(desc: MetricDesc): MetricFamily {
    return { desc, samples: this.samples() };
  }
}

/** Node flags that always get a series (0 when no node has them). */
export const NODE_FLAGS_COMMON: readonly string[] = [
  'drain', 'not_responding', 'maintenance', 'reserved', 'planned', 'powered_down', 'powering_up',
  'powering_down', 'completing', 'fail', 'reboot_requested',
];

export const JOB_FLAGS_COMMON: readonly string[] = ['completing', 'configuring', 'requeued'];


/**
 * The model label when Slurm names none (a node's `Gres=gpu:2` without a type, a job that asked for `gpu:2`).
 * Not "": Prometheus drops an empty label, so `sum by (model)` and a dashboard's model variable would lose it.
 */
export const NO_MODEL = 'unspecified';

export function modelOf(g: GresCount): string {
  return g.model === '' ? NO_MODEL : g.model;
}

/** The label value anything folded away by a cardinality bound is counted under. */
export const OTHER = 'other';

/** Cut a label value to at most `max` characters (code points, so no half surrogate pair). */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  return Array.from(text).slice(0, max).join('');
}

/**
 * Keeps the `limit` keys with the highest weight (ties by name, so the choice is stable) and maps every
 * other key to `other`. Returns the mapping function and how many distinct keys were folded.
 */
export function topN(weights: Map<string, number>, limit: number): { map: (key: string) => string; folded: number } {
  if (weights.size <= limit) return { map: (k) => k, folded: 0 };
  const keep = new Set(
    [...weights]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, limit)
      .map(([k]) => k),
  );
  return { map: (k) => (keep.has(k) ? k : OTHER), folded: weights.size - keep.size };
}

/** Sum of the counts of one GRES type across models. */
export function gresOfType(gres: readonly GresCount[], type: string): number {
  let n = 0;
  for (const g of gres) if (g.type === type) n += g.count;
  return n;
}

/** Sorted, de-duplicated, comma-joined: the form flag lists take in a label. */
export function joinSorted(items: readonly string[]): string {
  return [...new Set(items)].sort().join(',');
}
