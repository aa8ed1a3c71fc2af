// Metric families as collectors produce them. A family's samples carry label values in the order of
// desc.labels, so the writer never sorts or looks up keys on the hot path.

export type MetricType = 'gauge' | 'counter' | 'histogram';

export interface MetricDesc {
  /** Full name; counters end in `_total`; a histogram's name is its base (`_bucket`, `_sum`, `_count` are added). */
  name: string;
  type: MetricType;
  help: string;
  /** Label names in output order; `cluster` first for every Slurm series. `le` is reserved for histograms. */
  labels: readonly string[];
  /** Where the value comes from (REST field, CLI column), for the generated reference. */
  source: string;
  /** Set when the name differs from the one operators may know from elsewhere, and why. */
  note?: string;
  /** Histograms only: the buckets' upper bounds, ascending and finite; the `+Inf` bucket is implied. */
  buckets?: readonly number[];
}

/**
 * One histogram series, stored the way it is written: cumulative counts, so rendering is a plain loop and an
 * observation touches only numbers (no allocation).
 */
export interface HistogramValue {
  /** Observations <= desc.buckets[i], one entry per bound (so non-decreasing). */
  buckets: number[];
  /** Sum of the observed values. */
  sum: number;
}

export interface Sample {
  /** Label values, same order as desc.labels. */
  values: readonly string[];
  /** The value; for a histogram series the number of observations (its `+Inf` bucket and `_count`). */
  value: number;
  /** Histogram series only. */
  histogram?: HistogramValue;
}

export interface MetricFamily {
  desc: MetricDesc;
  samples: Sample[];
}

export function family(desc: MetricDesc, samples: Sample[] = []): MetricFamily {
  return { desc, samples };
}

/** A histogram series with no observations yet, for the bounds of `desc`. */
export function histogramSample(desc: MetricDesc, values: readonly string[]): Sample & { histogram: HistogramValue } {
  return { values, value: 0, histogram: { buckets: new Array<number>(desc.buckets?.length ?? 0).fill(0), sum: 0 } };
}

/** Record one observation in a series made by histogramSample() for the same bounds. */
export function observe(sample: Sample & { histogram: HistogramValue }, bounds: readonly number[], v: number): void {
  sample.value++;
  sample.histogram.sum += v;
  const counts = sample.histogram.buckets;
  // Bounds are ascending: every bucket from the first that holds v on holds it too (le is inclusive).
  for (let i = bounds.length - 1; i >= 0 && v <= (bounds[i] as number); i--) counts[i] = (counts[i] as number) + 1;
}

/** A copy that later observations do not change, for a family handed to the writer. */
export function histogramCopy(sample: Sample, values: readonly string[]): Sample {
  const h = sample.histogram;
  return h ? { values, value: sample.value, histogram: { buckets: h.buckets.slice(), sum: h.sum } } : { values, value: sample.value };
}
