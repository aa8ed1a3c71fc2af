// slurmctld's own metrics port as a SlurmSource (Slurm 25.11+, MetricsType=metrics/openmetrics in slurm.conf):
// GET /metrics/<endpoint> on the slurmctld port, one request per endpoint, one after the other (slurmctld closes
// the connection after each answer). It serves the `native` kind, and `diag` built from /metrics/scheduler so
// the scheduler collector works without slurmrestd; every other kind is "unsupported" here.
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { NATIVE_ENDPOINTS, type NativeEndpoint, type NativeMetrics, type ResourceData, type ResourceKind } from '../model.ts';
import { type FetchResult, type SlurmSource, SlurmFetchError } from '../source.ts';
import { OpenMetricsParseError, parseOpenMetrics } from './openmetrics.ts';
import { toNativeFamilies } from './units.ts';
import { schedulerStats } from './diag.ts';

export interface NativeSourceOptions {
  /** slurmctld's address: `http://ctl:6817` (a trailing `/metrics` is accepted). */
  url: string;
  /** Which /metrics/<endpoint> to read for the native kind; default all five. */
  endpoints?: readonly NativeEndpoint[];
  /** Give up one request after this long. */
  requestTimeoutMs: number;
  /** Refuse an answer larger than this (kind too_large). */
  maxResponseBytes: number;
  tls?: { caFile?: string | undefined; insecureSkipVerify?: boolean };
  /** Sent as User-Agent, so slurmctld's log shows who asks. */
  userAgent?: string;
  /** The only source of this cluster (slurm.source native): see NativeMetrics.alone. */
  alone?: boolean;
}

interface Body {
  text: string;
  bytes: number;
}

function readCa(caFile: string | undefined): Buffer | undefined {
  if (!caFile) return undefined;
  try {
    return readFileSync(caFile);
  } catch (err) {
    throw new Error(`slurm native tls.caFile ${caFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

function baseUrl(url: string): URL {
  const u = new URL(url.replace(/\/+$/, '').replace(/\/metrics$/, ''));
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`slurm native url: unsupported scheme ${u.protocol}`);
  return u;
}

/** A transport error as the poller counts it: the poller's own abort reason wins (its timeout), then ours. */
function transportError(err: unknown, signal: AbortSignal, url: string): SlurmFetchError {
  if (err instanceof SlurmFetchError) return err;
  if (signal.aborted) return signal.reason instanceof SlurmFetchError ? signal.reason : new SlurmFetchError('aborted', `${url}: aborted`, { cause: err });
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return new SlurmFetchError('connect', `${url}: ${code || String(err)}`, { cause: err });
}

function statusError(status: number, url: string, body: string): SlurmFetchError {
  const text = body.replace(/\s+/g, ' ').trim().slice(0, 200) || '(empty body)';
  // slurmctld without MetricsType=metrics/openmetrics (or older than 25.11) does not route /metrics.
  if (status === 404) return new SlurmFetchError('unsupported', `slurmctld does not serve ${url} (HTTP 404): is MetricsType=metrics/openmetrics set (Slurm 25.11+)? ${text}`, { status });
  const kind = status === 401 || status === 403 ? 'auth' : 'http';
  return new SlurmFetchError(kind, `${url}: HTTP ${status}: ${text}`, { status });
}

export class NativeSource implements SlurmSource {
  private readonly base: URL;
  private readonly endpoints: readonly NativeEndpoint[];
  private readonly opts: NativeSourceOptions;
  private readonly ca: Buffer | undefined;

  constructor(opts: NativeSourceOptions) {
    this.opts = opts;
    this.base = baseUrl(opts.url);
    this.endpoints = opts.endpoints?.length ? [...new Set(opts.endpoints)] : NATIVE_ENDPOINTS;
    this.ca = readCa(opts.tls?.caFile);
  }

  describe(): string {
    return `slurmctld metrics ${this.base.origin} (/metrics/{${this.endpoints.join(',')}})`;
  }

  /** Nothing to negotiate: slurmctld serves one format, and every fetch reports its own failure. */
  async init(): Promise<void> {}

  async close(): Promise<void> {}

  async fetch<K extends ResourceKind>(kind: K, signal: AbortSignal): Promise<FetchResult<K>> {
    if (kind === 'native') return (await this.fetchNative(signal)) as FetchResult<K>;
    if (kind === 'diag') return (await this.fetchDiag(signal)) as FetchResult<K>;
    throw new SlurmFetchError('unsupported', `slurmctld's metrics do not serve ${kind}; slurmrestd or the Slurm commands do`);
  }

  private async fetchNative(signal: AbortSignal): Promise<FetchResult<'native'>> {
    const data: NativeMetrics = { endpoints: {}, alone: this.opts.alone ?? false };
    const anomalies = { unknown: [] as string[] };
    let bytes = 0;
    for (const e of this.endpoints) {
      const body = await this.get(e, signal);
      bytes += body.bytes;
      data.endpoints[e] = toNativeFamilies(this.parse(e, body.text), anomalies);
    }
    return { data, anomalies, bytes, requests: this.endpoints.length };
  }

  private async fetchDiag(signal: AbortSignal): Promise<FetchResult<'diag'>> {
    const anomalies = { unknown: [] as string[] };
    const body = await this.get('scheduler', signal);
    const data: ResourceData['diag'] = schedulerStats(toNativeFamilies(this.parse('scheduler', body.text), anomalies));
    return { data, anomalies, bytes: body.bytes, requests: 1 };
  }

  private parse(e: NativeEndpoint, text: string) {
    try {
      return parseOpenMetrics(text, `/metrics/${e}`);
    } catch (err) {
      if (err instanceof OpenMetricsParseError) throw new SlurmFetchError('parse', `slurmctld ${this.base.origin}${err.message}`, { cause: err });
      throw err;
    }
  }

  private url(e: NativeEndpoint): URL {
    const u = new URL(this.base.href);
    u.pathname = `${u.pathname.replace(/\/+$/, '')}/metrics/${e}`;
    return u;
  }

  /** One GET, bounded in time (requestTimeoutMs) and size (maxResponseBytes). */
  private get(e: NativeEndpoint, signal: AbortSignal): Promise<Body> {
    const url = this.url(e);
    const ctrl = new AbortController();
    const stop = (reason: unknown) => ctrl.abort(reason);
    const onAbort = () => stop(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => stop(new SlurmFetchError('timeout', `${url.href}: no complete answer within ${this.opts.requestTimeoutMs} ms`)), this.opts.requestTimeoutMs);
    return this.send(url, ctrl.signal).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  }

  private send(url: URL, signal: AbortSignal): Promise<Body> {
    return new Promise<Body>((resolve, reject) => {
      const https = url.protocol === 'https:';
      const headers = { accept: 'application/openmetrics-text;version=1.0.0, text/plain;version=0.0.4;q=0.5', 'user-agent': this.opts.userAgent ?? 'slurm-exporter' };
      const tls = https ? { ca: this.ca, rejectUnauthorized: !(this.opts.tls?.insecureSkipVerify ?? false) } : {};
      const req = (https ? httpsRequest : httpRequest)(url, { method: 'GET', headers, signal, agent: false, ...tls }, (res) => {
        this.receive(url, res, signal).then(resolve, reject);
      });
      req.on('error', (err) => reject(transportError(err, signal, url.href)));
      req.end();
    });
  }

  private receive(url: URL, res: IncomingMessage, signal: AbortSignal): Promise<Body> {
    return new Promise<Body>((resolve, reject) => {
      const declared = Number(res.headers['content-length'] ?? NaN);
      if (declared > this.opts.maxResponseBytes) {
        res.destroy();
        reject(new SlurmFetchError('too_large', `${url.href}: answer of ${declared} bytes, over ${this.opts.maxResponseBytes}`));
        return;
      }
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes > this.opts.maxResponseBytes) {
          res.destroy(new SlurmFetchError('too_large', `${url.href}: answer over ${this.opts.maxResponseBytes} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('error', (err) => reject(transportError(err, signal, url.href)));
      res.on('close', () => {
        if (!res.complete) reject(transportError(new Error('connection closed before the answer was complete'), signal, url.href));
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) reject(statusError(status, url.href, text));
        else resolve({ text, bytes });
      });
    });
  }
}
