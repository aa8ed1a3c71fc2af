import type { Anomalies, ResourceData, ResourceKind } from './model.ts';

/** Why a fetch failed; becomes the `reason` label of slurm_exporter_api_errors_total. */
export type FetchErrorKind =
  | 'connect' // refused, reset, DNS
  | 'timeout' // no answer within the collector's timeout
  | 'auth' // 401/403/511, or a 500 "unable to load" for a wrong token on 22.05
  | 'http' // other non-2xx
  | 'parse' // malformed JSON or an answer of the wrong shape
  | 'too_large' // answer over the configured size limit
  | 'slurm' // 200 with errors[] from Slurm
  | 'version' // the API version is no longer served
  | 'aborted' // shutdown or leadership lost
  | 'unsupported' // this cluster does not serve the resource (API version too old, slurmdbd not configured)
  | 'exec'; // a Slurm command (CLI source) not found, not executable, killed, or exiting non-zero

/** Every kind, for the error counters' zero series. */
export const FETCH_ERROR_KINDS: readonly FetchErrorKind[] = ['connect', 'timeout', 'auth', 'http', 'parse', 'too_large', 'slurm', 'version', 'aborted', 'unsupported', 'exec'];

export class SlurmFetchError extends Error {
  readonly kind: FetchErrorKind;
  readonly status: number | undefined;
  constructor(kind: FetchErrorKind, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SlurmFetchError';
    this.kind = kind;
    this.status = options?.status;
  }
}

export interface FetchResult<K extends ResourceKind> {
  data: ResourceData[K];
  anomalies: Anomalies;
  /** Bytes of the answer body, for the bytes/s figures. */
  bytes: number;
  /** HTTP requests (or commands) this fetch cost Slurm. */
  requests: number;
  /** Set when the answer came from the exporter's cache: wall-clock ms when it was fetched. */
  cachedAt?: number;
}

/** A place Slurm data comes from: slurmrestd, the CLI, or the simulator (which is slurmrestd-shaped). */
export interface SlurmSource {
  /** Human description without secrets, e.g. `slurmrestd http://ctl:6820 (v0.0.44)`. */
  describe(): string;
  /** Negotiates what must be negotiated (API version); safe to call again after an upgrade. */
  init(signal: AbortSignal): Promise<void>;
  fetch<K extends ResourceKind>(kind: K, signal: AbortSignal): Promise<FetchResult<K>>;
  close(): Promise<void>;
}
