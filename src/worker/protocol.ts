// The messages between the main thread (HTTP, leadership, the page) and a collection thread (sources,
// pollers, collectors, rendering) that carries one or more clusters, each by its index `id`. Pieces travel as
// bytes whose buffer is transferred, not copied.
import type { ClusterConfig } from '../config/types.ts';
import type { ClusterState } from '../cluster-pipeline.ts';
import type { Format } from '../poll/collector-runner.ts';
import type { ResourceKind } from '../slurm/model.ts';

/** One cluster a collection thread starts with. */
export interface ClusterInit {
  id: number;
  cfg: ClusterConfig;
  /** Formats to render from the start (text, and OpenMetrics once a scraper has asked). */
  formats: Format[];
  /** The cluster name an earlier thread heard from Slurm, so a restarted one labels its first pieces the same. */
  lastKnownCluster: string | undefined;
  /** What leadership last said this replica polls (a restarted thread starts where the old one was). */
  active: ResourceKind[];
}

export interface WorkerInit {
  identity: string;
  clusters: ClusterInit[];
  /** Forward debug lines too. */
  debug: boolean;
}

export type ToWorker =
  | { t: 'activate'; id: number; kinds: ResourceKind[] | undefined }
  | { t: 'deactivate'; id: number; kinds: ResourceKind[] | undefined }
  | { t: 'format'; id: number; format: Format }
  | { t: 'reload'; id: number; cfg: ClusterConfig }
  | { t: 'stop' }
  // Blocks the thread's event loop for `ms`: how the tests make a thread hang for real.
  | { t: 'block'; ms: number };

/** A collector's newly rendered piece in one format; null: it has nothing now. */
export interface PieceUpdate {
  collector: string;
  format: Format;
  bytes: Uint8Array | null;
}

export type FromWorker =
  // The pieces a new snapshot changed, with the state after it: one message, so a scrape never sees the one
  // without the other.
  | { t: 'update'; id: number; state: ClusterState; pieces: PieceUpdate[] }
  // Every cluster's state, every second: poll failures change no snapshot; also the thread's sign of life.
  | { t: 'states'; states: { id: number; state: ClusterState }[] }
  | { t: 'format-ready'; id: number; format: Format }
  | { t: 'log'; id: number | undefined; level: 'debug' | 'info' | 'warn' | 'error'; obj: unknown; msg: string | undefined }
  | { t: 'stopped' };
