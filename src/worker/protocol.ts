// The messages between the main thread (HTTP, leadership, the page) and a cluster's collection thread
// (source, poller, collectors, rendering). Pieces travel as bytes whose buffer is transferred, not copied.
import type { ClusterConfig } from '../config/types.ts';
import type { ClusterState } from '../cluster-pipeline.ts';
import type { Format } from '../poll/collector-runner.ts';
import type { ResourceKind } from '../slurm/model.ts';

/** What a collection thread starts with. */
export interface WorkerInit {
  identity: string;
  cfg: ClusterConfig;
  /** Formats to render from the start (text, and OpenMetrics once a scraper has asked). */
  formats: Format[];
  /** Forward debug lines too. */
  debug: boolean;
  /** The cluster name an earlier thread heard from Slurm, so a restarted one labels its first pieces the same. */
  lastKnownCluster: string | undefined;
}

export type ToWorker =
  | { t: 'activate'; kinds: ResourceKind[] | undefined }
  | { t: 'deactivate'; kinds: ResourceKind[] | undefined }
  | { t: 'format'; format: Format }
  | { t: 'reload'; cfg: ClusterConfig }
  | { t: 'stop' }
  // Blocks the collection thread's event loop for `ms`: how the tests make a thread hang for real.
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
  | { t: 'update'; state: ClusterState; pieces: PieceUpdate[] }
  | { t: 'state'; state: ClusterState }
  | { t: 'format-ready'; format: Format }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; obj: unknown; msg: string | undefined }
  | { t: 'stopped' };
