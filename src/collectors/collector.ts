import type { Anomalies, ResourceData, ResourceKind } from '../slurm/model.ts';
import type { MetricDesc, MetricFamily } from '../exposition/types.ts';
import type { CollectorGroup } from '../slurm/resources.ts';
import type { CardinalityLimits } from '../config/types.ts';

export type { CardinalityLimits };

/** Names of the boolean limits that switch a whole collector on or off. */
export type CollectorSwitch = 'perUser' | 'jobs';

export interface CollectContext {
  cluster: string;
  /** The newest good data of each kind the collector needs, or undefined before the first success. */
  data: Partial<ResourceData>;
  /** Unix seconds of the newest snapshot the collector reads: ages are measured against it. */
  now: number;
  limits: CardinalityLimits;
  /** Report something not understood (unknown state, field); counted and logged once by the framework. */
  anomaly(what: string): void;
}

/**
 * One family of Slurm metrics, in its own file, listed in registry.ts. It reads snapshots and returns
 * families; the framework measures duration and success, caches the rendered text, and re-renders only when
 * a needed snapshot changes. A collector may keep state across snapshots (the finished-job counters) but must
 * give the same output when called twice on the same snapshots.
 */
export interface Collector {
  name: string;
  description: string;
  /** The collector group whose enable switch, interval and (in sharded mode) lease it goes with. */
  group: CollectorGroup;
  /** A `limits` switch that must also be on; unset means the collector runs whenever its group does. */
  switch?: CollectorSwitch;
  /** Resource kinds it reads; it runs when all of them have a snapshot. */
  needs: readonly ResourceKind[];
  /** Every metric it may emit, for the generated reference. */
  metrics: readonly MetricDesc[];
  collect(ctx: CollectContext): MetricFamily[];
}

export type { Anomalies };
