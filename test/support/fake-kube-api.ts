// An in-process fake of the Kubernetes API for coordination.k8s.io/v1 Leases, with the semantics the real API
// server enforces (no real API server can run on these machines): bearer-token authentication (401) and
// authorization (403), 404 for a missing lease, 409 AlreadyExists on a create, resourceVersion optimistic
// concurrency (409 Conflict on a stale update), 400 for a MicroTime without exactly six fractional digits or a
// body that is not a Lease; plus injected latency and outages, per token (to cut one replica off).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

interface Lease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion: string; uid: string; creationTimestamp: string };
  spec: Record<string, unknown>;
}

export interface FakeKubeOptions {
  /** Tokens allowed to read and write leases. */
  tokens: string[];
  /** Tokens that authenticate but lack RBAC on leases (403). */
  forbiddenTokens?: string[];
}

const MICRO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;
const PATH = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/;

export class FakeKubeApi {
  readonly leases = new Map<string, Lease>();
  /** Requests seen: method, path, status. */
  readonly log: { method: string; path: string; status: number; token: string }[] = [];
  /** Added to every answer. */
  latencyMs = 0;
  /** Whole API down: connections are reset. */
  down = false;
  /** Tokens whose requests hang until the outage ends (one replica cut off from the API). */
  readonly cutOff = new Set<string>();
  private rv = 1000;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly opts: FakeKubeOptions;

  constructor(opts: FakeKubeOptions) {
    this.opts = opts;
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }

  /** Ends every open connection (after an outage is switched on, keep-alive must not bypass it). */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  holder(namespace: string, name: string): string {
    return String(this.leases.get(`${namespace}/${name}`)?.spec.holderIdentity ?? '');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (this.down) {
      req.socket.destroy();
      return;
    }
    if (this.cutOff.has(token)) {
      // Hang until the cut ends, then drop: the client sees a timeout, never an answer.
      const wait = setInterval(() => {
        if (!this.cutOff.has(token)) {
          clearInterval(wait);
          req.socket.destroy();
        }
      }, 50);
      req.socket.on('close', () => clearInterval(wait));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const send = (status: number, body: unknown) => {
      this.log.push({ method: req.method ?? '', path: req.url ?? '', status, token });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const status = (code: number, reason: string, message: string) => send(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code });
    if (!token || ![...this.opts.tokens, ...(this.opts.forbiddenTokens ?? [])].includes(token)) return status(401, 'Unauthorized', 'Unauthorized');
    const m = PATH.exec((req.url ?? '').split('?')[0]!);
    if (!m) return status(404, 'NotFound', `the server could not find the requested resource`);
    const ns = decodeURIComponent(m[1]!);
    const name = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    if (this.opts.forbiddenTokens?.includes(token)) {
      return status(403, 'Forbidden', `leases.coordination.k8s.io is forbidden: User "system:serviceaccount:${ns}:slurm-exporter" cannot ${(req.method ?? '').toLowerCase()} resource "leases" in API group "coordination.k8s.io" in the namespace "${ns}"`);
    }
    let body: Lease | undefined;
    if (req.method === 'POST' || req.method === 'PUT') {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Lease;
      } catch {
        return status(400, 'BadRequest', 'the body of the request was not valid JSON');
      }
      if (body?.kind !== 'Lease' || typeof body.spec !== 'object' || body.spec === null) return status(400, 'BadRequest', 'the body is not a Lease');
      for (const f of ['acquireTime', 'renewTime']) {
        const v = body.spec[f];
        if (v !== undefined && v !== null && (typeof v !== 'string' || !MICRO.test(v))) {
          return status(400, 'BadRequest', `Lease.coordination.k8s.io "${body.metadata?.name}" is invalid: spec.${f}: Invalid value: "${String(v)}": parsing time "${String(v)}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse`);
        }
      }
    }
    const key = (n: string) => `${ns}/${n}`;
    if (req.method === 'GET' && name) {
      const l = this.leases.get(key(name));
      return l ? send(200, l) : status(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`);
    }
    if (req.method === 'GET' && !name) {
      return send(200, { kind: 'LeaseList', apiVersion: 'coordination.k8s.io/v1', metadata: { resourceVersion: String(this.rv) }, items: [...this.leases.values()].filter((l) => l.metadata.namespace === ns) });
    }
    if (req.method === 'POST' && !name) {
      const n = body!.metadata?.name;
      if (!n) return status(400, 'BadRequest', 'metadata.name: Required value');
      if (this.leases.has(key(n))) return status(409, 'AlreadyExists', `leases.coordination.k8s.io "${n}" already exists`);
      const lease: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: n, namespace: ns, resourceVersion: String(++this.rv), uid: `uid-${this.rv}`, creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
        spec: body!.spec,
      };
      this.leases.set(key(n), lease);
      return send(201, lease);
    }
    if (req.method === 'PUT' && name) {
      const cur = this.leases.get(key(name));
      if (!cur) return status(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`);
      const rv = body!.metadata?.resourceVersion;
      if (!rv) return status(422, 'Invalid', 'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
      if (rv !== cur.metadata.resourceVersion) {
        return status(409, 'Conflict', `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`);
      }
      const next: Lease = { ...cur, metadata: { ...cur.metadata, resourceVersion: String(++this.rv) }, spec: body!.spec };
      this.leases.set(key(name), next);
      return send(200, next);
    }
    if (req.method === 'DELETE' && name) {
      const had = this.leases.delete(key(name));
      return had ? send(200, { kind: 'Status', status: 'Success' }) : status(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`);
    }
    return status(405, 'MethodNotAllowed', `${req.method} is not supported`);
  }
}
