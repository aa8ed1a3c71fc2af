// The simulated slurmrestd: serves every API version v0.0.38..v0.0.44 at once (like a real slurmrestd
// with several data parsers), answers shaped from real captures, streamed with backpressure; plus
// /sim/* control endpoints (request log, ground truth, faults, tick) for tests and benchmarks.
import { mintSlurmJwt } from '../slurm/rest/jwt.ts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Cluster, type ClusterCounts } from './cluster.ts';
import { FaultControl, parseFaultSpec, type FaultSpec } from './faults.ts';
import { ALL_VERSIONS, ENDPOINTS, VersionRenderer, isApiVersion, type Answer, type ApiVersion, type Endpoint, type SlurmError } from './versions.ts';

export { FaultControl, type FaultSpec } from './faults.ts';
export { ALL_VERSIONS, type ApiVersion } from './versions.ts';

export interface SimulatorOptions {
  nodes: number;
  jobs: number;
  seed?: number;
  /** API versions to serve (default: all of v0.0.38..v0.0.44), to play an older or newer Slurm. */
  versions?: string[];
  /** HS256 key: when set, requests need X-SLURM-USER-NAME and a valid, unexpired X-SLURM-USER-TOKEN. */
  jwtKey?: Buffer;
  /** How often the cluster changes (ms, default 5000; 0 = only on tick()). */
  tickMs?: number;
  host?: string;
  port?: number;
  clusterName?: string;
  /** Distinct users and accounts submitting jobs (defaults 60 and 10). */
  users?: number;
  accounts?: number;
  /** Request log capacity (default 10000 entries). */
  logSize?: number;
}

export interface RequestLogEntry {
  /** Wall-clock ms when the request arrived. */
  time: number;
  method: string;
  path: string;
  /** 0 when no status was sent (refused, hung, destroyed). */
  status: number;
  userAgent: string;
  /** Body bytes written. */
  bytes: number;
}

export interface SimulatorCounts extends ClusterCounts {
  versions: string[];
  generation: number;
  requests: number;
}

/** The text real slurmrestd 25.11 answers for a path it does not serve (404, text/plain). */
export const UNKNOWN_PATH_TEXT =
  "Unable to find requested URL endpoint. Please query the '/openapi/v3' endpoint or visit 'https://slurm.schedmd.com/rest_api.html' for the OpenAPI specification which includes a list of all possible slurmrestd endpoints.";
const AUTH_FAILURE_TEXT = 'Authentication failure';

const ERROR_SOURCES: Record<Endpoint, [string, string]> = {
  ping: ['Unable to ping', 'slurm_ping()'],
  diag: ['slurm_get_statistics() failed to get slurmctld statistics', 'op_handler_diag'],
  jobs: ['Unable to query jobs', 'slurm_load_jobs()'],
  nodes: ['Unable to query nodes', 'slurm_load_node()'],
  partitions: ['Unable to query partitions', 'slurm_load_partitions()'],
  licenses: ['Unable to query licenses', 'slurm_load_licenses()'],
  reservations: ['Unable to query reservations', 'slurm_load_reservations()'],
  shares: ['Unable to query shares', 'slurm_associations_get_shares()'],
  slurmdb_diag: ['slurmdb_get_stats() failed', 'op_handler_diag'],
};

const ROUTE = /^\/slurm\/(v\d+\.\d+\.\d+)\/([a-z]+)\/?$/;
const ROUTE_DB = /^\/slurmdb\/(v\d+\.\d+\.\d+)\/diag\/?$/;

/** `/slurm/<v>/<endpoint>` or slurmdbd's `/slurmdb/<v>/diag`, as [version, endpoint]. */
function route(path: string): [string | undefined, string | undefined] {
  const db = ROUTE_DB.exec(path);
  if (db) return [db[1], 'slurmdb_diag'];
  const m = ROUTE.exec(path);
  return m?.[2] === 'slurmdb_diag' ? [undefined, undefined] : [m?.[1], m?.[2]];
}
const ROUTE_ONE = /^\/slurm\/(v\d+\.\d+\.\d+)\/(job|node|partition)\/([^/]+)\/?$/;

/** Verifies an HS256 JWT: signature and exp. Returns why it is not valid, or undefined when it is. */
export function verifyJwt(token: string, key: Buffer, nowSec = Date.now() / 1000): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return 'not a JWT';
  const [h, p, sig] = parts as [string, string, string];
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    return 'undecodable JWT';
  }
  if ((header as { alg?: unknown } | null)?.alg !== 'HS256') return 'alg is not HS256';
  const want = createHmac('sha256', key).update(`${h}.${p}`).digest();
  const got = Buffer.from(sig, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return 'bad signature';
  const exp = (payload as { exp?: unknown } | null)?.exp;
  if (typeof exp !== 'number' || exp <= nowSec) return 'expired';
  return undefined;
}

/** Makes an HS256 JWT the way `scontrol token` does, for tests and demos (the exporter's own signer; the
 * simulator's check above is separate code, so it still proves what the exporter signs). */
export function signJwt(user: string, key: Buffer, lifetimeSec = 3600, nowSec = Math.floor(Date.now() / 1000)): string {
  return mintSlurmJwt(user, key, lifetimeSec, nowSec);
}

export class SlurmSimulator {
  readonly cluster: Cluster;
  readonly faults = new FaultControl();
  private readonly opts: SimulatorOptions;
  private readonly versions: ApiVersion[];
  private readonly renderers = new Map<ApiVersion, VersionRenderer>();
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly log: RequestLogEntry[] = [];
  private logNext = 0;
  private readonly logSize: number;
  private requests = 0;

  constructor(o: SimulatorOptions) {
    if (!Number.isInteger(o.nodes) || o.nodes < 1) throw new Error(`simulator: nodes must be a positive integer, got ${o.nodes}`);
    if (!Number.isInteger(o.jobs) || o.jobs < 0) throw new Error(`simulator: jobs must be a non-negative integer, got ${o.jobs}`);
    this.opts = o;
    const versions = o.versions?.length ? o.versions : [...ALL_VERSIONS];
    for (const v of versions) {
      if (!isApiVersion(v)) throw new Error(`simulator: unknown API version "${v}" (known: ${ALL_VERSIONS.join(', ')})`);
    }
    this.versions = versions as ApiVersion[];
    this.logSize = o.logSize ?? 10_000;
    this.cluster = new Cluster({ nodes: o.nodes, jobs: o.jobs, seed: o.seed ?? 1, clusterName: o.clusterName ?? 'sim', users: o.users, accounts: o.accounts });
    for (const v of this.versions) this.renderers.set(v, new VersionRenderer(v, this.cluster));
  }

  async start(): Promise<{ url: string; port: number }> {
    if (this.server) throw new Error('simulator: already started');
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    const host = this.opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const tickMs = this.opts.tickMs ?? 5000;
    if (tickMs > 0) {
      this.timer = setInterval(() => this.tick(), tickMs);
      this.timer.unref();
    }
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const h = host.includes(':') ? `[${host}]` : host;
    return { url: `http://${h}:${port}`, port };
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  tick(): void {
    this.cluster.tick();
  }

  /** The request log, oldest first (a bounded ring buffer). */
  get requestLog(): RequestLogEntry[] {
    if (this.log.length < this.logSize) return this.log.slice();
    return [...this.log.slice(this.logNext), ...this.log.slice(0, this.logNext)];
  }

  counts(): SimulatorCounts {
    return { ...this.cluster.counts(), versions: this.served(), generation: this.cluster.generation, requests: this.requests };
  }

  private served(): ApiVersion[] {
    const f = this.faults.current;
    return f.mode === 'drop-version' ? this.versions.filter((v) => v !== f.version) : this.versions.slice();
  }

  private record(e: RequestLogEntry): void {
    if (this.log.length < this.logSize) this.log.push(e);
    else {
      this.log[this.logNext] = e;
      this.logNext = (this.logNext + 1) % this.logSize;
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname;
    const entry: RequestLogEntry = { time: Date.now(), method: req.method ?? '', path, status: 0, userAgent: String(req.headers['user-agent'] ?? ''), bytes: 0 };
    if (!path.startsWith('/sim/')) {
      this.requests++;
      // Logged when the exchange ends, whichever way it ends.
      res.once('close', () => {
        entry.status = res.headersSent ? res.statusCode : 0;
        this.record(entry);
      });
    }
    const count = (n: number) => {
      entry.bytes += n;
    };
    try {
      if (path.startsWith('/sim/')) return this.handleSim(req, res, url);
      const fault = this.faults.take(path);
      if (fault && fault.mode !== 'drop-version') return this.applyFault(fault, path, req, res, count);
      this.handleSlurm(req, res, path, fault?.version, count);
    } catch (err) {
      if (!res.headersSent) sendText(res, 500, `simulator error: ${err instanceof Error ? err.message : String(err)}`, count);
      else res.destroy();
    }
  }

  private handleSlurm(req: IncomingMessage, res: ServerResponse, path: string, dropped: string | undefined, count: (n: number) => void): void {
    if (this.opts.jwtKey && !(req.headers['x-slurm-user-name'] && req.headers['x-slurm-user-token'])) {
      sendText(res, 401, AUTH_FAILURE_TEXT, count, true);
      return;
    }
    const badToken = this.opts.jwtKey ? verifyJwt(String(req.headers['x-slurm-user-token']), this.opts.jwtKey) !== undefined : false;
    if (path === '/openapi/v3' || path === '/openapi/v3/') {
      if (badToken) {
        sendText(res, 401, AUTH_FAILURE_TEXT, count, true);
        return;
      }
      sendBody(res, 200, 'application/json', JSON.stringify(this.openapi(), null, 2), count);
      return;
    }
    const one = ROUTE_ONE.exec(path);
    if (one && req.method === 'GET') {
      const r = one[1] !== dropped && isApiVersion(one[1]!) ? this.renderers.get(one[1]) : undefined;
      if (r) return this.handleOne(res, r, one[2] as 'job' | 'node' | 'partition', decodeURIComponent(one[3]!), badToken, count);
    }
    const [version, endpoint] = route(path);
    const renderer = version && version !== dropped && isApiVersion(version) ? this.renderers.get(version) : undefined;
    if (!renderer || !endpoint || !(ENDPOINTS as readonly string[]).includes(endpoint) || !renderer.serves(endpoint as Endpoint) || req.method !== 'GET') {
      sendText(res, 404, UNKNOWN_PATH_TEXT, count, true);
      return;
    }
    const ep = endpoint as Endpoint;
    const now = Math.floor(Date.now() / 1000);
    if (badToken) {
      if (ep === 'ping') {
        // Like 25.x: a ping with a bad token still answers 200, reporting the controller as not reachable.
        sendBody(res, 200, 'application/json', [...renderer.render('ping', this.answer(now, false, true))].join(''), count);
        return;
      }
      const [description, source] = ERROR_SOURCES[ep];
      const err: SlurmError = { description, error_number: 1007, error: 'Protocol authentication error', source };
      sendBody(res, 511, 'application/json', renderer.errorAnswer(ep, this.answer(now, false), err), count);
      return;
    }
    const streamed = ep === 'jobs' || ep === 'nodes';
    const chunks = renderer.render(ep, this.answer(now, streamed));
    if (!streamed) {
      sendBody(res, 200, 'application/json', [...chunks].join(''), count);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    void streamChunks(res, chunks, count);
  }

  private handleOne(res: ServerResponse, r: VersionRenderer, kind: 'job' | 'node' | 'partition', key: string, badToken: boolean, count: (n: number) => void): void {
    const a = this.answer(Math.floor(Date.now() / 1000), false);
    const ep: Endpoint = kind === 'job' ? 'jobs' : kind === 'node' ? 'nodes' : 'partitions';
    if (badToken) {
      const [description, source] = ERROR_SOURCES[ep];
      sendBody(res, 511, 'application/json', r.errorAnswer(ep, a, { description, error_number: 1007, error: 'Protocol authentication error', source }), count);
      return;
    }
    const c = this.cluster;
    const item = kind === 'job' ? c.jobs.get(Number(key)) : kind === 'node' ? c.nodes.find((n) => n.name === key) : c.partitions.find((p) => p.name === key);
    if (!item) {
      // As 25.11 answers an unknown job id (rest_error_unknown_job.json): 404 with the error in JSON.
      const err: SlurmError =
        kind === 'job'
          ? { description: `Unable to query JobId=${key}`, error_number: 2017, error: 'Invalid job id specified', source: '_handle_job_get' }
          : kind === 'node'
            ? { description: `Unable to query node ${key}`, error_number: 2008, error: 'Invalid node name specified', source: '_handle_node_get' }
            : { description: `Unable to query partition ${key}`, error_number: 2006, error: 'Invalid partition name specified', source: '_handle_partition_get' };
      sendBody(res, 404, 'application/json', r.errorAnswer(ep, a, err), count);
      return;
    }
    sendBody(res, 200, 'application/json', r.one(kind, a, item), count);
  }

  /** A consistent view for one answer: records are copied when the answer is streamed over several ticks. */
  private answer(now: number, copy: boolean, authFailed = false): Answer {
    const c = this.cluster;
    if (!copy) return { c, jobs: [...c.jobs.values()], nodes: c.nodes, now, authFailed };
    return { c, jobs: Array.from(c.jobs.values(), (j) => ({ ...j })), nodes: c.nodes.map((n) => ({ ...n })), now, authFailed };
  }

  private openapi(): object {
    const paths: Record<string, object> = {};
    for (const v of this.served()) {
      for (const e of ENDPOINTS) {
        if (!this.renderers.get(v)?.serves(e)) continue;
        if (e === 'slurmdb_diag') paths[`/slurmdb/${v}/diag/`] = { get: { operationId: `slurmdb_${v.replaceAll('.', '_')}_get_diag`, tags: ['slurmdb'] } };
        else paths[`/slurm/${v}/${e}/`] = { get: { operationId: `slurm_${v.replaceAll('.', '_')}_get_${e}`, tags: ['slurm'] } };
      }
    }
    return { openapi: '3.0.3', info: { title: 'Slurm REST API (simulated)', version: 'Slurm-25.11.7' }, paths };
  }

  private applyFault(f: FaultSpec, path: string, req: IncomingMessage, res: ServerResponse, count: (n: number) => void): void {
    switch (f.mode) {
      case 'refuse':
        req.socket.destroy();
        return;
      case 'hang':
        // Accept and never answer; stop() destroys the socket.
        return;
      case 'status':
        sendBody(res, f.status ?? 500, f.contentType ?? 'text/plain', f.body ?? 'simulated failure', count);
        return;
      case 'malformed': {
        const body = '{\n  "jobs": [\n    {\n      "account": "physics",\n      "job_id": 1,,\n      "name": "x\u0000\n  ]]}{garbage';
        sendBody(res, 200, 'application/json', body, count);
        return;
      }
      case 'truncate': {
        const limit = f.bytes ?? 4096;
        const chunks = this.slurmChunks(path);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        let sent = 0;
        for (const ch of chunks) {
          const part = ch.slice(0, limit - sent);
          res.write(part);
          count(part.length);
          sent += part.length;
          if (sent >= limit) break;
        }
        // Let the bytes leave, then cut the connection mid-body.
        setTimeout(() => res.destroy(), 20).unref();
        return;
      }
      case 'huge': {
        const n = Math.max(16, f.bytes ?? 64 * 1024 * 1024);
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(n) });
        void streamChunks(res, hugeBody(n), count);
        return;
      }
      case 'slow': {
        const text = this.slurmChunks(path).next().value ?? UNKNOWN_PATH_TEXT;
        const body = text.slice(0, 64 * 1024);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        let i = 0;
        const timer = setInterval(() => {
          if (res.destroyed || i >= body.length) {
            clearInterval(timer);
            if (!res.destroyed) res.end();
            return;
          }
          res.write(body[i++]!);
          count(1);
        }, f.intervalMs ?? 1000);
        res.once('close', () => clearInterval(timer));
        return;
      }
      default:
        return;
    }
  }

  /** The normal answer's chunks for a Slurm path (or a 404 text when it is not one). */
  private slurmChunks(path: string): Generator<string> {
    const [v, e] = route(path);
    const r = v && isApiVersion(v) ? this.renderers.get(v) : undefined;
    if (!r || !e || !(ENDPOINTS as readonly string[]).includes(e) || !r.serves(e as Endpoint)) return (function* () {
      yield UNKNOWN_PATH_TEXT;
    })();
    return r.render(e as Endpoint, this.answer(Math.floor(Date.now() / 1000), true));
  }

  private handleSim(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const count = () => {};
    const json = (status: number, o: unknown) => sendBody(res, status, 'application/json', JSON.stringify(o, null, 2), count);
    const p = url.pathname.replace(/\/$/, '');
    if (p === '/sim/requests' && req.method === 'GET') {
      const since = Number(url.searchParams.get('since') ?? 0);
      json(200, this.requestLog.filter((e) => e.time >= since));
      return;
    }
    if (p === '/sim/state' && req.method === 'GET') return json(200, this.counts());
    if (p === '/sim/tick' && req.method === 'POST') {
      this.tick();
      return json(200, this.counts());
    }
    if (p === '/sim/faults') {
      if (req.method === 'GET') return json(200, this.faults.current);
      if (req.method === 'POST' || req.method === 'PUT') {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (d: string) => {
          body += d;
          if (body.length > 1 << 20) req.destroy();
        });
        req.on('end', () => {
          try {
            const spec = parseFaultSpec(body.trim() ? JSON.parse(body) : { mode: 'none' });
            this.faults.set(spec);
            json(200, this.faults.current);
          } catch (err) {
            json(400, { error: err instanceof Error ? err.message : String(err) });
          }
        });
        return;
      }
    }
    sendText(res, 404, `simulator: no control endpoint ${req.method} ${url.pathname} (see /sim/requests, /sim/state, /sim/faults, /sim/tick)`, count);
  }
}

function sendText(res: ServerResponse, status: number, text: string, count: (n: number) => void, close = false): void {
  const headers: Record<string, string> = { 'Content-Type': 'text/plain', 'Content-Length': String(Buffer.byteLength(text)) };
  if (close) headers.Connection = 'Close';
  res.writeHead(status, headers);
  res.end(text);
  count(Buffer.byteLength(text));
}

function sendBody(res: ServerResponse, status: number, type: string, body: string, count: (n: number) => void): void {
  const n = Buffer.byteLength(body);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(n) });
  res.end(body);
  count(n);
}

/** Writes chunks with backpressure: waits for 'drain' whenever write() says the buffer is full. */
async function streamChunks(res: ServerResponse, chunks: Iterable<string>, count: (n: number) => void): Promise<void> {
  try {
    for (const ch of chunks) {
      if (res.destroyed) return;
      count(Buffer.byteLength(ch));
      if (!res.write(ch)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
    }
    if (!res.destroyed) res.end();
  } catch {
    res.destroy();
  }
}

function* hugeBody(n: number): Generator<string> {
  const head = '{"padding":"';
  const tail = '"}';
  yield head;
  let left = n - head.length - tail.length;
  const block = 'x'.repeat(64 * 1024);
  while (left > 0) {
    const k = Math.min(left, block.length);
    yield k === block.length ? block : block.slice(0, k);
    left -= k;
  }
  yield tail;
}

export interface SimulateCommandOptions {
  listen: string;
  nodes: number;
  jobs: number;
  seed?: number;
  versions?: string[];
  jwtKeyFile?: string;
  tickMs?: number;
}

interface SimLogger {
  info(obj: object, msg?: string): void;
}

/** Splits `host:port`, `[v6]:port` or `:port`. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen.trim());
  if (!m) throw new Error(`simulate: --listen "${listen}" is not host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`simulate: --listen port ${port} is out of range`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** `slurm-exporter simulate`: serve until SIGINT/SIGTERM. */
export async function runSimulateCommand(opts: SimulateCommandOptions, log: SimLogger): Promise<SlurmSimulator> {
  const { host, port } = parseListen(opts.listen);
  let jwtKey: Buffer | undefined;
  if (opts.jwtKeyFile) {
    try {
      jwtKey = await readFile(opts.jwtKeyFile);
    } catch (err) {
      throw new Error(`simulate: cannot read --jwt-key-file ${opts.jwtKeyFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
    if (jwtKey.length === 0) throw new Error(`simulate: --jwt-key-file ${opts.jwtKeyFile} is empty`);
  }
  const t0 = Date.now();
  const sim = new SlurmSimulator({ nodes: opts.nodes, jobs: opts.jobs, seed: opts.seed, versions: opts.versions, jwtKey, tickMs: opts.tickMs, host, port });
  const { url } = await sim.start();
  const versions = opts.versions?.length ? opts.versions : [...ALL_VERSIONS];
  log.info({ url, nodes: opts.nodes, jobs: opts.jobs, versions: versions.join(','), auth: jwtKey ? 'jwt' : 'none', startup_ms: Date.now() - t0 }, 'simulated slurmrestd ready');
  const auth = opts.jwtKeyFile ? ` --slurm.jwt-key-file ${opts.jwtKeyFile} --slurm.user root` : '';
  process.stdout.write(
    `Simulated slurmrestd (${opts.nodes} nodes, ${opts.jobs} jobs, API ${versions.join(' ')}) at ${url}\n` +
      `Ground truth: ${url}/sim/state   request log: ${url}/sim/requests\n` +
      `Run the exporter against it:\n  slurm-exporter --slurm.url ${url}${auth}\n`,
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'simulator stopping');
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  return sim;
}
