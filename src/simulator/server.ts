// The simulator with its test controls: a request log, fault injection and the /sim/* endpoints (ground
// truth, faults, tick), for tests, benchmarks and `slurm-exporter simulate`. The exporter's --demo runs the
// plain SimulatedSlurmrestd (slurmrestd.ts) and never loads this file.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { ClusterCounts } from './cluster.ts';
import { FaultControl, parseFaultSpec, type FaultSpec } from './faults.ts';
import { ALL_VERSIONS, type ApiVersion } from './versions.ts';
import { SimulatedSlurmrestd, UNKNOWN_PATH_TEXT, sendBody, sendText, streamChunks, type SimulatorOptions } from './slurmrestd.ts';

export { FaultControl, type FaultSpec } from './faults.ts';
export { ALL_VERSIONS, type ApiVersion } from './versions.ts';
export { UNKNOWN_PATH_TEXT, signJwt, verifyJwt, type SimulatorOptions } from './slurmrestd.ts';

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

export class SlurmSimulator extends SimulatedSlurmrestd {
  readonly faults = new FaultControl();
  private readonly log: RequestLogEntry[] = [];
  private logNext = 0;
  private readonly logSize: number;
  private requests = 0;

  constructor(o: SimulatorOptions) {
    super(o);
    this.logSize = o.logSize ?? 10_000;
  }

  /** The request log, oldest first (a bounded ring buffer). */
  get requestLog(): RequestLogEntry[] {
    if (this.log.length < this.logSize) return this.log.slice();
    return [...this.log.slice(this.logNext), ...this.log.slice(0, this.logNext)];
  }

  counts(): SimulatorCounts {
    return { ...this.cluster.counts(), versions: this.servedVersions(), generation: this.cluster.generation, requests: this.requests };
  }

  protected override servedVersions(): ApiVersion[] {
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

  protected override exchange(req: IncomingMessage, res: ServerResponse, path: string): (n: number) => void {
    const entry: RequestLogEntry = { time: Date.now(), method: req.method ?? '', path, status: 0, userAgent: String(req.headers['user-agent'] ?? ''), bytes: 0 };
    if (!path.startsWith('/sim/')) {
      this.requests++;
      // Logged when the exchange ends, whichever way it ends.
      res.once('close', () => {
        entry.status = res.headersSent ? res.statusCode : 0;
        this.record(entry);
      });
    }
    return (n) => {
      entry.bytes += n;
    };
  }

  protected override intercept(req: IncomingMessage, res: ServerResponse, url: URL, count: (n: number) => void): 'handled' | { dropped: string | undefined } {
    if (url.pathname.startsWith('/sim/')) {
      this.handleSim(req, res, url);
      return 'handled';
    }
    const fault = this.faults.take(url.pathname);
    if (fault && fault.mode !== 'drop-version') {
      this.applyFault(fault, url.pathname, req, res, count);
      return 'handled';
    }
    return { dropped: fault?.version };
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
  users?: number;
  accounts?: number;
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
  const sim = new SlurmSimulator({ nodes: opts.nodes, jobs: opts.jobs, seed: opts.seed, versions: opts.versions, jwtKey, tickMs: opts.tickMs, host, port, users: opts.users, accounts: opts.accounts });
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
