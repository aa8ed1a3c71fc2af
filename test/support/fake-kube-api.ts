// An in-process fake of the Kubernetes API for coordination.k8s.io/v1 Leases, with the semantics the real API
// server enforces (no real API server can run on these machines): bearer-token authentication (401) and RBAC
// authorization of each verb against a Role's rules (403 Forbidden, by default with the Role documented in
// docs/high-availability.md), 404 for a missing lease, 409 AlreadyExists on a create, resourceVersion optimistic
// concurrency (409 Conflict on a stale update), 400 for a MicroTime without exactly six fractional digits or a
// body that is not a Lease; plus injected latency and outages, per token (to cut one replica off).
// Besides Leases, a generic read-only store of namespaced objects (ConfigMaps, Secrets, Deployments, ...; see
// KINDS) answers GET (one object, or a list filtered by labelSelector) under the same authentication and RBAC, and
// API groups can be declared absent (404 for everything under them, as for a CRD that is not installed).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parseAllDocuments } from 'yaml';

interface Lease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion: string; uid: string; creationTimestamp: string };
  spec: Record<string, unknown>;
}

/** One rule of an RBAC Role (rbac.authorization.k8s.io/v1 PolicyRule). */
export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}

export interface FakeKubeOptions {
  /** Tokens bound to the Role of `rules`. */
  tokens: string[];
  /** Tokens that authenticate but are bound to no Role (403 for everything). */
  forbiddenTokens?: string[];
  /** The rules of the Role bound to `tokens`; by default those of the Role in docs/high-availability.md. */
  rules?: PolicyRule[];
  /** API groups this server does not serve (e.g. `monitoring.coreos.com` when the Prometheus Operator is absent). */
  absentGroups?: string[];
}

/** The generic kinds the fake stores: resource (plural) to its group, version and kind. */
export const KINDS: Record<string, { group: string; version: string; kind: string }> = {
  configmaps: { group: '', version: 'v1', kind: 'ConfigMap' },
  secrets: { group: '', version: 'v1', kind: 'Secret' },
  services: { group: '', version: 'v1', kind: 'Service' },
  deployments: { group: 'apps', version: 'v1', kind: 'Deployment' },
  networkpolicies: { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' },
  servicemonitors: { group: 'monitoring.coreos.com', version: 'v1', kind: 'ServiceMonitor' },
  prometheusrules: { group: 'monitoring.coreos.com', version: 'v1', kind: 'PrometheusRule' },
};

/** A stored object: what the test gives, plus the server-set metadata. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

const DOC = new URL('../../docs/high-availability.md', import.meta.url);
const RBAC_SECTION = '## RBAC for the Kubernetes backend';

/**
 * The Role documented in docs/high-availability.md (its RBAC section's YAML block), read from the doc itself so
 * that the doc cannot drift from what the tests prove.
 */
export function documentedRole(): { name: string; rules: PolicyRule[] } {
  const text = readFileSync(DOC, 'utf8');
  const section = text.indexOf(RBAC_SECTION);
  const block = section < 0 ? null : /```yaml\n([\s\S]*?)```/.exec(text.slice(section));
  if (!block) throw new Error(`${DOC.pathname}: no YAML block after "${RBAC_SECTION}"`);
  const docs = Array.from(parseAllDocuments(block[1]!), (d) => {
    if (d.errors.length > 0) throw new Error(`${DOC.pathname}: the YAML block of "${RBAC_SECTION}" does not parse: ${d.errors[0]!.message}`);
    return d.toJS() as { kind?: unknown; metadata?: { name?: unknown }; rules?: unknown };
  });
  const role = docs.find((d) => d.kind === 'Role');
  if (!role || !Array.isArray(role.rules)) throw new Error(`${DOC.pathname}: the YAML block of "${RBAC_SECTION}" has no Role with rules`);
  return { name: String(role.metadata?.name ?? ''), rules: role.rules as PolicyRule[] };
}

const GROUP = 'coordination.k8s.io';
const anyOf = (list: string[] | undefined, want: string) => list !== undefined && (list.includes(want) || list.includes('*'));

/** Whether a rule lets `verb` act on `resource` `name` (undefined for the collection), as RBAC decides. */
function grants(rules: PolicyRule[], verb: string, name: string | undefined, group = GROUP, resource = 'leases'): boolean {
  return rules.some(
    (r) =>
      anyOf(r.apiGroups, group) &&
      anyOf(r.resources, resource) &&
      anyOf(r.verbs, verb) &&
      (r.resourceNames === undefined || r.resourceNames.length === 0 || (name !== undefined && r.resourceNames.includes(name))),
  );
}

/** The RBAC verb of a request on leases. */
function verbOf(method: string, name: string | undefined, query: URLSearchParams): string {
  const watch = query.get('watch') === 'true' || query.get('watch') === '1';
  const verbs: Record<string, string> = {
    GET: name ? 'get' : watch ? 'watch' : 'list',
    POST: 'create',
    PUT: 'update',
    PATCH: 'patch',
    DELETE: name ? 'delete' : 'deletecollection',
  };
  return verbs[method] ?? method.toLowerCase();
}

const MICRO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;
const PATH = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/;
// Core kinds under /api/v1, the others under /apis/<group>/<version>.
const GENERIC = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/;

/** Equality-based label selector (`a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated); null when not understood. */
export function parseSelector(sel: string): ((labels: Record<string, string>) => boolean) | null {
  const tests: ((l: Record<string, string>) => boolean)[] = [];
  for (const term of sel.split(',').map((t) => t.trim()).filter((t) => t !== '')) {
    const m = /^(!?)([A-Za-z0-9./_-]+)(?:\s*(!=|==|=)\s*([A-Za-z0-9._-]*))?$/.exec(term);
    if (!m) return null;
    const [, not, key, op, value] = m as unknown as [string, string, string, string | undefined, string | undefined];
    if (op === undefined) tests.push(not ? (l) => !(key in l) : (l) => key in l);
    else if (not) return null;
    else if (op === '!=') tests.push((l) => l[key] !== value);
    else tests.push((l) => l[key] === value);
  }
  return (labels) => tests.every((t) => t(labels));
}

export class FakeKubeApi {
  readonly leases = new Map<string, Lease>();
  /** Generic objects by `<resource>/<namespace>/<name>`. */
  readonly objects = new Map<string, KubeObject>();
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
  private readonly rules: PolicyRule[];

  constructor(opts: FakeKubeOptions) {
    this.opts = opts;
    this.rules = opts.rules ?? documentedRole().rules;
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

  /** Stores `obj` as the API server would hold it: kind, apiVersion and the server-set metadata added. */
  add(resource: string, obj: KubeObject): KubeObject {
    const k = KINDS[resource];
    if (!k) throw new Error(`fake-kube-api: unknown resource ${resource}; known: ${Object.keys(KINDS).join(', ')}`);
    const ns = obj.metadata.namespace ?? 'default';
    const stored: KubeObject = {
      apiVersion: k.group ? `${k.group}/${k.version}` : k.version,
      kind: k.kind,
      ...obj,
      metadata: {
        ...obj.metadata,
        namespace: ns,
        resourceVersion: String(++this.rv),
        uid: `uid-${this.rv}`,
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        managedFields: [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: new Date().toISOString() }],
      },
    };
    this.objects.set(`${resource}/${ns}/${obj.metadata.name}`, stored);
    return stored;
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
    const url = new URL(req.url ?? '/', 'http://fake');
    const m = PATH.exec(url.pathname);
    if (!m) return this.generic(req.method ?? '', url, token, send, status);
    const ns = decodeURIComponent(m[1]!);
    const name = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    const verb = verbOf(req.method ?? '', name, url.searchParams);
    if (this.opts.forbiddenTokens?.includes(token) || !grants(this.rules, verb, name)) {
      // The API server's own wording and Status details.
      const what = name === undefined ? `leases.${GROUP}` : `leases.${GROUP} "${name}"`;
      const message = `${what} is forbidden: User "system:serviceaccount:${ns}:slurm-exporter" cannot ${verb} resource "leases" in API group "${GROUP}" in the namespace "${ns}"`;
      return send(403, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Forbidden', details: { ...(name === undefined ? {} : { name }), group: GROUP, kind: 'leases' }, code: 403 });
    }
    if (verb === 'watch') return status(405, 'MethodNotAllowed', 'this fake does not serve watches');
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

  /** GET of the generic kinds: one object, or the list filtered by labelSelector; 404 under an absent group. */
  private generic(method: string, url: URL, token: string, send: (code: number, body: unknown) => void, status: (code: number, reason: string, message: string) => void): void {
    const notFound = () => status(404, 'NotFound', 'the server could not find the requested resource');
    const m = GENERIC.exec(url.pathname);
    if (!m) return notFound();
    const [, group = '', version = 'v1', nsRaw, resource, nameRaw] = m as unknown as [string, string | undefined, string | undefined, string, string, string | undefined];
    const kind = KINDS[resource];
    if (this.opts.absentGroups?.includes(group) || !kind || kind.group !== group || kind.version !== version) return notFound();
    const ns = decodeURIComponent(nsRaw);
    const name = nameRaw === undefined ? undefined : decodeURIComponent(nameRaw);
    const verb = verbOf(method, name, url.searchParams);
    if (this.opts.forbiddenTokens?.includes(token) || !grants(this.rules, verb, name, group, resource)) {
      const what = `${resource}${group ? `.${group}` : ''}${name === undefined ? '' : ` "${name}"`}`;
      const message = `${what} is forbidden: User "system:serviceaccount:${ns}:slurm-exporter" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${ns}"`;
      return send(403, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Forbidden', details: { ...(name === undefined ? {} : { name }), group, kind: resource }, code: 403 });
    }
    if (method !== 'GET' || verb === 'watch') return status(405, 'MethodNotAllowed', `this fake serves only get and list on ${resource}`);
    if (name !== undefined) {
      const o = this.objects.get(`${resource}/${ns}/${name}`);
      return o ? send(200, o) : status(404, 'NotFound', `${resource}${group ? `.${group}` : ''} "${name}" not found`);
    }
    const match = parseSelector(url.searchParams.get('labelSelector') ?? '');
    if (!match) return status(400, 'BadRequest', `unable to parse requirement: ${url.searchParams.get('labelSelector')}`);
    // As a real API server does, list items carry neither kind nor apiVersion: the list does.
    const all = [...this.objects.entries()]
      .filter(([k, o]) => k.startsWith(`${resource}/${ns}/`) && match(o.metadata.labels ?? {}))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, o]) => Object.fromEntries(Object.entries(o).filter(([f]) => f !== 'kind' && f !== 'apiVersion')));
    // Paging as the API server does it: at most `limit` items, and an opaque `continue` token for the rest,
    // which expires (410 Gone) once the objects have changed since the first page.
    const limit = Number(url.searchParams.get('limit') ?? 0);
    const cont = url.searchParams.get('continue');
    let from = 0;
    if (cont) {
      const [rv, at] = Buffer.from(cont, 'base64url').toString('utf8').split(':').map(Number);
      if (rv !== this.rv) return status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.');
      from = at!;
    }
    const items = limit > 0 ? all.slice(from, from + limit) : all.slice(from);
    const next = limit > 0 && from + limit < all.length ? Buffer.from(`${this.rv}:${from + limit}`).toString('base64url') : undefined;
    this.pages.push({ resource, from, count: items.length });
    this.onListPage?.(resource, from);
    send(200, { kind: `${kind.kind}List`, apiVersion: group ? `${group}/${version}` : version, metadata: { resourceVersion: String(this.rv), ...(next ? { continue: next } : {}) }, items });
  }

  /** Every list page served: which resource, from which item, how many. */
  readonly pages: { resource: string; from: number; count: number }[] = [];
  /** Called after each list page is served (a test changes objects between pages). */
  onListPage: ((resource: string, from: number) => void) | undefined;
}
