// slurmrestd as a SlurmSource: one undici pool (slurm.maxConnections, timeouts, keep-alive; TCP, TLS or a unix
// socket), JWT headers from SlurmAuth, the API version negotiated at start (or forced), and every answer
// streamed through readResource. Failures become SlurmFetchError with a kind the error counters can label.
import { readFileSync } from 'node:fs';
import { type Readable, type Transform, pipeline } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Pool, type Dispatcher } from 'undici';
import type { SlurmRestConfig } from '../../config/types.ts';
import type { Logger } from '../../logger.ts';
import type { ResourceKind } from '../model.ts';
import { type FetchResult, type SlurmSource, SlurmFetchError } from '../source.ts';
import { type ApiAdapter, SUPPORTED_VERSIONS, adapterFor } from './adapters/index.ts';
import { SlurmAuth } from './auth.ts';
import { readResource, slurmErrorText } from './read-resource.ts';

type SlurmConfig = SlurmRestConfig;

export interface RestSourceOptions {
  userAgent: string;
}

interface Target {
  origin: string;
  socketPath: string | undefined;
  /** For messages and logs: no credentials, no query. */
  display: string;
}

/** http(s)://host:port[/prefix] or unix:///path/to/socket. */
export function parseSlurmUrl(url: string): Target & { prefix: string } {
  if (url.startsWith('unix:')) {
    const socketPath = url.replace(/^unix:(\/\/)?/, '');
    if (!socketPath.startsWith('/')) throw new SlurmFetchError('connect', `slurm.url ${url}: a unix socket URL needs an absolute path (unix:///run/slurmrestd.sock)`);
    return { origin: 'http://localhost', socketPath, display: `unix://${socketPath}`, prefix: '' };
  }
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new SlurmFetchError('connect', `slurm.url: unsupported scheme ${u.protocol}`);
  const prefix = u.pathname.replace(/\/+$/, '');
  return { origin: u.origin, socketPath: undefined, display: `${u.origin}${prefix}`, prefix };
}

// slurmrestd's 404 for a path it does not route (as opposed to a 404 JSON for an unknown job).
function isUnknownPath(status: number, text: string): boolean {
  return status === 404 && !text.trimStart().startsWith('{');
}

// 401/403 from the HTTP layer, 511 from 25.x for a token slurmctld refuses (error 1007), and Slurm 22.05's
// answer to a refused token: HTTP 500 whose errors are all "Unspecified error" with errno -1 ("slurmctld config
// is unable to load" on /ping). A 22.05 slurmctld that is down answers with real error numbers (1001...).
function isAuthFailure(status: number, text: string): boolean {
  if (status === 401 || status === 403 || status === 511) return true;
  if (status < 500) return false;
  if (/"error_number"\s*:\s*1007\b|authenticat/i.test(text)) return true;
  return status === 500 && /Unspecified error/.test(text) && !/"(error_number|errno)"\s*:\s*(?!-1\b)-?\d/.test(text);
}

const ERROR_BODY_LIMIT = 64 * 1024;

async function readSmall(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    if (n < ERROR_BODY_LIMIT) chunks.push(c);
    n += c.length;
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, ERROR_BODY_LIMIT);
}

function errorSummary(text: string): string {
  try {
    const doc = JSON.parse(text) as { errors?: unknown };
    const s = slurmErrorText(doc.errors);
    if (s) return s;
  } catch {
    // plain text (slurmrestd's own 401/404 answers)
  }
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine || '(empty body)';
}

export class RestSource implements SlurmSource {
  private readonly cfg: SlurmConfig;
  private readonly log: Logger;
  private readonly target: Target & { prefix: string };
  private readonly pool: Pool;
  private readonly auth: SlurmAuth;
  private readonly userAgent: string;
  private adapter: ApiAdapter | undefined;
  private negotiating: Promise<ApiAdapter> | undefined;

  constructor(cfg: SlurmConfig, log: Logger, opts: RestSourceOptions) {
    if (!cfg.url) throw new Error('RestSource needs slurm.url');
    this.cfg = cfg;
    this.log = log;
    this.userAgent = opts.userAgent;
    this.target = parseSlurmUrl(cfg.url);
    this.auth = new SlurmAuth(cfg);
    let ca: Buffer | undefined;
    if (cfg.tls.caFile) {
      try {
        ca = readFileSync(cfg.tls.caFile);
      } catch (err) {
        throw new Error(`slurm.tls.caFile ${cfg.tls.caFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
      }
    }
    this.pool = new Pool(this.target.origin, {
      connections: cfg.maxConnections,
      connectTimeout: cfg.connectionTimeoutMs,
      headersTimeout: cfg.requestTimeoutMs,
      bodyTimeout: cfg.requestTimeoutMs,
      ...(cfg.keepAlive ? {} : { keepAliveTimeout: 1, keepAliveMaxTimeout: 1 }),
      ...(this.target.socketPath ? { socketPath: this.target.socketPath } : {}),
      connect: { ca, rejectUnauthorized: !cfg.tls.insecureSkipVerify },
    });
  }

  describe(): string {
    return `slurmrestd ${this.target.display} (${this.adapter?.version ?? 'API version not negotiated yet'}; ${this.auth.describe()})`;
  }

  /** The negotiated API version, e.g. v0.0.44. */
  apiVersion(): string | undefined {
    return this.adapter?.version;
  }

  async init(signal: AbortSignal): Promise<void> {
    await this.ensureAdapter(signal);
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => this.pool.destroy());
  }

  async fetch<K extends ResourceKind>(kind: K, signal: AbortSignal): Promise<FetchResult<K>> {
    let requests = 0;
    let adapter = await this.ensureAdapter(signal);
    let renewed = false;
    let renegotiated = false;
    for (;;) {
      const path = adapter.path(kind);
      if (path === undefined) throw new SlurmFetchError('unsupported', `slurmrestd API ${adapter.version} does not serve ${kind} (newer Slurm releases do)`);
      const res = await this.request(path, signal);
      requests++;
      if (res.statusCode === 200) {
        try {
          const out = await this.read(kind, adapter, res, signal);
          return { ...out, requests: requests + out.requests - 1 };
        } catch (err) {
          // 25.x answers a refused token with 200 + errors[] on some paths: renew once, as for a 401.
          if (err instanceof SlurmFetchError && err.kind === 'auth' && !renewed && (await this.auth.renew())) {
            renewed = true;
            continue;
          }
          throw err;
        }
      }
      const text = await readSmall(res.body).catch(() => '');
      if (isUnknownPath(res.statusCode, text)) {
        if (kind !== 'cluster' && (requests++, await this.pingRouted(adapter, signal))) {
          // The version is still served, this one endpoint is not (a plugin not loaded, slurmdbd not configured).
          throw new SlurmFetchError('unsupported', `slurmrestd ${this.target.display} does not serve ${path} (HTTP 404) while API ${adapter.version} answers /ping`, { status: 404 });
        }
        // The version we negotiated is gone (Slurm was upgraded): negotiate again and retry once.
        const was = adapter.version;
        this.adapter = undefined;
        if (this.cfg.apiVersion || renegotiated) {
          throw new SlurmFetchError('version', `slurmrestd ${this.target.display} no longer serves ${path} (API ${was})`, { status: 404 });
        }
        renegotiated = true;
        this.log.warn({ was, path }, 'slurmrestd no longer serves the negotiated API version; negotiating again');
        adapter = await this.ensureAdapter(signal);
        continue;
      }
      if (isAuthFailure(res.statusCode, text)) {
        if (!renewed && (await this.auth.renew())) {
          renewed = true;
          this.log.info({ status: res.statusCode, auth: this.auth.describe() }, 'slurmrestd refused the token; retrying once with a renewed one');
          continue;
        }
        throw new SlurmFetchError('auth', `slurmrestd refused the credentials (HTTP ${res.statusCode} for ${path}, ${this.auth.describe()}): ${errorSummary(text)}`, {
          status: res.statusCode,
        });
      }
      throw new SlurmFetchError('http', `slurmrestd answered HTTP ${res.statusCode} for ${path}: ${errorSummary(text)}`, { status: res.statusCode });
    }
  }

  /** Whether slurmrestd still routes /ping under the adapter's version. */
  private async pingRouted(adapter: ApiAdapter, signal: AbortSignal): Promise<boolean> {
    const res = await this.request(adapter.path('cluster') ?? '', signal);
    const text = await readSmall(res.body).catch(() => '');
    return !isUnknownPath(res.statusCode, text);
  }

  private async read<K extends ResourceKind>(kind: K, adapter: ApiAdapter, res: Dispatcher.ResponseData, signal: AbortSignal): Promise<FetchResult<K>> {
    const codings = contentCodings(res.headers['content-encoding']);
    const length = Number(res.headers['content-length']);
    // The limit is on the decompressed bytes, which a compressed answer's length does not tell.
    if (codings.length === 0 && Number.isFinite(length) && length > this.cfg.maxResponseBytes) {
      res.body.destroy();
      throw new SlurmFetchError('too_large', `slurmrestd's ${kind} answer is ${length} bytes, over slurm.maxResponseSize (${this.cfg.maxResponseBytes})`);
    }
    try {
      const body = decodedBody(res.body, codings, `slurmrestd's ${kind} answer`);
      return await readResource(kind, adapter, body, { maxBytes: this.cfg.maxResponseBytes, signal });
    } catch (err) {
      res.body.destroy();
      throw classify(codings.length > 0 ? decompressedTooLarge(err, codings) : err, signal, `reading the ${kind} answer`);
    }
  }

  private async request(path: string, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.userAgent,
      ...(await this.auth.headers()),
    };
    if (!this.cfg.keepAlive) headers.connection = 'close';
    const req = { method: 'GET', path: `${this.target.prefix}${path}`, headers, signal } as const;
    try {
      return await this.pool.request(req);
    } catch (err) {
      // A kept-alive connection the server closed as our request went out (its idle timeout): a GET is
      // idempotent, so once more. undici has dropped that socket; the retry takes a new connection (or another
      // idle one, which undici checks for a pending close before reuse).
      if (!this.cfg.keepAlive || signal.aborted || !isClosedUnanswered(err)) throw classify(err, signal, `GET ${path}`);
      this.log.debug({ path, err: (err as Error).message }, 'slurmrestd closed a kept-alive connection without answering; retrying once');
    }
    try {
      return await this.pool.request(req);
    } catch (err) {
      throw classify(err, signal, `GET ${path} (retried once on a new connection)`);
    }
  }

  private ensureAdapter(signal: AbortSignal): Promise<ApiAdapter> {
    if (this.adapter) return Promise.resolve(this.adapter);
    this.negotiating ??= this.negotiate(signal).then(
      (a) => {
        this.adapter = a;
        this.negotiating = undefined;
        return a;
      },
      (err: unknown) => {
        this.negotiating = undefined;
        throw err;
      },
    );
    return this.negotiating;
  }

  // Newest first: the first version whose /ping is routed (anything but slurmrestd's unknown-path 404) wins.
  private async negotiate(signal: AbortSignal): Promise<ApiAdapter> {
    if (this.cfg.apiVersion) {
      const forced = adapterFor(this.cfg.apiVersion);
      if (!forced) {
        throw new SlurmFetchError('version', `slurm.apiVersion ${this.cfg.apiVersion} is not supported; supported: ${SUPPORTED_VERSIONS.join(', ')}`);
      }
      this.log.info({ version: forced.version, forced: true }, 'using the configured slurmrestd API version');
      return forced;
    }
    let renewed = false;
    for (let i = 0; i < SUPPORTED_VERSIONS.length; i++) {
      const adapter = adapterFor(SUPPORTED_VERSIONS[i]!)!;
      const res = await this.request(adapter.path('cluster') ?? '', signal);
      const text = await readSmall(res.body).catch(() => '');
      if (isUnknownPath(res.statusCode, text)) continue;
      if (res.statusCode === 401 || res.statusCode === 403) {
        if (!renewed && (await this.auth.renew())) {
          renewed = true;
          i--;
          continue;
        }
        throw new SlurmFetchError('auth', `slurmrestd refused the credentials while negotiating the API version (HTTP ${res.statusCode}, ${this.auth.describe()}): ${errorSummary(text)}`, {
          status: res.statusCode,
        });
      }
      this.log.info({ version: adapter.version, url: this.target.display }, 'negotiated the slurmrestd API version');
      return adapter;
    }
    throw new SlurmFetchError(
      'version',
      `slurmrestd ${this.target.display} serves none of the API versions this exporter speaks (${SUPPORTED_VERSIONS.join(', ')}); Slurm 22.05 or newer is needed`,
    );
  }
}

/**
 * Whether the connection was closed before any answer came (request() resolves once the headers are in, so an
 * error there is always before them); never a timeout.
 */
function isClosedUnanswered(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE';
}

const DECODERS: Record<string, () => Transform> = {
  gzip: () => createGunzip(),
  'x-gzip': () => createGunzip(),
  deflate: () => createInflate(),
  br: () => createBrotliDecompress(),
};

/** The content codings of an answer in the order they were applied, without 'identity'. */
function contentCodings(header: string | string[] | undefined): string[] {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return text
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
}

/**
 * The body with its Content-Encoding undone (some proxies compress unasked), so that the size limit and the JSON
 * reader see the decompressed bytes. A coding this exporter cannot undo, or a corrupt or truncated compressed
 * stream, is a 'parse' error naming it.
 */
function decodedBody(body: Readable, codings: string[], what: string): AsyncIterable<Uint8Array> {
  if (codings.length === 0) return body;
  const unknown = codings.find((c) => DECODERS[c] === undefined);
  if (unknown !== undefined) {
    throw new SlurmFetchError('parse', `${what} has Content-Encoding "${unknown}", which this exporter cannot decode (it decodes ${Object.keys(DECODERS).join(', ')})`);
  }
  return decoding(body, [...codings].reverse().map((c) => DECODERS[c]!()), `${what} (Content-Encoding: ${codings.join(', ')})`);
}

async function* decoding(body: Readable, decoders: Transform[], what: string): AsyncGenerator<Uint8Array> {
  // An error of the body itself (the connection lost) passes through the decoders as it is.
  let bodyError: unknown;
  body.once('error', (err) => (bodyError = err));
  const out = pipeline([body, ...decoders], () => undefined) as Transform;
  try {
    for await (const chunk of out) yield chunk as Buffer;
  } catch (err) {
    if (bodyError !== undefined) throw bodyError;
    throw new SlurmFetchError('parse', `${what} does not decompress: ${(err as Error).message}`, { cause: err });
  }
}

/** A too_large error from a compressed answer, saying that the limit counted the decompressed bytes. */
function decompressedTooLarge(err: unknown, codings: string[]): unknown {
  if (!(err instanceof SlurmFetchError) || err.kind !== 'too_large') return err;
  return new SlurmFetchError('too_large', `${err.message}, decompressed (Content-Encoding: ${codings.join(', ')}; slurm.maxResponseSize counts the decompressed bytes)`, { cause: err });
}

/** Maps undici/socket/abort errors to the fetch error kinds. */
function classify(err: unknown, signal: AbortSignal, what: string): SlurmFetchError {
  if (signal.aborted && signal.reason instanceof SlurmFetchError) return signal.reason;
  if (err instanceof SlurmFetchError) return err;
  const e = err as { code?: string; name?: string; message?: string };
  const msg = e.message ?? String(err);
  switch (e.code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new SlurmFetchError('timeout', `${what}: slurmrestd stopped sending (${msg})`, { cause: err });
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new SlurmFetchError('connect', `${what}: could not connect in time (${msg})`, { cause: err });
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
    case 'EPIPE':
      return new SlurmFetchError('connect', `${what}: the connection was lost (${msg})`, { cause: err });
    case 'ECONNREFUSED':
    case 'ENOENT':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ECONNABORTED':
      return new SlurmFetchError('connect', `${what}: cannot reach slurmrestd (${e.code})`, { cause: err });
    default:
      break;
  }
  if (e.name === 'AbortError' || signal.aborted) return new SlurmFetchError('aborted', `${what}: aborted`, { cause: err });
  if (e.code?.startsWith('UND_ERR') || e.code?.startsWith('E')) return new SlurmFetchError('connect', `${what}: ${msg}`, { cause: err });
  return new SlurmFetchError('parse', `${what}: ${msg}`, { cause: err });
}
