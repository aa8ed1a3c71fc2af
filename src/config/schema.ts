// The configuration schema: the one place for keys, defaults, validation and descriptions. The file's
// sections are server / slurm / collectors / limits / log / demo, with "30s"-style durations; parsing yields
// ExporterConfig (milliseconds, bytes). The docs generator and --help read descriptions from here.
import * as z from 'zod';
import type { BackupConfig, BackupDestinationConfig, BackupTypeName, CollectorGroupConfig, ExporterConfig } from './types.ts';
import { parseCron } from '../backup/cron.ts';
import { formatDuration, formatSize, parseDuration, parseSize } from './units.ts';

import { COLLECTOR_GROUPS, GROUP_DEFAULTS, NATIVE_ENDPOINTS, type CollectorGroup } from '../slurm/resources.ts';

export { COLLECTOR_GROUPS, GROUP_DEFAULTS, type CollectorGroup };

const MIN_STALENESS_MS = 5 * 60_000;

function checkNativeUrl(s: string): string | undefined {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return `${show(s)} is not a URL (e.g. http://slurmctl:6817)`;
  }
  return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : `${show(s)}: the scheme must be http or https`;
}

// ---------------------------------------------------------------------------------------------
// Field documentation lives beside each field in a private registry, read by gen-config-docs.ts.

export interface FieldDoc {
  description: string;
  /** Shown in the docs' type column. */
  type: string;
  /** For defaults computed from other keys or the environment. */
  defaultText?: string;
  secret?: boolean;
}

export const fieldDocs = z.registry<FieldDoc>();

function doc<T extends z.ZodType>(schema: T, type: string, description: string, extra: Partial<FieldDoc> = {}): T {
  fieldDocs.add(schema, { type, description, ...extra });
  return schema;
}

// ---------------------------------------------------------------------------------------------
// Leaf parsers with messages that say what was wrong with the value; the key path is added by the loader.

type Conv<T> = { value: T } | { error: string };

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v);
}

function leaf<T>(convert: (v: unknown) => Conv<T>) {
  return z.unknown().transform((v, ctx): T => {
    const r = convert(v);
    if ('error' in r) {
      ctx.addIssue({ code: 'custom', message: r.error });
      return z.NEVER;
    }
    return r.value;
  });
}

function durationField(opts: { positive?: boolean } = {}) {
  return leaf<number>((v) => {
    const ms = parseDuration(v);
    if (ms === undefined) return { error: `${show(v)} is not a duration (e.g. 30s, 1m)` };
    if (opts.positive && ms <= 0) return { error: `${show(v)} must be longer than 0` };
    return { value: ms };
  });
}

function sizeField() {
  return leaf<number>((v) => {
    const n = parseSize(v);
    if (n === undefined || n <= 0) return { error: `${show(v)} is not a size (bytes, or e.g. 512MiB, 2GiB)` };
    return { value: n };
  });
}

function intField(min: number, max = Number.MAX_SAFE_INTEGER) {
  return leaf<number>((v) => {
    const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) return { error: `${show(v)} is not a whole number` };
    if (n < min || n > max) return { error: `${n} is out of range (${min} to ${max === Number.MAX_SAFE_INTEGER ? 'any' : max})` };
    return { value: n };
  });
}

function positiveNumberField() {
  return leaf<number>((v) => {
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) return { error: `${show(v)} is not a number above 0` };
    return { value: n };
  });
}

function boolField() {
  return leaf<boolean>((v) => {
    if (typeof v === 'boolean') return { value: v };
    if (typeof v === 'string') {
      const s = v.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(s)) return { value: true };
      if (['false', '0', 'no', 'off'].includes(s)) return { value: false };
    }
    return { error: `${show(v)} is not true or false` };
  });
}

function stringField(check?: (s: string) => string | undefined) {
  return leaf<string>((v) => {
    const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
    if (typeof s !== 'string' || s === '') return { error: `${show(v)} is not a non-empty string` };
    const problem = check?.(s);
    return problem ? { error: problem } : { value: s };
  });
}

function enumField<const T extends string>(values: readonly T[]) {
  return leaf<T>((v) =>
    typeof v === 'string' && (values as readonly string[]).includes(v) ? { value: v as T } : { error: `${show(v)} is not one of ${values.join(', ')}` },
  );
}

function stringListField() {
  return leaf<string[]>((v) => {
    const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v;
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s !== '')) return { error: `${show(v)} is not a list of strings` };
    return { value: list as string[] };
  });
}

function checkListenAddress(s: string): string | undefined {
  const m = /^(.*):(\d+)$/.exec(s);
  if (!m || Number(m[2]) > 65535 || /\s/.test(s)) return `${show(s)} is not a listen address (e.g. :9341, 127.0.0.1:9341, [::]:9341)`;
  return undefined;
}

function checkSlurmUrl(s: string): string | undefined {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return `${show(s)} is not a URL (e.g. http://slurmctl:6820 or unix:///run/slurmrestd/slurmrestd.socket)`;
  }
  if (u.protocol === 'unix:') return u.pathname.length > 1 ? undefined : `${show(s)}: a unix URL needs a socket path (unix:///path/to/socket)`;
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `${show(s)}: the scheme must be http, https or unix`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------

/** How old a group's data may be before /ready fails: the configured limit, else 3 intervals (at least 5 min). */
export function stalenessLimitFor(cfg: { server: { stalenessLimitMs: number | undefined }; collectors: ExporterConfig['collectors'] }, group: string): number {
  return cfg.server.stalenessLimitMs ?? Math.max(MIN_STALENESS_MS, 3 * (cfg.collectors[group]?.intervalMs ?? 0));
}

export interface SchemaContext {
  env: NodeJS.ProcessEnv;
  hostname: () => string;
}

const durationType = 'duration';

function groupSchema(group: CollectorGroup) {
  const d = GROUP_DEFAULTS[group];
  return z
    .strictObject({
      enabled: doc(boolField().prefault(true), 'boolean', `Collect ${d.what}.`),
      interval: doc(durationField({ positive: true }).prefault(d.interval), durationType, `How often the ${group} data is fetched from Slurm (once for all scrapers).`),
      timeout: doc(durationField({ positive: true }).prefault(d.timeout), durationType, `Give up a ${group} fetch after this; must be shorter than interval.`),
    })
    .prefault({});
}

// ---------------------------------------------------------------------------------------------
// backup: (slurm-exporter backup ...; docs/backup.md)

export const BACKUP_TYPE_NAMES: readonly BackupTypeName[] = ['configuration', 'monitoring', 'deployment', 'certificates', 'logs'];

/** The defaults of the backup guide: how often and how long each type is kept, and what runs by default. */
export const BACKUP_DEFAULTS: Record<BackupTypeName, { schedule: string; retention: string; enabled: boolean; what: string }> = {
  configuration: { schedule: '0 */6 * * *', retention: '90d', enabled: true, what: 'the exporter config, web config, alerting rules, Alertmanager config, dashboards and Helm values' },
  monitoring: { schedule: '0 2 * * *', retention: '30d', enabled: false, what: 'a Prometheus TSDB snapshot (needs the Prometheus admin API)' },
  deployment: { schedule: '0 */12 * * *', retention: '30d', enabled: false, what: "the release's Kubernetes objects (needs the Kubernetes API)" },
  certificates: { schedule: '0 1 * * 0', retention: '365d', enabled: true, what: 'the TLS files the web config names' },
  logs: { schedule: '0 3 * * *', retention: '7d', enabled: true, what: 'the files under backup.paths.logDir' },
};

function cronField() {
  return leaf<string>((v) => {
    if (typeof v !== 'string') return { error: `${show(v)} is not a cron schedule (e.g. "0 2 * * *")` };
    try {
      parseCron(v);
      return { value: v.trim() };
    } catch (err) {
      return { error: (err as Error).message };
    }
  });
}

function backupTypeSchema(t: BackupTypeName) {
  const d = BACKUP_DEFAULTS[t];
  return z
    .strictObject({
      enabled: doc(boolField().prefault(d.enabled), 'boolean', `Back up ${d.what}.`),
      schedule: doc(cronField().prefault(d.schedule), 'cron', `When \`backup schedule\` backs up ${t} (minute hour day-of-month month day-of-week, local time); also the RPO \`backup verify\` checks.`),
      retention: doc(durationField({ positive: true }).prefault(d.retention), durationType, `How long ${t} backups are kept; \`backup prune\` deletes older ones.`),
    })
    .prefault({});
}

function destinationSchema(name: string) {
  const retention = z.strictObject(
    Object.fromEntries(BACKUP_TYPE_NAMES.map((t) => [t, doc(durationField({ positive: true }).optional(), durationType, `Retention of ${t} backups at the ${name} destination.`, { defaultText: `backup.${t}.retention` })])) as Record<
      BackupTypeName,
      z.ZodOptional<ReturnType<typeof durationField>>
    >,
  );
  return z
    .strictObject({
      path: doc(stringField().optional(), 'path', `Local directory of the ${name} copy (a mounted volume); or give s3.bucket.`, { defaultText: 'unset' }),
      s3: z
        .strictObject({
          bucket: doc(stringField().optional(), 'string', `S3 bucket of the ${name} copy.`, { defaultText: 'unset' }),
          prefix: doc(z.string().prefault(''), 'string', 'Key prefix inside the bucket, e.g. `slurm-exporter/`.', { defaultText: '""' }),
          endpoint: doc(stringField().optional(), 'URL', 'S3-compatible endpoint (MinIO, Ceph); unset for AWS.', { defaultText: 'AWS' }),
          region: doc(stringField().optional(), 'string', 'Bucket region.', { defaultText: '$AWS_REGION' }),
          forcePathStyle: doc(boolField().prefault(false), 'boolean', 'Path-style URLs (bucket in the path), as MinIO and Ceph need.'),
        })
        .optional(),
      required: doc(boolField().prefault(true), 'boolean', `A backup counts as done only when the ${name} destination holds it and its checksum reads back.`),
      retention: retention.optional(),
    })
    .optional();
}

function backupSchema() {
  const types = z.strictObject(Object.fromEntries(BACKUP_TYPE_NAMES.map((t) => [t, backupTypeSchema(t)])) as Record<BackupTypeName, ReturnType<typeof backupTypeSchema>>);
  return z
    .strictObject({
      ...types.shape,
      primary: destinationSchema('primary'),
      secondary: destinationSchema('secondary'),
      encryption: z
        .strictObject({
          keyEnv: doc(stringField().prefault('SLURM_EXPORTER_BACKUP_KEY'), 'string', 'Environment variable holding the current backup key (32 bytes as 64 hex digits or base64). Never a flag.'),
          keyFile: doc(stringField().optional(), 'path', 'File with the current key (hex, base64 or 32 raw bytes), used when the variable is unset.', { defaultText: 'unset' }),
          oldKeyFiles: doc(stringListField().prefault([]), 'list of paths', 'Files with earlier keys: archives written before a key rotation still decrypt.', { defaultText: '[]' }),
        })
        .prefault({}),
      paths: z
        .strictObject({
          configFile: doc(stringField().optional(), 'path', 'Exporter configuration file to back up.', { defaultText: 'the --config.file in use' }),
          webConfigFile: doc(stringField().optional(), 'path', 'Web config to back up; its TLS files are the certificates backup.', { defaultText: 'server.webConfigFile' }),
          rulesFile: doc(stringField().optional(), 'path', 'Prometheus alerting rules, e.g. monitoring/prometheus-rules.yaml.', { defaultText: 'unset' }),
          alertmanagerFile: doc(stringField().optional(), 'path', 'Alertmanager configuration, e.g. monitoring/alertmanager.yaml.', { defaultText: 'unset' }),
          dashboardsDir: doc(stringField().optional(), 'path', 'Directory of Grafana dashboards (*.json), e.g. monitoring/dashboards.', { defaultText: 'unset' }),
          helmValuesFile: doc(stringField().optional(), 'path', 'Helm values file of the release.', { defaultText: 'unset' }),
          logDir: doc(stringField().optional(), 'path', 'Directory of the exporter\'s log files (the logs backup).', { defaultText: 'unset' }),
        })
        .prefault({}),
      prometheus: z
        .strictObject({
          url: doc(stringField().optional(), 'URL', 'Prometheus for the monitoring backup; its admin API must be on (--web.enable-admin-api).', { defaultText: 'unset' }),
          dataDir: doc(stringField().optional(), 'path', "Prometheus' data directory as mounted where the backup runs (the snapshot is read from there).", { defaultText: 'unset' }),
          bearerTokenFile: doc(stringField().optional(), 'path', 'File with a bearer token for Prometheus.', { defaultText: 'unset' }),
          basicAuth: z
            .strictObject({
              username: doc(stringField().optional(), 'string', 'Basic auth user for Prometheus.', { defaultText: 'unset' }),
              passwordFile: doc(stringField().optional(), 'path', 'File with the basic auth password for Prometheus.', { defaultText: 'unset' }),
            })
            .prefault({}),
        })
        .prefault({}),
      kubernetes: z
        .strictObject({
          kubeconfig: doc(stringField().optional(), 'path', 'kubeconfig for the deployment backup; in a pod the service account is used.', { defaultText: 'in-cluster, else $KUBECONFIG' }),
          namespace: doc(stringField().optional(), 'string', "The release's namespace.", { defaultText: '$POD_NAMESPACE' }),
          labelSelector: doc(stringField().optional(), 'string', "Label selector of the release's objects.", { defaultText: "the source's default" }),
        })
        .prefault({}),
      listenAddress: doc(stringField(checkListenAddress).prefault(':9342'), 'host:port', '`backup schedule`: where /metrics and /health are served.'),
    })
    .prefault({});
}

type BackupInput = z.output<ReturnType<typeof backupSchema>>;
type DestinationInput = NonNullable<BackupInput['primary']>;

function backupIssues(b: BackupInput, issue: (path: (string | number)[], message: string) => void): void {
  for (const name of ['primary', 'secondary'] as const) {
    const d = b[name];
    if (!d) continue;
    const hasS3 = d.s3?.bucket !== undefined;
    if (d.path !== undefined && hasS3) issue(['backup', name], 'give either path (a local directory) or s3.bucket, not both');
    if (d.path === undefined && !hasS3) issue(['backup', name], 'needs path (a local directory) or s3.bucket');
  }
  if (b.secondary && !b.primary) issue(['backup', 'secondary'], 'is set without backup.primary');
}

function toDestination(d: DestinationInput | undefined): BackupDestinationConfig | undefined {
  if (!d) return undefined;
  const retentionMs: Partial<Record<BackupTypeName, number>> = {};
  for (const t of BACKUP_TYPE_NAMES) if (d.retention?.[t] !== undefined) retentionMs[t] = d.retention[t];
  return {
    kind: d.path !== undefined ? 'local' : 's3',
    path: d.path,
    bucket: d.s3?.bucket,
    prefix: d.s3?.prefix ?? '',
    endpoint: d.s3?.endpoint,
    region: d.s3?.region,
    forcePathStyle: d.s3?.forcePathStyle ?? false,
    required: d.required,
    retentionMs,
  };
}

function toBackupConfig(b: BackupInput): BackupConfig {
  const types = Object.fromEntries(BACKUP_TYPE_NAMES.map((t) => [t, { enabled: b[t].enabled, schedule: b[t].schedule, retentionMs: b[t].retention }])) as BackupConfig['types'];
  return {
    types,
    primary: toDestination(b.primary),
    secondary: toDestination(b.secondary),
    encryption: { keyEnv: b.encryption.keyEnv, keyFile: b.encryption.keyFile, oldKeyFiles: b.encryption.oldKeyFiles },
    paths: {
      configFile: b.paths.configFile,
      webConfigFile: b.paths.webConfigFile,
      rulesFile: b.paths.rulesFile,
      alertmanagerFile: b.paths.alertmanagerFile,
      dashboardsDir: b.paths.dashboardsDir,
      helmValuesFile: b.paths.helmValuesFile,
      logDir: b.paths.logDir,
    },
    prometheus: {
      url: b.prometheus.url,
      dataDir: b.prometheus.dataDir,
      bearerTokenFile: b.prometheus.bearerTokenFile,
      basicAuth: { username: b.prometheus.basicAuth.username, passwordFile: b.prometheus.basicAuth.passwordFile },
    },
    kubernetes: { kubeconfig: b.kubernetes.kubeconfig, namespace: b.kubernetes.namespace, labelSelector: b.kubernetes.labelSelector },
    listenAddress: b.listenAddress,
  };
}

function destinationFileShape(d: BackupDestinationConfig | undefined): Record<string, unknown> | undefined {
  if (!d) return undefined;
  const retention = Object.fromEntries(Object.entries(d.retentionMs).map(([t, ms]) => [t, formatDuration(ms)]));
  const s3 = Object.fromEntries(
    Object.entries({ bucket: d.bucket, prefix: d.prefix, endpoint: d.endpoint, region: d.region, forcePathStyle: d.forcePathStyle }).filter(([, v]) => v !== undefined),
  );
  return {
    ...(d.kind === 'local' ? { path: d.path } : { s3 }),
    required: d.required,
    ...(Object.keys(retention).length ? { retention } : {}),
  };
}

const defined = (o: object): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function backupFileShape(b: BackupConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const t of BACKUP_TYPE_NAMES) out[t] = { enabled: b.types[t].enabled, schedule: b.types[t].schedule, retention: formatDuration(b.types[t].retentionMs) };
  const primary = destinationFileShape(b.primary);
  const secondary = destinationFileShape(b.secondary);
  if (primary) out.primary = primary;
  if (secondary) out.secondary = secondary;
  out.encryption = Object.fromEntries(Object.entries(b.encryption).filter(([, v]) => v !== undefined));
  out.paths = Object.fromEntries(Object.entries(b.paths).filter(([, v]) => v !== undefined));
  const { basicAuth, ...prom } = b.prometheus;
  out.prometheus = { ...defined(prom), basicAuth: defined(basicAuth) };
  out.kubernetes = defined(b.kubernetes);
  out.listenAddress = b.listenAddress;
  return out;
}

export function buildConfigSchema(ctx: SchemaContext) {
  const leaderElection = z
    .strictObject({
      enabled: doc(boolField().prefault(false), 'boolean', 'Elect one leader among replicas; only the leader polls Slurm and serves Slurm series.'),
      backend: doc(enumField(['none', 'kubernetes', 'etcd'] as const).optional(), 'none | kubernetes | etcd', 'Where the lease lives: a coordination.k8s.io/v1 Lease, or an etcd key.', {
        defaultText: 'kubernetes when enabled, else none',
      }),
      mode: doc(
        enumField(['single', 'active-passive', 'active-active', 'sharded'] as const).optional(),
        'single | active-passive | active-active | sharded',
        'active-passive: one leader polls; sharded: one lease per collector group, so replicas share the work; active-active: every replica polls (no election).',
        { defaultText: 'active-passive when enabled, else single' },
      ),
      leaseDuration: doc(durationField({ positive: true }).prefault('15s'), durationType, 'How long a lease is valid without renewal; failover after a crash takes about this long.'),
      renewDeadline: doc(durationField({ positive: true }).prefault('10s'), durationType, 'A leader that could not renew for this long stops collecting; must be shorter than leaseDuration.'),
      retryPeriod: doc(durationField({ positive: true }).prefault('2s'), durationType, 'How often candidates try to acquire and the leader renews; must be shorter than renewDeadline.'),
      leaseName: doc(stringField().prefault('slurm-exporter'), 'string', 'Name of the Lease object (or etcd key suffix).'),
      namespace: doc(stringField().optional(), 'string', 'Kubernetes namespace of the Lease.', { defaultText: '$POD_NAMESPACE, else default' }),
      identity: doc(stringField().optional(), 'string', 'This replica\'s name in the lease.', { defaultText: '$POD_NAME, else $HOSTNAME, else the host name' }),
      kubeconfig: doc(stringField().optional(), 'path', 'kubeconfig file; in a pod the service account is used.', { defaultText: 'in-cluster' }),
      etcd: z
        .strictObject({
          endpoints: doc(stringListField().prefault([]), 'list of URLs', 'etcd client URLs (backend etcd), e.g. [http://etcd-0:2379].', { defaultText: '[]' }),
        })
        .prefault({}),
    })
    .prefault({});

  const server = z
    .strictObject({
      listenAddress: doc(stringField(checkListenAddress).prefault(':9341'), 'host:port', 'Address the HTTP server listens on.'),
      telemetryPath: doc(
        stringField((s) => (s.startsWith('/') ? undefined : `${show(s)} must start with /`)).prefault('/metrics'),
        'path',
        'Path under which metrics are served.',
      ),
      maxConcurrentScrapes: doc(intField(0).prefault(10), 'integer', 'Scrapes served at once; one more gets 503 at once. 0 = no limit.'),
      scrapeTimeout: doc(durationField().prefault('30s'), durationType, 'A scrape must be answered within this (and within Prometheus\' own scrape timeout), else 503. 0 = none.'),
      webConfigFile: doc(stringField().optional(), 'path', 'exporter-toolkit web config file: TLS, basic auth, HTTP headers.', { defaultText: 'unset (plain HTTP)' }),
      stalenessLimit: doc(durationField({ positive: true }).optional(), durationType, 'Data older than this makes /ready answer 503; must be longer than every enabled interval.', {
        defaultText: 'per collector group: 5m, or 3 × its interval if longer',
      }),
      leaderElection,
      collection: z
        .strictObject({
          workers: doc(boolField().prefault(true), 'boolean', 'Collect each cluster in its own worker thread (fetching, parsing, collectors, rendering), so a scrape never waits behind a parse; false collects on the thread that serves scrapes.'),
          threads: doc(intField(1).optional(), 'integer', 'Collection threads the clusters are spread over (round robin); each thread is a V8 heap of its own, so fewer threads for many small clusters save memory.', { defaultText: 'the number of CPUs, at most one per cluster' }),
          hangTimeout: doc(durationField({ positive: true }).prefault('2m'), durationType, 'A collection thread that sends no sign of life for this long is ended and started again (counted in slurm_exporter_collection_restarts_total); its last data stays served.'),
        })
        .prefault({}),
    })
    .prefault({});

  const slurm = z
    .strictObject({
      source: doc(z.enum(['rest', 'cli', 'native']).prefault('rest'), 'rest | cli | native', 'Where Slurm data comes from: slurmrestd (rest), the Slurm commands on this host (cli: sinfo, squeue, scontrol, sdiag, sshare), or slurmctld\'s own metrics endpoint only (native, see slurm.native.url).'),
      cli: z
        .strictObject({
          binDir: doc(stringField().optional(), 'path', 'Directory holding the Slurm commands for slurm.source cli.', { defaultText: 'found in PATH' }),
          slurmConf: doc(stringField().optional(), 'path', 'slurm.conf the commands read (SLURM_CONF).', { defaultText: 'the commands\' default' }),
        })
        .prefault({}),
      native: z
        .strictObject({
          url: doc(stringField(checkNativeUrl).optional(), 'URL', 'slurmctld\'s metrics endpoint (MetricsType=metrics/openmetrics, Slurm 25.11+), e.g. http://slurmctl:6817: read beside slurm.source, or alone with slurm.source native.', { defaultText: 'unset' }),
          endpoints: doc(z.array(z.enum(NATIVE_ENDPOINTS)).prefault([...NATIVE_ENDPOINTS]), 'list', 'Which of slurmctld\'s /metrics/ endpoints to read.', { defaultText: NATIVE_ENDPOINTS.join(', ') }),
        })
        .prefault({}),
      url: doc(stringField(checkSlurmUrl).optional(), 'URL', 'slurmrestd: http(s)://host:port or unix:///path/to/socket.', { defaultText: 'unset' }),
      apiVersion: doc(
        stringField((s) => (/^v\d+\.\d+\.\d+$/.test(s) ? undefined : `${show(s)} is not an API version (e.g. v0.0.40)`)).optional(),
        'string',
        'Force one REST API version (v0.0.38 to v0.0.44); unset negotiates the newest both sides speak.',
        { defaultText: 'negotiated' },
      ),
      user: doc(stringField().optional(), 'string', 'Slurm user name sent with the token (X-SLURM-USER-NAME) and signed into self-made JWTs.', { defaultText: 'unset' }),
      token: doc(stringField().optional(), 'secret', 'A Slurm JWT. Prefer the SLURM_JWT environment variable or tokenFile; never a flag (it would show in ps).', {
        defaultText: 'unset',
        secret: true,
      }),
      tokenFile: doc(stringField().optional(), 'path', 'File holding a Slurm JWT; re-read when it changes, so a sidecar can rotate it.', { defaultText: 'unset' }),
      jwtKeyFile: doc(stringField().optional(), 'path', 'Slurm\'s jwt_hs256.key: the exporter signs its own short-lived tokens for slurm.user.', { defaultText: 'unset' }),
      jwtLifetime: doc(durationField({ positive: true }).prefault('1h'), durationType, 'Lifetime of tokens signed with jwtKeyFile.'),
      cluster: doc(stringField().optional(), 'string', 'The cluster label.', { defaultText: 'the name Slurm reports, else default' }),
      maxConnections: doc(intField(1).prefault(20), 'integer', 'Connections to slurmrestd at most.'),
      connectionTimeout: doc(durationField({ positive: true }).prefault('10s'), durationType, 'Time to establish a connection.'),
      requestTimeout: doc(durationField({ positive: true }).prefault('30s'), durationType, 'Time for one request and its whole answer.'),
      keepAlive: doc(boolField().prefault(true), 'boolean', 'Reuse connections between requests.'),
      maxResponseSize: doc(sizeField().prefault('2GiB'), 'size', 'Largest answer accepted from slurmrestd; a larger one fails that poll instead of exhausting memory.'),
      rateLimit: z
        .strictObject({
          enabled: doc(boolField().prefault(true), 'boolean', 'Cap requests to slurmrestd (token bucket shared by all collector groups).'),
          requestsPerSecond: doc(positiveNumberField().prefault(10), 'number', 'Sustained requests per second.'),
          burstSize: doc(intField(1).prefault(20), 'integer', 'Requests allowed at once after a quiet period.'),
        })
        .prefault({}),
      cache: z
        .strictObject({
          enabled: doc(boolField().prefault(false), 'boolean', 'Reuse an answer younger than ttl instead of asking Slurm again.'),
          ttl: doc(durationField().prefault('60s'), durationType, 'Age up to which a cached answer is reused.'),
          maxSize: doc(intField(0).prefault(1000), 'integer', 'Cached answers kept at most.'),
        })
        .prefault({}),
      tls: z
        .strictObject({
          caFile: doc(stringField().optional(), 'path', 'CA bundle to verify slurmrestd\'s certificate.', { defaultText: 'system CAs' }),
          insecureSkipVerify: doc(boolField().prefault(false), 'boolean', 'Do not verify slurmrestd\'s certificate (testing only).'),
        })
        .prefault({}),
    })
    .prefault({});

  const collectors = z
    .strictObject(Object.fromEntries(COLLECTOR_GROUPS.map((g) => [g, groupSchema(g)])) as Record<CollectorGroup, ReturnType<typeof groupSchema>>)
    .prefault({});

  const limits = z
    .strictObject({
      perNode: doc(boolField().prefault(true), 'boolean', 'Per-node series (state, CPUs, memory, GRES, reason); turn off on very large clusters.'),
      maxReasonLength: doc(intField(0).prefault(100), 'integer', 'Longest node reason text kept in slurm_node_reason_info; longer ones are cut. 0 turns the reason series off.'),
      perUser: doc(boolField().prefault(true), 'boolean', 'Job figures (running and pending jobs, CPUs, memory, GPUs) per user.'),
      perAccount: doc(boolField().prefault(true), 'boolean', 'Job figures per account.'),
      perQos: doc(boolField().prefault(true), 'boolean', 'Job figures per QOS.'),
      maxUsers: doc(intField(1).prefault(200), 'integer', 'Users kept as label values (the largest by allocated CPUs, then pending CPUs); the rest are summed under user="other".'),
      maxAccounts: doc(intField(1).prefault(200), 'integer', 'Accounts kept as label values; the rest are summed under account="other".'),
      jobs: doc(boolField().prefault(false), 'boolean', 'Series per job id (user, account, partition, state, CPUs, memory, GPUs). Costly: several series per job; keep maxJobs small.'),
      maxJobs: doc(intField(1).prefault(1000), 'integer', 'Jobs given their own series when limits.jobs is on (running first, then by allocated CPUs); the rest are counted as folded.'),
    })
    .prefault({});

  const log = z
    .strictObject({
      level: doc(enumField(['debug', 'info', 'warn', 'error'] as const).prefault('info'), 'debug | info | warn | error', 'Least severe level logged.'),
      format: doc(enumField(['logfmt', 'json'] as const).prefault('logfmt'), 'logfmt | json', 'Log line format (on stderr).'),
    })
    .prefault({});

  const demo = z
    .strictObject({
      enabled: doc(boolField().prefault(false), 'boolean', 'Run against an in-process simulated cluster instead of Slurm.'),
      nodes: doc(intField(1).prefault(100), 'integer', 'Nodes in the simulated cluster.'),
      jobs: doc(intField(0).prefault(1000), 'integer', 'Jobs in the simulated cluster.'),
    })
    .prefault({});

  const clusters = doc(
    z
      .array(
        z.strictObject({
          name: stringField((v) => (v.trim() === v && v !== '' ? undefined : `${show(v)} is not a cluster name (no leading or trailing spaces)`)),
          required: doc(boolField().prefault(true), 'boolean', 'Whether /ready needs this cluster\'s data to be fresh; false keeps the process ready while this cluster is down (its series go stale, its errors are counted).'),
          slurm,
          collectors,
          limits,
        }),
      )
      .min(1)
      .optional(),
    'list',
    'Several clusters in one process: each entry a `name` (its `cluster` label) with its own `slurm`, `collectors` and `limits` sections; what an entry leaves out comes from the top-level sections.',
    { defaultText: 'one cluster, from the top-level sections' },
  );

  type SlurmOut = z.output<typeof slurm>;
  type GroupsOut = z.output<typeof collectors>;
  type Issue = (path: (string | number)[], message: string) => void;

  const toSlurmConfig = (s: SlurmOut): ExporterConfig['slurm'] => ({
    source: s.source,
    cli: { binDir: s.cli.binDir, slurmConf: s.cli.slurmConf },
    native: { url: s.native.url?.replace(/\/+$/, ''), endpoints: s.native.endpoints },
    // A trailing slash would double up when request paths are appended.
    url: s.url?.replace(/^(https?:\/\/.*?)\/+$/, '$1'),
    apiVersion: s.apiVersion,
    user: s.user,
    token: s.token,
    tokenFile: s.tokenFile,
    jwtKeyFile: s.jwtKeyFile,
    jwtLifetimeMs: s.jwtLifetime,
    cluster: s.cluster,
    maxConnections: s.maxConnections,
    connectionTimeoutMs: s.connectionTimeout,
    requestTimeoutMs: s.requestTimeout,
    keepAlive: s.keepAlive,
    maxResponseBytes: s.maxResponseSize,
    rateLimit: { ...s.rateLimit },
    cache: { enabled: s.cache.enabled, ttlMs: s.cache.ttl, maxSize: s.cache.maxSize },
    tls: { caFile: s.tls.caFile, insecureSkipVerify: s.tls.insecureSkipVerify },
  
  });

  const toGroups = (groups: GroupsOut): Record<string, CollectorGroupConfig> =>
    Object.fromEntries(COLLECTOR_GROUPS.map((g) => [g, { enabled: groups[g].enabled, intervalMs: groups[g].interval, timeoutMs: groups[g].timeout }]));

  /** Checks that hold within one cluster's sections (the top level, or one clusters[] entry). */
  const clusterIssues = (at: (string | number)[], sec: { slurm: SlurmOut; collectors: GroupsOut }, demo: boolean, issue: Issue) => {
    for (const g of COLLECTOR_GROUPS) {
      const gc = sec.collectors[g];
      if (gc.timeout >= gc.interval) {
        issue([...at, 'collectors', g, 'timeout'], `${formatDuration(gc.timeout)} must be shorter than collectors.${g}.interval (${formatDuration(gc.interval)})`);
      }
    }
    if (sec.slurm.source === 'native' && sec.slurm.native.url === undefined && !demo) {
      issue([...at, 'slurm', 'native', 'url'], 'is required with slurm.source native: slurmctld\'s metrics address, e.g. http://slurmctl:6817');
    }
    if (sec.slurm.jwtKeyFile !== undefined && sec.slurm.user === undefined && !demo) {
      issue([...at, 'slurm', 'user'], 'is required with slurm.jwtKeyFile: the user the exporter signs tokens for (--slurm.user or SLURM_USER)');
    }
  };

  return z
    .strictObject({ server, slurm, collectors, limits, log, demo, backup: backupSchema(), clusters })
    .superRefine((c, rctx) => {
      const issue = (path: (string | number)[], message: string) => rctx.addIssue({ code: 'custom', path, message });
      const fmt = formatDuration;
      backupIssues(c.backup, issue);

      const sections = [{ at: [] as (string | number)[], ...c }, ...(c.clusters ?? []).map((e, i) => ({ at: ['clusters', i], ...e }))];
      for (const sec of sections) clusterIssues(sec.at, sec, c.demo.enabled, issue);
      const names = (c.clusters ?? []).map((e) => e.name);
      names.forEach((n, i) => {
        if (names.indexOf(n) !== i) issue(['clusters', i, 'name'], `"${n}" is already the name of clusters[${names.indexOf(n)}]: every cluster needs its own name (its cluster label)`);
      });

      const le = c.server.leaderElection;
      if (le.renewDeadline >= le.leaseDuration) {
        issue(['server', 'leaderElection', 'renewDeadline'], `${fmt(le.renewDeadline)} must be shorter than leaseDuration (${fmt(le.leaseDuration)}), else two leaders can overlap`);
      }
      if (le.retryPeriod >= le.renewDeadline) {
        issue(['server', 'leaderElection', 'retryPeriod'], `${fmt(le.retryPeriod)} must be shorter than renewDeadline (${fmt(le.renewDeadline)}), else the leader cannot retry a failed renewal in time`);
      }
      if (le.enabled && le.backend === 'none') issue(['server', 'leaderElection', 'backend'], '"none" cannot elect a leader: use kubernetes or etcd, or set enabled: false');
      if (le.enabled && (le.mode === 'single' || le.mode === 'active-active')) {
        issue(['server', 'leaderElection', 'mode'], `"${le.mode}" needs no election: use active-passive or sharded, or set enabled: false`);
      }
      if (!le.enabled && (le.mode === 'active-passive' || le.mode === 'sharded')) {
        issue(['server', 'leaderElection', 'mode'], `"${le.mode}" needs leader election: set server.leaderElection.enabled: true`);
      }
      if (!le.enabled && le.backend !== undefined && le.backend !== 'none') {
        issue(['server', 'leaderElection', 'backend'], `"${le.backend}" is set but server.leaderElection.enabled is false`);
      }
      if (le.enabled && le.backend === 'etcd' && le.etcd.endpoints.length === 0) {
        issue(['server', 'leaderElection', 'etcd', 'endpoints'], 'backend etcd needs at least one endpoint (e.g. [http://etcd-0:2379])');
      }

      const longest = Math.max(0, ...COLLECTOR_GROUPS.filter((g) => c.collectors[g].enabled).map((g) => c.collectors[g].interval));
      if (c.server.stalenessLimit !== undefined && c.server.stalenessLimit <= longest) {
        issue(['server', 'stalenessLimit'], `${fmt(c.server.stalenessLimit)} must be longer than the longest enabled collector interval (${fmt(longest)}), else /ready fails between polls`);
      }

    })
    .transform((c): ExporterConfig => {
      const le = c.server.leaderElection;
      const nonEmpty = (v: string | undefined) => (v !== undefined && v !== '' ? v : undefined);
      return {
        server: {
          listenAddress: c.server.listenAddress,
          telemetryPath: c.server.telemetryPath,
          maxConcurrentScrapes: c.server.maxConcurrentScrapes,
          scrapeTimeoutMs: c.server.scrapeTimeout,
          webConfigFile: c.server.webConfigFile,
          stalenessLimitMs: c.server.stalenessLimit,
          collection: { workers: c.server.collection.workers, threads: c.server.collection.threads, hangTimeoutMs: c.server.collection.hangTimeout },
          leaderElection: {
            enabled: le.enabled,
            backend: le.backend ?? (le.enabled ? 'kubernetes' : 'none'),
            mode: le.mode ?? (le.enabled ? 'active-passive' : 'single'),
            leaseDurationMs: le.leaseDuration,
            renewDeadlineMs: le.renewDeadline,
            retryPeriodMs: le.retryPeriod,
            leaseName: le.leaseName,
            namespace: le.namespace ?? nonEmpty(ctx.env.POD_NAMESPACE) ?? 'default',
            identity: le.identity ?? nonEmpty(ctx.env.POD_NAME) ?? nonEmpty(ctx.env.HOSTNAME) ?? ctx.hostname(),
            kubeconfig: le.kubeconfig,
            etcdEndpoints: le.etcd.endpoints,
          },
        },
        slurm: toSlurmConfig(c.slurm),
        collectors: toGroups(c.collectors),
        limits: { ...c.limits },
        clusters: (c.clusters ?? [{ name: undefined, required: true, slurm: c.slurm, collectors: c.collectors, limits: c.limits }]).map((e) => ({
          name: e.name,
          required: e.required,
          slurm: { ...toSlurmConfig(e.slurm), cluster: e.name ?? e.slurm.cluster },
          collectors: toGroups(e.collectors),
          limits: { ...e.limits },
        })),
        log: { ...c.log },
        demo: c.demo.enabled,
        demoNodes: c.demo.nodes,
        demoJobs: c.demo.jobs,
        backup: toBackupConfig(c.backup),
      };
    });
}

export type ConfigSchema = ReturnType<typeof buildConfigSchema>;

// The schema's output must be exactly the shared ExporterConfig; this fails to compile otherwise.
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const _outputIsExporterConfig: Equals<z.output<ConfigSchema>, ExporterConfig> = true;
void _outputIsExporterConfig;

/** Top-level keys of the file. */
export const TOP_LEVEL_KEYS = ['server', 'slurm', 'collectors', 'limits', 'log', 'demo', 'backup', 'clusters'] as const;

/**
 * The effective configuration in the file's shape ("30s", "2GiB"), so check-config output can be
 * loaded again as a config file. Unset optional keys are left out.
 */
export function toFileShape(cfg: ExporterConfig): Record<string, unknown> {
  const le = cfg.server.leaderElection;
  const d = formatDuration;
  return {
    server: prune({
      listenAddress: cfg.server.listenAddress,
      telemetryPath: cfg.server.telemetryPath,
      maxConcurrentScrapes: cfg.server.maxConcurrentScrapes,
      scrapeTimeout: d(cfg.server.scrapeTimeoutMs),
      webConfigFile: cfg.server.webConfigFile,
      stalenessLimit: cfg.server.stalenessLimitMs === undefined ? undefined : d(cfg.server.stalenessLimitMs),
      collection: prune({ workers: cfg.server.collection.workers, threads: cfg.server.collection.threads, hangTimeout: d(cfg.server.collection.hangTimeoutMs) }),
      leaderElection: prune({
        enabled: le.enabled,
        backend: le.backend,
        mode: le.mode,
        leaseDuration: d(le.leaseDurationMs),
        renewDeadline: d(le.renewDeadlineMs),
        retryPeriod: d(le.retryPeriodMs),
        leaseName: le.leaseName,
        namespace: le.namespace,
        identity: le.identity,
        kubeconfig: le.kubeconfig,
        etcd: { endpoints: le.etcdEndpoints },
      }),
    }),
    slurm: slurmFileShape(cfg.slurm),
    collectors: groupsFileShape(cfg.collectors),
    limits: { ...cfg.limits },
    log: { ...cfg.log },
    demo: { enabled: cfg.demo, nodes: cfg.demoNodes, jobs: cfg.demoJobs },
    backup: backupFileShape(cfg.backup),
    ...(cfg.clusters[0]?.name === undefined
      ? {}
      : { clusters: cfg.clusters.map((c) => ({ name: c.name, required: c.required, slurm: slurmFileShape(c.slurm), collectors: groupsFileShape(c.collectors), limits: { ...c.limits } })) }),
  };
}

const prune = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function slurmFileShape(s: ExporterConfig['slurm']): Record<string, unknown> {
  const d = formatDuration;
  return prune({
    source: s.source,
    cli: prune({ ...s.cli }),
    native: prune({ url: s.native.url, endpoints: s.native.endpoints }),
    url: s.url,
    apiVersion: s.apiVersion,
    user: s.user,
    token: s.token,
    tokenFile: s.tokenFile,
    jwtKeyFile: s.jwtKeyFile,
    jwtLifetime: d(s.jwtLifetimeMs),
    cluster: s.cluster,
    maxConnections: s.maxConnections,
    connectionTimeout: d(s.connectionTimeoutMs),
    requestTimeout: d(s.requestTimeoutMs),
    keepAlive: s.keepAlive,
    maxResponseSize: formatSize(s.maxResponseBytes),
    rateLimit: { ...s.rateLimit },
    cache: { enabled: s.cache.enabled, ttl: d(s.cache.ttlMs), maxSize: s.cache.maxSize },
    tls: prune({ caFile: s.tls.caFile, insecureSkipVerify: s.tls.insecureSkipVerify }),
  });
}

function groupsFileShape(groups: Record<string, CollectorGroupConfig>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(groups).map(([g, gc]) => [g, prune({ enabled: gc.enabled, interval: formatDuration(gc.intervalMs), timeout: formatDuration(gc.timeoutMs) })]));
}

// ---------------------------------------------------------------------------------------------
// Schema walking, for docs, --help texts and error messages.

export interface FieldInfo {
  path: string;
  doc: FieldDoc | undefined;
  /** The default as written in a file, when the schema has a fixed one. */
  defaultValue: unknown;
}

type AnySchema = z.ZodType;

function unwrap(s: AnySchema): AnySchema {
  let cur = s;
  for (;;) {
    const def = cur.def as { type: string; innerType?: AnySchema };
    if ((def.type === 'prefault' || def.type === 'default' || def.type === 'optional') && def.innerType) cur = def.innerType;
    else if (def.type === 'pipe' && (cur.def as unknown as { in: AnySchema }).in.def.type === 'object') cur = (cur.def as unknown as { in: AnySchema }).in;
    else return cur;
  }
}

function shapeOf(s: AnySchema): Record<string, AnySchema> | undefined {
  const u = unwrap(s);
  return u.def.type === 'object' ? (u as z.ZodObject).shape : undefined;
}

/** Every leaf key in file order, with its docs and fixed default. */
export function listFields(schema: AnySchema = buildConfigSchema({ env: {}, hostname: () => 'localhost' })): FieldInfo[] {
  const out: FieldInfo[] = [];
  const walk = (s: AnySchema, path: string[]) => {
    const shape = shapeOf(s);
    if (shape) {
      for (const [k, child] of Object.entries(shape)) walk(child, [...path, k]);
      return;
    }
    const def = s.def as { type: string; defaultValue?: unknown };
    out.push({
      path: path.join('.'),
      doc: fieldDocs.get(s),
      defaultValue: def.type === 'prefault' || def.type === 'default' ? def.defaultValue : undefined,
    });
  };
  walk(schema, []);
  return out;
}

/** The keys allowed in the object at this path (for "unknown key" messages). */
export function knownKeysAt(schema: AnySchema, path: readonly PropertyKey[]): string[] | undefined {
  let cur: AnySchema | undefined = schema;
  for (const p of path) {
    const shape: Record<string, AnySchema> | undefined = cur ? shapeOf(cur) : undefined;
    cur = shape?.[String(p)];
  }
  const shape = cur ? shapeOf(cur) : undefined;
  return shape ? Object.keys(shape) : undefined;
}

let cachedFields: Map<string, FieldInfo> | undefined;

/** Docs of one key path, e.g. "slurm.url". */
export function fieldInfo(path: string): FieldInfo | undefined {
  cachedFields ??= new Map(listFields().map((f) => [f.path, f]));
  return cachedFields.get(path);
}
