// The contract of the backup tooling (slurm-exporter backup ...): what is backed up comes from sources, one per
// backup type; where it goes is a destination (a local directory, S3-compatible storage). The archive format,
// encryption and the commands are built on these two interfaces only, so a new source or destination is one file.

/** The backup types, with their default schedules and retentions (docs/backup.md). */
export type BackupType = 'configuration' | 'monitoring' | 'deployment' | 'certificates' | 'logs';

export const BACKUP_TYPES: readonly BackupType[] = ['configuration', 'monitoring', 'deployment', 'certificates', 'logs'];

/** One file a source contributes to an archive. */
export interface SourceFile {
  /** Path inside the archive: relative, '/'-separated, no '..' (the archive writer refuses others). */
  path: string;
  /** Unix permission bits (0o600, 0o644, ...). */
  mode: number;
  size: number;
  /** Modification time, ms since the epoch. */
  mtimeMs: number;
  /** Where restore puts it back by default (absolute path on this host), when the file came from one. */
  origin?: string;
  /** The bytes; called once. */
  read(): AsyncIterable<Uint8Array>;
}

/** What a source may need while collecting. */
export interface SourceContext {
  signal: AbortSignal;
  /** Progress and notes for the operator; never given secrets. */
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Whether the archive will be encrypted: Secrets' data may only go into an encrypted archive. */
  encrypted: boolean;
}

/** A backup type's source: collects the files of one backup. */
export interface BackupSource {
  type: BackupType;
  /** Human description without secrets, e.g. `Prometheus TSDB snapshot from http://prom:9090`. */
  describe(): string;
  collect(ctx: SourceContext): AsyncIterable<SourceFile>;
}

/** An object at a destination. */
export interface StoredObject {
  /** Key relative to the destination root: `<type>/<name>`. */
  key: string;
  size: number;
  /** Last modification, ms since the epoch. */
  mtimeMs: number;
}

/** Where backups are kept: a local directory or an S3 bucket (with a prefix). */
export interface Destination {
  /** Configured name: `primary`, `secondary`, `local`. */
  name: string;
  describe(): string;
  /** Stores the object; resolves once it is durably written (complete, or not at all). */
  put(key: string, body: AsyncIterable<Uint8Array>, size: number, signal: AbortSignal, onProgress?: (bytes: number) => void): Promise<void>;
  /** Reads the object back; rejects with DestinationError('missing') when absent. */
  get(key: string, signal: AbortSignal, onProgress?: (bytes: number) => void): Promise<AsyncIterable<Uint8Array>>;
  /** Objects whose key starts with prefix, in no particular order. */
  list(prefix: string, signal: AbortSignal): Promise<StoredObject[]>;
  delete(key: string, signal: AbortSignal): Promise<void>;
  /** Free bytes where known (a local disk), else undefined (S3). */
  freeBytes?(signal: AbortSignal): Promise<number | undefined>;
}

export type DestinationErrorKind = 'unreachable' | 'missing' | 'denied' | 'io';

export class DestinationError extends Error {
  readonly kind: DestinationErrorKind;
  readonly destination: string;
  constructor(kind: DestinationErrorKind, destination: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DestinationError';
    this.kind = kind;
    this.destination = destination;
  }
}

// ---------------------------------------------------------------------------------------------
// Added for the commands: how they load the S3 destination and the Prometheus/Kubernetes sources, which are
// imported only when configured (so a local-only run never loads the AWS SDK).

/** What `backup.primary` / `backup.secondary` say about an S3 destination. */
export interface S3DestinationOptions {
  /** `primary` or `secondary`. */
  name: string;
  bucket: string;
  /** Key prefix inside the bucket ('' or ending in '/'). */
  prefix: string;
  endpoint?: string;
  region?: string;
  forcePathStyle: boolean;
}

/** src/backup/destinations/s3.ts exports `createS3Destination` of this type. */
export type S3DestinationFactory = (opts: S3DestinationOptions) => Destination;

/**
 * src/backup/sources/prometheus.ts and kubernetes.ts export `createSource` of this type. The whole effective
 * configuration is passed (typed loosely so this contract does not depend on the config module); the `backup:`
 * section is at `config.backup`.
 */
export type SourceFactory = (config: unknown, env: NodeJS.ProcessEnv) => BackupSource | Promise<BackupSource>;
