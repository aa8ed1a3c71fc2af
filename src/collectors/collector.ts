import type { Anomalies, ResourceData, ResourceKind } from '../slurm/model.ts';
import type { MetricDesc, MetricFamily } from '../exposition/types.ts';

/** Bounds on labels that can explode cardinality (user, account, reason text, node). */
export interface CardinalityLimits {
  /** Per-node series (cpus, memory, gres, state, reason) on or off. */
  perNode: boolean;
  /** Longest reason text kept in a label; longer ones are cut. */
  maxReasonLength: number;
}

export interface CollectContext {
  cluster: string;
  /** The newest good data of each kind the collector needs, or undefined before the first success. */
  data: Partial<ResourceData>;
  limits: CardinalityLimits;
  /** Report something not understood (unknown state, field); counted and logged once by the framework. */
  anomaly(what: string): void;
}

/**
 * One family of Slurm metrics. Pure: reads snapshots, returns families; the framework measures duration
 * and success, caches the rendered text, and re-renders only when a needed snapshot changes.
 */
export interface Collector {
  name: string;
  description: string;
  defaultEnabled: boolean;
  /** Resource kinds it reads; it runs when all of them have a snapshot. */
  needs: readonly ResourceKind[];
  /** Every metric it may emit, for the generated reference. */
  metrics: readonly MetricDesc[];
  collect(ctx: CollectContext): MetricFamily[];
}

export type { Anomalies };
