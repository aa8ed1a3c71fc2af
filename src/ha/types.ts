// What the HA modes share: the coordinator interface main.ts drives, the poll control it drives in turn, and
// the lease factory the modes get their backends from (injected, so a mode never asks which backend it has).
import type { ExporterConfig } from '../config/types.ts';
import type { MetricFamily } from '../exposition/types.ts';
import { EXPORTER_METRICS } from '../collectors/exporter-metrics.ts';
import type { LeaseBackend } from './elector.ts';

export type LeaderElectionSettings = ExporterConfig['server']['leaderElection'];

export interface PollControl {
  activate(): void;
  deactivate(): void;
  /** Sharded mode: poll exactly what these units need. */
  only(units: readonly string[]): void;
  /**
   * Sharded mode's units of work: the enabled collector groups of one cluster, or `cluster/group` pairs when
   * the process collects several clusters. Each unit has its own lease.
   */
  units: readonly string[];
}

export interface HaCoordinator {
  readonly mode: string;
  /** Whether this replica polls Slurm and serves Slurm metrics now. */
  servesSlurm(): boolean;
  /** The collector groups whose metrics this replica serves; undefined means all. */
  servedGroups(): ReadonlySet<string> | undefined;
  /** Why /ready must answer 503 because of leadership, or undefined. */
  readyProblem(): string | undefined;
  leaderJson(): Record<string, unknown>;
  /** slurm_exporter_leader_* families beyond slurm_exporter_leader and _changes_total. */
  families(): MetricFamily[];
  leaderChanges(): number;
  start(): void;
  /** Stops leading and releases the lease (SIGTERM: the next replica takes over within a retry period). */
  stop(): Promise<void>;
}

/** One member record of sharded mode's membership, as the backend lists it. */
export interface MemberRecord {
  holder: string;
  /** Changes whenever the member renews: a record that stays the same for a lease duration is dead. */
  key: string;
  durationMs: number;
  /** True when the backend itself drops dead members (etcd's TTL); false when the reader must judge (Kubernetes). */
  serverExpires: boolean;
}

export interface Membership {
  /** This replica's own member lease, renewed every round. */
  own: LeaseBackend;
  /** Every member's record, this replica's included. */
  list(signal: AbortSignal): Promise<MemberRecord[]>;
  close(): Promise<void>;
}

export interface LeaseFactory {
  /** The lease named `le.leaseName`. */
  lease(le: LeaderElectionSettings): LeaseBackend;
  /** Sharded mode's membership leases under `le.leaseName`. */
  membership(le: LeaderElectionSettings): Membership;
}

/** A one-sample family of an exporter metric declared in exporter-metrics.ts. */
export function one(name: string, value: number): MetricFamily {
  const desc = Object.values(EXPORTER_METRICS).find((d) => d.name === name);
  if (!desc) throw new Error(`${name} is not declared`);
  return { desc, samples: [{ values: [], value }] };
}
