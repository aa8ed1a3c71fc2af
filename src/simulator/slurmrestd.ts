// The simulated slurmrestd: serves every API version v0.0.38..v0.0.44 at once (like a real slurmrestd
// with several data parsers), answers shaped from real captures, streamed with backpressure. This is what
// --demo runs; the test controls (faults, request log, /sim/*) are in server.ts and never loaded by it.
import { mintSlurmJwt } from '../slurm/rest/jwt.ts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Cluster } from './cluster.ts';
import { RESOURCES, RESOURCE_KINDS } from '../slurm/resources.ts';
import { ALL_VERSIONS, VersionRenderer, isApiVersion, type Answer, type ApiVersion, type Endpoint, type SlurmError } from './versions.ts';

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
  slurmdb_ping: ['Unable to ping slurmdbd', 'op_handler_ping'],
  // Never asked of slurmrestd: slurmctld serves it on its own port.
  native: ['Unable to query metrics', 'metrics/openmetrics'],
};

const ROUTE = /^\/(slurm|slurmdb)\/(v\d+\.\d+\.\d+)\/([a-z]+)\/?$/;
const BY_PATH = new Map<string, Endpoint>(RESOURCE_KINDS.map((k) => [`${RESOURCES[k].plugin}/${RESOURCES[k].path}`, RESOURCES[k].endpoint]));

/** `/slurm/<v>/<path>` or `/slurmdb/<v>/<path>` as [version, endpoint], from the descriptor table. */
export function route(path: string): [string | undefined, Endpoint | undefined] {
  const m = ROUTE.exec(path);
  return m ? [m[2], BY_PATH.get(`${m[1]}/${m[3]}`)] : [undefined, undefined];
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

export class SimulatedSlurmrestd {
  readonly cluster: Cluster;
  protected readonly opts: SimulatorOptions;
  protected readonly versions: ApiVersion[];
  protected readonly renderers = new Map<ApiVersion, VersionRenderer>();
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(o: SimulatorOptions) {
    if (!Number.isInteger(o.nodes) || o.nodes < 1) throw new Error(`simulator: nodes must be a positive integer, got ${o.nodes}`);
    if (!Number.isInteger(o.jobs) || o.jobs < 0) throw new Error(`simulator: jobs must be a non-negative integer, got ${o.jobs}`);
    this.opts = o;
    const versions = o.versions?.length ? o.versions : [...ALL_VERSIONS];
    for (const v of versions) {
      if (!isApiVersion(v)) throw new Error(`simulator: unknown API version "${v}" (known: ${ALL_VERSIONS.join(', ')})`);
    }
    this.versions = versions as ApiVersion[];
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

  /** The API versions answered now (a test may hide one to play an upgrade). */
  protected servedVersions(): ApiVersion[] {
    return this.versions.slice();
  }

  /**
   * Hooks for the test controls (server.ts): `exchange` is told of every request and returns the byte counter,
   * `intercept` may answer a request itself or hide an API version for it. The exporter's --demo uses neither.
   */
  protected exchange(_req: IncomingMessage, _res: ServerResponse, _path: string): (n: number) => void {
    return () => {};
  }

  protected intercept(_req: IncomingMessage, _res: ServerResponse, _url: URL, _count: (n: number) => void): 'handled' | { dropped: string | undefined } {
    return { dropped: undefined };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname;
    const count = this.exchange(req, res, path);
    try {
      const seen = this.intercept(req, res, url, count);
      if (seen === 'handled') return;
      this.handleSlurm(req, res, path, seen.dropped, count);
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
    if (!renderer || !endpoint || !renderer.serves(endpoint) || req.method !== 'GET') {
      sendText(res, 404, UNKNOWN_PATH_TEXT, count, true);
      return;
    }
    const ep = endpoint;
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
  protected answer(now: number, copy: boolean, authFailed = false): Answer {
    const c = this.cluster;
    if (!copy) return { c, jobs: [...c.jobs.values()], nodes: c.nodes, now, authFailed };
    return { c, jobs: Array.from(c.jobs.values(), (j) => ({ ...j })), nodes: c.nodes.map((n) => ({ ...n })), now, authFailed };
  }

  private openapi(): object {
    const paths: Record<string, object> = {};
    for (const v of this.servedVersions()) {
      for (const k of RESOURCE_KINDS) {
        const { endpoint, plugin, path } = RESOURCES[k];
        if (!this.renderers.get(v)?.serves(endpoint)) continue;
        paths[`/${plugin}/${v}/${path}/`] = { get: { operationId: `${plugin}_${v.replaceAll('.', '_')}_get_${path}`, tags: [plugin] } };
      }
    }
    return { openapi: '3.0.3', info: { title: 'Slurm REST API (simulated)', version: 'Slurm-25.11.7' }, paths };
  }

  /** The normal answer's chunks for a Slurm path (or a 404 text when it is not one). */
  protected slurmChunks(path: string): Generator<string> {
    const [v, e] = route(path);
    const r = v && isApiVersion(v) ? this.renderers.get(v) : undefined;
    if (!r || !e || !r.serves(e)) return (function* () {
      yield UNKNOWN_PATH_TEXT;
    })();
    return r.render(e as Endpoint, this.answer(Math.floor(Date.now() / 1000), true));
  }

}

export function sendText(res: ServerResponse, status: number, text: string, count: (n: number) => void, close = false): void {
  const headers: Record<string, string> = { 'Content-Type': 'text/plain', 'Content-Length': String(Buffer.byteLength(text)) };
  if (close) headers.Connection = 'Close';
  res.writeHead(status, headers);
  res.end(text);
  count(Buffer.byteLength(text));
}

export function sendBody(res: ServerResponse, status: number, type: string, body: string, count: (n: number) => void): void {
  const n = Buffer.byteLength(body);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(n) });
  res.end(body);
  count(n);
}

/** Writes chunks with backpressure: waits for 'drain' whenever write() says the buffer is full. */
export async function streamChunks(res: ServerResponse, chunks: Iterable<string>, count: (n: number) => void): Promise<void> {
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

