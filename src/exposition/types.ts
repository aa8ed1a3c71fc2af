// Metric families as collectors produce them. A family's samples carry label values in the order of
// desc.labels, so the writer never sorts or looks up keys on the hot path.

export type MetricType = 'gauge' | 'counter';

export interface MetricDesc {
  /** Full name; counters end in `_total`. */
  name: string;
  type: MetricType;
  help: string;
  /** Label names in output order; `cluster` first for every Slurm series. */
  labels: readonly string[];
  /** Where the value comes from (REST field, CLI column), for the generated reference. */
  source: string;
  /** Set when the name differs from the one a seed document used, and why. */
  note?: string;
}

export interface Sample {
  /** Label values, same order as desc.labels. */
  values: readonly string[];
  value: number;
}

export interface MetricFamily {
  desc: MetricDesc;
  samples: Sample[];
}

export function family(desc: MetricDesc, samples: Sample[] = []): MetricFamily {
  return { desc, samples };
}
