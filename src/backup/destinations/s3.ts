// An S3-compatible destination (AWS S3, MinIO, Ceph RGW, ...) over the AWS SDK for JavaScript v3. Credentials come
// from the SDK's default chain (environment, shared credentials file, instance or pod role) or from files named in
// the configuration, never from flags: a flag's value shows in `ps` and in shell history. Large bodies go up as a
// multipart upload, streamed, so an archive never has to fit in memory.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { DestinationError } from '../types.ts';
import type { Destination, DestinationErrorKind, S3DestinationOptions as ContractS3Options, S3DestinationFactory, StoredObject } from '../types.ts';

/** Files holding a static key pair (e.g. a mounted Kubernetes Secret); read at start, never logged. */
export interface S3CredentialFiles {
  accessKeyIdFile: string;
  secretAccessKeyFile: string;
  sessionTokenFile?: string;
}

export interface S3DestinationOptions {
  /** Configured name: `primary`, `secondary`. */
  name: string;
  bucket: string;
  /** Key prefix inside the bucket, e.g. `slurm-exporter/prod`; a trailing `/` is implied. */
  prefix?: string;
  region: string;
  /** For S3-compatible stores; AWS S3 itself needs none. */
  endpoint?: string;
  /** Path-style URLs (`http://host/bucket/key`), which MinIO and most stand-ins need. */
  forcePathStyle?: boolean;
  /** Without these, the SDK's default credential chain. */
  credentialFiles?: S3CredentialFiles;
  /** Multipart part size, at least 5 MiB (S3's minimum for every part but the last). */
  partSizeBytes?: number;
  /** Keys per list request (S3's maximum and default is 1000). */
  listPageSize?: number;
  /** Connect timeout. */
  connectTimeoutMs?: number;
  /** Limit of one request until its answer starts (one part of an upload, or a download's headers). */
  requestTimeoutMs?: number;
  /** Attempts per request, retries included (the SDK's default is 3). */
  maxAttempts?: number;
}

const MiB = 1024 * 1024;
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED']);
const DENIED_NAMES = new Set(['AccessDenied', 'Forbidden', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken']);
const MISSING_NAMES = new Set(['NoSuchKey', 'NotFound']);

function readSecretFile(file: string, what: string): string {
  try {
    const v = readFileSync(file, 'utf8').trim();
    if (v === '') throw new Error('the file is empty');
    return v;
  } catch (err) {
    // The error names the file and the reason, never its content.
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(`S3 ${what} file ${file}: ${reason}`, { cause: err });
  }
}

function credentialsFrom(files: S3CredentialFiles): S3ClientConfig['credentials'] {
  return {
    accessKeyId: readSecretFile(files.accessKeyIdFile, 'access key id'),
    secretAccessKey: readSecretFile(files.secretAccessKeyFile, 'secret access key'),
    ...(files.sessionTokenFile ? { sessionToken: readSecretFile(files.sessionTokenFile, 'session token') } : {}),
  };
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  errno?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
  errors?: unknown[];
}

/** A Node network error code anywhere in the chain (AggregateError from happy eyeballs included). */
function connectionCode(err: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof err !== 'object' || err === null) return undefined;
  const e = err as SdkErrorShape;
  if (e.code && CONNECTION_CODES.has(e.code)) return e.code;
  if (e.name === 'TimeoutError' || e.code === 'TimeoutError' || e.name === 'RequestTimeout') return 'timeout';
  for (const inner of e.errors ?? []) {
    const c = connectionCode(inner, depth + 1);
    if (c) return c;
  }
  return connectionCode(e.cause, depth + 1);
}

/** The DestinationError kind of an SDK error, and a short reason that holds no request data. */
export function classifyS3Error(err: unknown): { kind: DestinationErrorKind; reason: string } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  const conn = connectionCode(err);
  if (conn) return { kind: 'unreachable', reason: `cannot reach the endpoint (${conn})` };
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? 'Error';
  // A missing bucket is a configuration error, not an absent backup: it must not read as "nothing stored here".
  if (name === 'NoSuchBucket') return { kind: 'io', reason: 'the bucket does not exist (NoSuchBucket)' };
  if (MISSING_NAMES.has(name) || status === 404) return { kind: 'missing', reason: `no such object (${name}, HTTP ${status ?? 404})` };
  if (DENIED_NAMES.has(name) || status === 403 || status === 401) return { kind: 'denied', reason: `access denied (${name}, HTTP ${status ?? 403})` };
  return { kind: 'io', reason: `${name}${status ? `, HTTP ${status}` : ''}` };
}

export class S3Destination implements Destination {
  readonly name: string;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly client: S3Client;
  private readonly partSize: number;
  private readonly pageSize: number;
  private readonly where: string;

  constructor(opts: S3DestinationOptions) {
    this.name = opts.name;
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ? `${opts.prefix.replace(/^\/+|\/+$/g, '')}/` : '';
    this.partSize = Math.max(5 * MiB, opts.partSizeBytes ?? 16 * MiB);
    this.pageSize = Math.min(1000, Math.max(1, opts.listPageSize ?? 1000));
    this.where = `${opts.endpoint ? new URL(opts.endpoint).origin : `s3.${opts.region}`}`;
    this.client = new S3Client(this.clientConfig(opts));
  }

  private clientConfig(opts: S3DestinationOptions): S3ClientConfig {
    return {
      region: opts.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      forcePathStyle: opts.forcePathStyle ?? false,
      ...(opts.credentialFiles ? { credentials: credentialsFrom(opts.credentialFiles) } : {}),
      maxAttempts: opts.maxAttempts ?? 3,
      // Without throwOnRequestTimeout the SDK only prints a warning and waits on: a stalled endpoint would hang the backup.
      requestHandler: { connectionTimeout: opts.connectTimeoutMs ?? 5000, requestTimeout: opts.requestTimeoutMs ?? 120_000, throwOnRequestTimeout: true },
      // No logger: the SDK's default is a no-op, and a configured one would print requests (with signed headers).
      logger: undefined,
      // S3-compatible stores often reject the SDK's newer default trailing checksums (aws-chunked bodies); the
      // archive carries its own SHA-256 manifest, read back after every upload, so integrity does not depend on it.
      ...(opts.endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
    };
  }

  describe(): string {
    return `S3 bucket ${this.bucket}${this.prefix ? ` prefix ${this.prefix}` : ''} at ${this.where}`;
  }

  private fullKey(key: string): string {
    return `${this.prefix}${key}`;
  }

  /** A DestinationError naming the operation, bucket and key; the cause keeps only the SDK error's name. */
  private fail(op: string, key: string, err: unknown, signal: AbortSignal): never {
    if (signal.aborted) throw signal.reason;
    const { kind, reason } = classifyS3Error(err);
    const cause = err instanceof Error ? err.name : typeof err;
    throw new DestinationError(kind, this.name, `S3 ${op} s3://${this.bucket}/${this.fullKey(key)} at ${this.where}: ${reason}`, { cause });
  }

  async put(key: string, body: AsyncIterable<Uint8Array>, size: number, signal: AbortSignal, onProgress?: (bytes: number) => void): Promise<void> {
    const abort = new AbortController();
    const onAbort = () => abort.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    // A single PutObject below one part; above it, parts of partSize, two in flight, aborted (not left behind) on failure.
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.fullKey(key), Body: Readable.from(body), ContentLength: size <= this.partSize ? size : undefined },
      partSize: this.partSize,
      queueSize: 2,
      leavePartsOnError: false,
      abortController: abort,
    });
    if (onProgress) upload.on('httpUploadProgress', (p) => onProgress(p.loaded ?? 0));
    try {
      await upload.done();
    } catch (err) {
      this.fail('put', key, err, signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async get(key: string, signal: AbortSignal, onProgress?: (bytes: number) => void): Promise<AsyncIterable<Uint8Array>> {
    let body: AsyncIterable<Uint8Array>;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }), { abortSignal: signal });
      if (!res.Body) throw Object.assign(new Error('empty response body'), { name: 'EmptyBody' });
      body = res.Body as unknown as AsyncIterable<Uint8Array>;
    } catch (err) {
      this.fail('get', key, err, signal);
    }
    return this.streamed(key, body, signal, onProgress);
  }

  /** The body with progress, and errors mid-stream mapped like the request's own. */
  private async *streamed(key: string, body: AsyncIterable<Uint8Array>, signal: AbortSignal, onProgress?: (bytes: number) => void): AsyncIterable<Uint8Array> {
    let read = 0;
    try {
      for await (const chunk of body) {
        read += chunk.byteLength;
        onProgress?.(read);
        yield chunk;
      }
    } catch (err) {
      this.fail('get', key, err, signal);
    }
  }

  async list(prefix: string, signal: AbortSignal): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      try {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.fullKey(prefix), MaxKeys: this.pageSize, ContinuationToken: token }),
          { abortSignal: signal },
        );
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined) continue;
          out.push({ key: o.Key.slice(this.prefix.length), size: o.Size ?? 0, mtimeMs: o.LastModified?.getTime() ?? 0 });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } catch (err) {
        this.fail('list', prefix, err, signal);
      }
    } while (token);
    return out;
  }

  async delete(key: string, signal: AbortSignal): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }), { abortSignal: signal });
    } catch (err) {
      this.fail('delete', key, err, signal);
    }
  }

  /** Closes the SDK's connection pool. */
  close(): void {
    this.client.destroy();
  }
}

/**
 * The commands' entry point (S3DestinationFactory in ../types.ts): credentials from the SDK's default chain
 * (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_SHARED_CREDENTIALS_FILE and AWS_PROFILE, web identity, instance
 * role), the region from the configuration, else AWS_REGION, else us-east-1.
 */
export const createS3Destination: S3DestinationFactory = (opts: ContractS3Options) =>
  new S3Destination({
    name: opts.name,
    bucket: opts.bucket,
    prefix: opts.prefix,
    region: opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    forcePathStyle: opts.forcePathStyle,
  });
