// The deployment-state source: the release's Kubernetes objects, read through the API (the service account in a
// pod, or a kubeconfig) by label selector, one YAML file per object, cleaned of what the API server sets itself
// (uid, resourceVersion, managedFields, status, ...) so that a restore can `kubectl apply` them into a fresh cluster.
// Secrets go whole only into an encrypted archive; otherwise only their metadata and key names.
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { stringify } from 'yaml';
import { inClusterConnection, kubeconfigConnection } from '../../ha/kube-lease.ts';
import type { KubeConnection } from '../../ha/kube-lease.ts';
import type { BackupSource, SourceContext, SourceFactory, SourceFile } from '../types.ts';

/** What is read, in this order; the CRD kinds may be absent from a cluster (no Prometheus Operator). */
export const DEPLOYMENT_KINDS: readonly { resource: string; group: string; version: string; crd: boolean }[] = [
  { resource: 'configmaps', group: '', version: 'v1', crd: false },
  { resource: 'secrets', group: '', version: 'v1', crd: false },
  { resource: 'deployments', group: 'apps', version: 'v1', crd: false },
  { resource: 'services', group: '', version: 'v1', crd: false },
  { resource: 'networkpolicies', group: 'networking.k8s.io', version: 'v1', crd: false },
  { resource: 'servicemonitors', group: 'monitoring.coreos.com', version: 'v1', crd: true },
  { resource: 'prometheusrules', group: 'monitoring.coreos.com', version: 'v1', crd: true },
];

export interface KubernetesSourceOptions {
  namespace: string;
  /** The release's objects, e.g. `app.kubernetes.io/instance=slurm-exporter`. */
  labelSelector: string;
  /** Explicit connection; else `kubeconfig`; else the pod's service account. */
  connection?: KubeConnection;
  kubeconfig?: string;
  requestTimeoutMs?: number;
  /** Objects per list request (the API's `limit`); default 500, as kubectl. */
  pageSize?: number;
}

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});

/** The connection the options name, or the service account's; an error says which were tried. */
export function resolveConnection(opts: KubernetesSourceOptions): KubeConnection {
  if (opts.connection) return opts.connection;
  if (opts.kubeconfig) return kubeconfigConnection(opts.kubeconfig);
  const inCluster = inClusterConnection();
  if (!inCluster) throw new Error('deployment backup: no Kubernetes API: not in a pod (KUBERNETES_SERVICE_HOST unset) and no kubeconfig configured');
  return inCluster;
}

// Set by the API server, meaningless (or refused) on a restore into another cluster.
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation', 'selfLink'];
// kubectl apply keeps the whole applied object here, Secret data included.
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** The object without server-set fields; `apiVersion`/`kind` filled in from the list (items lack them). */
export function cleanObject(item: Obj, apiVersion: string, kind: string): Obj {
  const { status: _status, metadata, ...rest } = item;
  const meta = { ...rec(metadata) };
  for (const f of SERVER_METADATA) delete meta[f];
  const annotations = { ...rec(meta.annotations) };
  delete annotations[LAST_APPLIED];
  if (Object.keys(annotations).length > 0) meta.annotations = annotations;
  else delete meta.annotations;
  return { apiVersion, kind, ...rest, metadata: meta };
}

/** A Secret for an unencrypted archive: metadata, type and the names of its keys, never a value. */
export function redactSecret(secret: Obj): Obj {
  const keys = [...Object.keys(rec(secret.data)), ...Object.keys(rec(secret.stringData))].sort();
  return { apiVersion: secret.apiVersion, kind: secret.kind, metadata: secret.metadata, type: secret.type, dataKeys: keys };
}

const REDACTED_HEADER =
  '# Secret values omitted: this archive is not encrypted, so only the metadata and the names of the data keys\n' +
  '# (dataKeys) are kept. This is not an applicable Secret: recreate its values from their source before restoring.\n';

function fileOf(path: string, text: string, mode: number): SourceFile {
  const bytes = Buffer.from(text, 'utf8');
  return {
    path,
    mode,
    size: bytes.length,
    mtimeMs: Date.now(),
    async *read() {
      yield bytes;
    },
  };
}

export class KubernetesSource implements BackupSource {
  readonly type = 'deployment' as const;
  private readonly opts: KubernetesSourceOptions;
  private readonly conn: KubeConnection;

  constructor(opts: KubernetesSourceOptions) {
    this.opts = opts;
    this.conn = resolveConnection(opts);
  }

  describe(): string {
    return `Kubernetes objects in namespace ${this.opts.namespace} matching ${this.opts.labelSelector} at ${new URL(this.conn.server).origin}`;
  }

  async *collect(ctx: SourceContext): AsyncIterable<SourceFile> {
    const u = new URL(this.conn.server);
    const pool = new Pool(u.origin, {
      connections: 1,
      connectTimeout: 5000,
      connect: { ca: this.conn.ca, cert: this.conn.cert, key: this.conn.key, rejectUnauthorized: !this.conn.insecureSkipVerify },
    });
    const notes: string[] = [];
    try {
      for (const k of DEPLOYMENT_KINDS) {
        const list = await this.list(pool, u.pathname.replace(/\/+$/, ''), k, ctx.signal);
        if (list === undefined) {
          const note = `${k.resource}.${k.group}: skipped, the API server does not serve ${k.group}/${k.version} (CRD not installed)`;
          notes.push(note);
          ctx.log(note);
          continue;
        }
        for (const f of this.files(k.resource, list, ctx.encrypted)) yield f;
        ctx.log(`${k.resource}: ${list.items.length} object(s)`);
      }
    } finally {
      await pool.close();
    }
    if (!ctx.encrypted) notes.push('secrets: values omitted (archive not encrypted); only metadata and data key names are kept');
    yield fileOf('NOTES.txt', `${[`Kubernetes objects of ${this.describe()}`, ...notes].join('\n')}\n`, 0o644);
  }

  private *files(resource: string, list: { apiVersion: string; kind: string; items: Obj[] }, encrypted: boolean): Iterable<SourceFile> {
    for (const item of list.items) {
      const obj = cleanObject(item, list.apiVersion, list.kind);
      const name = String(rec(obj.metadata).name);
      const path = `${resource}/${name}.yaml`;
      if (resource !== 'secrets') yield fileOf(path, stringify(obj), 0o644);
      else if (encrypted) yield fileOf(path, stringify(obj), 0o600);
      else yield fileOf(path, REDACTED_HEADER + stringify(redactSecret(obj)), 0o600);
    }
  }

  /**
   * The list of one kind, page by page (`limit` and `continue`, as kubectl does, so a namespace with thousands
   * of objects never comes as one answer); undefined when a CRD kind's group is not served (404).
   */
  private async list(pool: Pool, base: string, k: (typeof DEPLOYMENT_KINDS)[number], signal: AbortSignal): Promise<{ apiVersion: string; kind: string; items: Obj[] } | undefined> {
    const groupPath = k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`;
    const items: Obj[] = [];
    let cont = '';
    for (;;) {
      const page = await this.listPage(pool, `${base}${groupPath}`, k, cont, signal);
      if (page === undefined) return undefined;
      items.push(...(Array.isArray(page.items) ? page.items.map(rec) : []));
      const next = rec(page.metadata).continue;
      if (typeof next !== 'string' || next === '') {
        const kind = typeof page.kind === 'string' ? page.kind.replace(/List$/, '') : k.resource;
        const apiVersion = typeof page.apiVersion === 'string' ? page.apiVersion : groupPath.slice(groupPath.indexOf('/', 1) + 1);
        return { apiVersion, kind, items };
      }
      cont = next;
    }
  }

  private async listPage(pool: Pool, groupBase: string, k: (typeof DEPLOYMENT_KINDS)[number], cont: string, signal: AbortSignal): Promise<Obj | undefined> {
    const query = `labelSelector=${encodeURIComponent(this.opts.labelSelector)}&limit=${this.opts.pageSize ?? 500}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;
    const path = `${groupBase}/namespaces/${encodeURIComponent(this.opts.namespace)}/${k.resource}?${query}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    const timeout = AbortSignal.timeout(this.opts.requestTimeoutMs ?? 30_000);
    let res: Awaited<ReturnType<Pool['request']>>;
    let text: string;
    try {
      res = await pool.request({ method: 'GET', path, headers, signal: AbortSignal.any([signal, timeout]) });
      text = await res.body.text();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).name;
      throw new Error(`deployment backup: listing ${k.resource} in namespace ${this.opts.namespace}: cannot reach the Kubernetes API at ${new URL(this.conn.server).origin}: ${why}`, { cause: err });
    }
    let json: Obj = {};
    try {
      json = rec(JSON.parse(text));
    } catch {
      json = {};
    }
    if (res.statusCode === 404 && k.crd) return undefined;
    // 410 Gone: the continue token expired (the list changed for longer than the API keeps it); the backup is retried whole.
    if (res.statusCode === 410) throw new Error(`deployment backup: listing ${k.resource} in namespace ${this.opts.namespace}: the API's continue token expired between pages (410 Gone); run the backup again`);
    if (res.statusCode !== 200) this.fail(k, res.statusCode, json);
    return json;
  }

  /** The token, re-read from its file when there is one (a projected token rotates). */
  private token(): string | undefined {
    if (!this.conn.tokenFile) return this.conn.token;
    try {
      return readFileSync(this.conn.tokenFile, 'utf8').trim() || this.conn.token;
    } catch {
      return this.conn.token;
    }
  }

  private fail(k: (typeof DEPLOYMENT_KINDS)[number], status: number, json: Obj): never {
    const what = `${k.resource}${k.group ? `.${k.group}` : ''}`;
    const msg = typeof json.message === 'string' ? json.message : `HTTP ${status}`;
    const hint =
      status === 401
        ? ' (the token is not valid)'
        : status === 403
          ? ` (RBAC: the backup service account may not "list" ${what} in namespace ${this.opts.namespace}; its Role needs get and list on every kind backed up)`
          : '';
    throw new Error(`deployment backup: listing ${what} in namespace ${this.opts.namespace}: ${status} ${msg}${hint}`);
  }
}

const SA_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
export const DEFAULT_SELECTOR = 'app.kubernetes.io/instance=slurm-exporter';

function optionalString(section: Obj, key: string): string | undefined {
  const v = section[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new Error(`backup.kubernetes.${key}: expected a string, got ${typeof v}`);
  return v;
}

/** The namespace: configured, else POD_NAMESPACE, else the pod's own (service account). */
function namespaceOf(section: Obj, env: NodeJS.ProcessEnv): string {
  const ns = optionalString(section, 'namespace') ?? env.POD_NAMESPACE;
  if (ns) return ns;
  try {
    return readFileSync(SA_NAMESPACE, 'utf8').trim();
  } catch {
    throw new Error(`backup.kubernetes.namespace is not set, POD_NAMESPACE is empty and ${SA_NAMESPACE} is not readable: the deployment backup needs the release's namespace`);
  }
}

/**
 * The commands' entry point (SourceFactory in ../types.ts), from `backup.kubernetes`: namespace, labelSelector
 * (default `app.kubernetes.io/instance=slurm-exporter`) and kubeconfig; without a kubeconfig, the pod's service
 * account, else KUBECONFIG.
 */
export const createSource: SourceFactory = (config: unknown, env: NodeJS.ProcessEnv) => {
  const k = rec(rec(rec(config).backup).kubernetes);
  const configured = optionalString(k, 'kubeconfig');
  // KUBECONFIG may list several files; the first one is used.
  const fromEnv = env.KUBECONFIG?.split(':').find((f) => f !== '');
  const connection = configured ? kubeconfigConnection(configured) : (inClusterConnection(env) ?? (fromEnv ? kubeconfigConnection(fromEnv) : undefined));
  if (!connection) throw new Error('deployment backup: no Kubernetes API: not in a pod (KUBERNETES_SERVICE_HOST unset), and neither backup.kubernetes.kubeconfig nor KUBECONFIG is set');
  return new KubernetesSource({ namespace: namespaceOf(k, env), labelSelector: optionalString(k, 'labelSelector') ?? DEFAULT_SELECTOR, connection });
};
