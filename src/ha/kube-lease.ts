// The Kubernetes backend: one coordination.k8s.io/v1 Lease, read and written over undici with the service
// account (in a pod) or a kubeconfig. Writes carry the resourceVersion they were based on, so the API server's
// optimistic concurrency (409 Conflict) decides races; times are MicroTime (six fractional digits: a real API
// server refuses JavaScript's three). Expiry is judged the client-go way: by how long the record has been seen
// unchanged on our own clock, so clock skew between replicas does not matter.
import { readFileSync, statSync } from 'node:fs';
import { Pool } from 'undici';
import { parse as parseYaml } from 'yaml';
import type { LeaseBackend, LeaseObservation } from './elector.ts';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConnection {
  server: string;
  /** Bearer token; never logged. */
  token?: string;
  /**
   * Where the token comes from, re-read when it changes: a projected service-account token is rotated by the
   * kubelet (about hourly), and an old one is refused once it expires.
   */
  tokenFile?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipVerify?: boolean;
}

/** In-cluster configuration from the service account, or undefined outside a pod. */
export function inClusterConnection(env: NodeJS.ProcessEnv = process.env, dir = SA_DIR): KubeConnection | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) return undefined;
  let token: string;
  try {
    token = readFileSync(`${dir}/token`, 'utf8').trim();
  } catch (err) {
    throw new Error(`in-cluster Kubernetes config: cannot read the service account token in ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  let ca: Buffer | undefined;
  try {
    ca = readFileSync(`${dir}/ca.crt`);
  } catch {
    ca = undefined;
  }
  const h = host.includes(':') ? `[${host}]` : host;
  return { server: `https://${h}:${port}`, token, tokenFile: `${dir}/token`, ca };
}

/** The current token: the file's when it has changed since the last read (mtime), else the one held. */
function currentToken(conn: KubeConnection, seen: { mtimeMs: number }): string | undefined {
  if (!conn.tokenFile) return conn.token;
  try {
    const st = statSync(conn.tokenFile);
    if (st.mtimeMs !== seen.mtimeMs) {
      const fresh = readFileSync(conn.tokenFile, 'utf8').trim();
      if (fresh) conn.token = fresh;
      seen.mtimeMs = st.mtimeMs;
    }
  } catch {
    // Between the kubelet's atomic swaps the file may be missing for a moment: keep the token held.
  }
  return conn.token;
}

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : {});

function pemOrFile(data: unknown, file: unknown, base: string, what: string): Buffer | undefined {
  if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64');
  if (typeof file === 'string' && file !== '') {
    const p = file.startsWith('/') ? file : `${base}/${file}`;
    try {
      return readFileSync(p);
    } catch (err) {
      throw new Error(`kubeconfig: ${what} ${p}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
  }
  return undefined;
}

/** The current context of a kubeconfig file: server, CA, and a token or a client certificate. */
export function kubeconfigConnection(file: string): KubeConnection {
  let doc: Rec;
  try {
    doc = rec(parseYaml(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new Error(`kubeconfig ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const base = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '.';
  const named = (list: unknown, name: unknown, what: string): Rec => {
    const found = (Array.isArray(list) ? list : []).map(rec).find((x) => x.name === name);
    if (!found) throw new Error(`kubeconfig ${file}: ${what} ${JSON.stringify(name)} not found`);
    return found;
  };
  const ctxName = doc['current-context'];
  if (typeof ctxName !== 'string' || ctxName === '') throw new Error(`kubeconfig ${file}: no current-context`);
  const ctx = rec(named(doc.contexts, ctxName, 'context').context);
  const cluster = rec(named(doc.clusters, ctx.cluster, 'cluster').cluster);
  const user = ctx.user === undefined ? {} : rec(named(doc.users, ctx.user, 'user').user);
  if (typeof cluster.server !== 'string') throw new Error(`kubeconfig ${file}: cluster ${String(ctx.cluster)} has no server`);
  let token = typeof user.token === 'string' ? user.token : undefined;
  if (!token && typeof user.tokenFile === 'string') token = readFileSync(user.tokenFile, 'utf8').trim();
  return {
    server: cluster.server.replace(/\/+$/, ''),
    token,
    ca: pemOrFile(cluster['certificate-authority-data'], cluster['certificate-authority'], base, 'certificate-authority'),
    cert: pemOrFile(user['client-certificate-data'], user['client-certificate'], base, 'client-certificate'),
    key: pemOrFile(user['client-key-data'], user['client-key'], base, 'client-key'),
    insecureSkipVerify: cluster['insecure-skip-tls-verify'] === true,
  };
}

/** RFC 3339 with exactly six fractional digits, as metav1.MicroTime wants. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class KubeApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
  }
}

type Action = 'reading' | 'creating' | 'renewing' | 'acquiring' | 'releasing' | 'listing';

/** The RBAC verb on leases that each request needs (docs/high-availability.md lists them per mode). */
const VERB: Record<Action, string> = {
  reading: 'get',
  creating: 'create',
  renewing: 'update',
  acquiring: 'update',
  releasing: 'update',
  listing: 'list',
};

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface LeaseObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string; [k: string]: unknown };
  spec: LeaseSpec;
}

/**
 * When a lease record we see for the first time was written: somewhere between our previous look and now. The
 * holder's renewTime says where; a clock that disagrees is clamped into that window, so a standby never takes
 * over earlier than the client-go rule would (record unchanged for the lease duration) by more than the
 * margin between the lease duration and the holder's renew deadline, which the holder has stopped by.
 */
export function changedBetween(renewTime: number, earliest: number, latest: number): number {
  if (!Number.isFinite(renewTime)) return latest;
  return Math.min(latest, Math.max(earliest, renewTime));
}

export class KubeLeaseBackend implements LeaseBackend {
  private readonly conn: KubeConnection;
  private readonly tokenSeen = { mtimeMs: 0 };
  private readonly pool: Pool;
  private readonly path: string;
  private readonly collection: string;
  private readonly name: string;
  private readonly namespace: string;
  private readonly identity: string;
  private readonly leaseDurationMs: number;
  /** How far back the holder's own renewTime is believed: the margin its renew deadline leaves, less 1 s. */
  private readonly trustMs: number;
  private readonly now: () => number;
  // The client-go rule: a lease is expired when the same record has stood for longer than its duration.
  private observed = '';
  /** When the record we see last changed, on our clock. */
  private changedAt = 0;
  private lastLookAt = 0;

  constructor(conn: KubeConnection, opts: { namespace: string; name: string; identity: string; leaseDurationMs: number; renewDeadlineMs?: number; now?: () => number }) {
    this.conn = conn;
    this.namespace = opts.namespace;
    this.name = opts.name;
    this.identity = opts.identity;
    this.leaseDurationMs = opts.leaseDurationMs;
    this.trustMs = opts.renewDeadlineMs === undefined ? 0 : Math.max(0, opts.leaseDurationMs - opts.renewDeadlineMs - 1000);
    this.now = opts.now ?? Date.now;
    const u = new URL(conn.server);
    this.collection = `${u.pathname.replace(/\/+$/, '')}/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(opts.namespace)}/leases`;
    this.path = `${this.collection}/${encodeURIComponent(opts.name)}`;
    this.pool = new Pool(u.origin, {
      connections: 2,
      connectTimeout: 5000,
      connect: { ca: conn.ca, cert: conn.cert, key: conn.key, rejectUnauthorized: !conn.insecureSkipVerify },
    });
  }

  describe(): string {
    return `kubernetes lease ${this.namespace}/${this.name} at ${new URL(this.conn.server).origin}`;
  }

  private async call(method: string, path: string, signal: AbortSignal, body?: unknown): Promise<{ status: number; json: Rec }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = currentToken(this.conn, this.tokenSeen);
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.pool.request({ method: method as 'GET', path, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    const text = await res.body.text();
    let json: Rec = {};
    try {
      json = rec(JSON.parse(text));
    } catch {
      json = {};
    }
    return { status: res.statusCode, json };
  }

  private fail(what: Action, status: number, json: Rec): never {
    const msg = typeof json.message === 'string' ? json.message : `HTTP ${status}`;
    const subject = what === 'listing' ? `leases in namespace ${this.namespace}` : `lease ${this.namespace}/${this.name}`;
    const hint =
      status === 401
        ? ' (the token is not valid)'
        : status === 403
          ? ` (RBAC: the service account may not "${VERB[what]}" leases (coordination.k8s.io) in namespace ${this.namespace}; its Role needs get, create and update, and list in sharded mode; see docs/high-availability.md)`
          : '';
    throw new KubeApiError(status, `${what} ${subject}: ${status} ${msg}${hint}`);
  }

  async tryAcquireOrRenew(signal: AbortSignal): Promise<LeaseObservation> {
    const now = this.now();
    const got = await this.call('GET', this.path, signal);
    if (got.status === 404) {
      const lease: LeaseObject = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.name, namespace: this.namespace },
        spec: this.spec(now, now, 0),
      };
      const created = await this.call('POST', this.collection, signal, lease);
      if (created.status === 201 || created.status === 200) return { held: true, holder: this.identity };
      if (created.status === 409) return { held: false, holder: '' }; // someone created it first; next round decides
      this.fail('creating', created.status, created.json);
    }
    if (got.status !== 200) this.fail('reading', got.status, got.json);
    const current = got.json as unknown as LeaseObject;
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const key = `${holder}|${spec.renewTime ?? ''}|${spec.leaseTransitions ?? 0}`;
    if (key !== this.observed) {
      this.observed = key;
      this.changedAt = changedBetween(Date.parse(spec.renewTime ?? ''), Math.max(this.lastLookAt, now - this.trustMs), now);
    }
    this.lastLookAt = now;
    const durationMs = (spec.leaseDurationSeconds ?? this.leaseDurationMs / 1000) * 1000;
    const mine = holder === this.identity;
    const expiresInMs = this.changedAt + durationMs - now;
    const expired = holder === '' || expiresInMs < 0;
    if (!mine && !expired) return { held: false, holder, expiresInMs: expiresInMs + 1 };
    const transitions = (spec.leaseTransitions ?? 0) + (mine ? 0 : 1);
    const acquireAt = mine && spec.acquireTime ? Date.parse(spec.acquireTime) : now;
    const next: LeaseObject = { ...current, spec: { ...spec, ...this.spec(acquireAt, now, transitions) } };
    const put = await this.call('PUT', this.path, signal, next);
    if (put.status === 200) {
      const s = (put.json as unknown as LeaseObject).spec ?? {};
      this.observed = `${s.holderIdentity ?? ''}|${s.renewTime ?? ''}|${s.leaseTransitions ?? 0}`;
      this.changedAt = now;
      return { held: true, holder: this.identity };
    }
    if (put.status === 409) return { held: false, holder }; // another replica wrote first
    this.fail(mine ? 'renewing' : 'acquiring', put.status, put.json);
  }

  /** Holders of the leases in this namespace whose names start with `prefix` (sharded-mode membership). */
  async list(prefix: string, signal: AbortSignal): Promise<{ name: string; holder: string; key: string; durationMs: number }[]> {
    const got = await this.call('GET', this.collection, signal);
    if (got.status !== 200) this.fail('listing', got.status, got.json);
    const items = Array.isArray(got.json.items) ? (got.json.items as LeaseObject[]) : [];
    return items
      .filter((l) => l.metadata?.name?.startsWith(prefix))
      .map((l) => ({
        name: l.metadata.name,
        holder: l.spec?.holderIdentity ?? '',
        key: `${l.spec?.holderIdentity ?? ''}|${l.spec?.renewTime ?? ''}`,
        durationMs: (l.spec?.leaseDurationSeconds ?? 0) * 1000,
      }));
  }

  async release(signal: AbortSignal): Promise<void> {
    const got = await this.call('GET', this.path, signal);
    if (got.status !== 200) return;
    const current = got.json as unknown as LeaseObject;
    if ((current.spec?.holderIdentity ?? '') !== this.identity) return;
    // As client-go does: no holder and a 1 s duration, so a standby takes over on its next retry.
    const now = this.now();
    const next: LeaseObject = {
      ...current,
      spec: { ...current.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(now), acquireTime: microTime(now) },
    };
    const put = await this.call('PUT', this.path, signal, next);
    if (put.status !== 200) this.fail('releasing', put.status, put.json);
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => this.pool.destroy());
  }

  private spec(acquiredAt: number, now: number, transitions: number): LeaseSpec {
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.max(1, Math.round(this.leaseDurationMs / 1000)),
      acquireTime: microTime(acquiredAt),
      renewTime: microTime(now),
      leaseTransitions: transitions,
    };
  }
}
