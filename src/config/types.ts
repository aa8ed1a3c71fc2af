// The effective configuration after defaults, file, environment and flags are merged.
// Durations are milliseconds, sizes bytes. The zod schema in schema.ts produces exactly this shape.
import type { NativeEndpoint } from '../slurm/resources.ts';

export interface CollectorGroupConfig {
  enabled: boolean;
  intervalMs: number;
  timeoutMs: number;
}

/** Bounds on labels that can explode cardinality (user, account, job id, reason text, node). */
export interface CardinalityLimits {
  /** Per-node series (cpus, memory, gres, state, reason) on or off. */
  perNode: boolean;
  /** Longest reason text kept in a label; longer ones are cut. 0 leaves the reason label empty. */
  maxReasonLength: number;
  /** Per-user, per-account and per-QOS job breakdowns on or off. */
  perUser: boolean;
  perAccount: boolean;
  perQos: boolean;
  /** Users (accounts) kept as label values, the largest by allocated CPUs; the rest are summed under "other". */
  maxUsers: number;
  maxAccounts: number;
  /** Opt-in series per job id (costly: one series set per job). */
  jobs: boolean;
  /** Jobs kept when `jobs` is on; the rest are counted as folded. */
  maxJobs: number;
}

export type SlurmSourceKind = 'rest' | 'cli' | 'native';


export type ElectionBackend = 'none' | 'kubernetes' | 'etcd';
export type HaMode = 'single' | 'active-passive' | 'active-active' | 'sharded';

export interface LeaderElectionConfig {
  enabled: boolean;
  backend: ElectionBackend;
  mode: HaMode;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  leaseName: string;
  namespace: string;
  identity: string;
  kubeconfig: string | undefined;
  etcdEndpoints: string[];
}

export type BackupTypeName = 'configuration' | 'monitoring' | 'deployment' | 'certificates' | 'logs';

export interface BackupTypeConfig {
  enabled: boolean;
  /** 5-field cron expression (minute hour day-of-month month day-of-week), host local time. */
  schedule: string;
  retentionMs: number;
}

/** A local directory (path) or an S3 bucket; exactly one of the two kinds. */
export interface BackupDestinationConfig {
  kind: 'local' | 's3';
  path: string | undefined;
  bucket: string | undefined;
  prefix: string;
  endpoint: string | undefined;
  region: string | undefined;
  forcePathStyle: boolean;
  /** A backup counts as done only when every required destination holds it. */
  required: boolean;
  /** Overrides the type's retention at this destination (e.g. a shorter one on the local copy). */
  retentionMs: Partial<Record<BackupTypeName, number>>;
}

export interface BackupConfig {
  types: Record<BackupTypeName, BackupTypeConfig>;
  primary: BackupDestinationConfig | undefined;
  secondary: BackupDestinationConfig | undefined;
  encryption: {
    /** Environment variable holding the current key (hex or base64 of 32 bytes). */
    keyEnv: string;
    /** File with the current key, used when keyEnv is unset or empty. */
    keyFile: string | undefined;
    /** Files with earlier keys, so archives written before a rotation still decrypt. */
    oldKeyFiles: string[];
  };
  paths: {
    /** undefined: the file the exporter was started with (--config.file). */
    configFile: string | undefined;
    /** undefined: server.webConfigFile. */
    webConfigFile: string | undefined;
    rulesFile: string | undefined;
    alertmanagerFile: string | undefined;
    dashboardsDir: string | undefined;
    helmValuesFile: string | undefined;
    logDir: string | undefined;
  };
  /** The monitoring backup's Prometheus (read by src/backup/sources/prometheus.ts). */
  prometheus: {
    url: string | undefined;
    /** Prometheus' data directory as mounted where the backup runs (snapshots are written there). */
    dataDir: string | undefined;
    bearerTokenFile: string | undefined;
    basicAuth: { username: string | undefined; passwordFile: string | undefined };
  };
  /** The deployment backup's Kubernetes API (read by src/backup/sources/kubernetes.ts). */
  kubernetes: { kubeconfig: string | undefined; namespace: string | undefined; labelSelector: string | undefined };
  /** `backup schedule`: where /metrics and /health are served. */
  listenAddress: string;
}

/** slurmrestd's settings (and the rate limit and cache every source shares). */
export interface SlurmRestConfig {
  /** http(s)://host:port or unix:///path/to/socket; undefined when not configured. */
  url: string | undefined;
  /** Force one API version (v0.0.38..v0.0.44); undefined negotiates the newest served. */
  apiVersion: string | undefined;
  user: string | undefined;
  token: string | undefined;
  tokenFile: string | undefined;
  jwtKeyFile: string | undefined;
  jwtLifetimeMs: number;
  /** The `cluster` label; default is the cluster name Slurm reports, else `default`. */
  cluster: string | undefined;
  maxConnections: number;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  keepAlive: boolean;
  maxResponseBytes: number;
  rateLimit: { enabled: boolean; requestsPerSecond: number; burstSize: number };
  cache: { enabled: boolean; ttlMs: number; maxSize: number };
  tls: { caFile: string | undefined; insecureSkipVerify: boolean };
}

export interface ExporterConfig {
  server: {
    listenAddress: string;
    telemetryPath: string;
    maxConcurrentScrapes: number;
    scrapeTimeoutMs: number;
    webConfigFile: string | undefined;
    /** Data older than this makes /ready answer 503; undefined: per group (stalenessLimitFor). */
    stalenessLimitMs: number | undefined;
    leaderElection: LeaderElectionConfig;
    /** Where collection runs: a worker thread per cluster (default), or the main thread. */
    collection: { workers: boolean; threads: number | undefined; hangTimeoutMs: number };
  };
  slurm: SlurmRestConfig & {
    /** Where the data comes from: slurmrestd, the Slurm commands, or slurmctld's own metrics endpoint. */
    source: SlurmSourceKind;
    /** The CLI source's commands (sinfo, squeue, scontrol, sdiag, sshare). */
    cli: { binDir: string | undefined; slurmConf: string | undefined };
    /** slurmctld's OpenMetrics endpoint (MetricsType=metrics/openmetrics, Slurm 25.11+), as the only source or beside another. */
    native: { url: string | undefined; endpoints: NativeEndpoint[] };
  };
  /** Keyed by collector group (COLLECTOR_GROUPS in src/slurm/resources.ts). */
  collectors: Record<string, CollectorGroupConfig>;
  limits: CardinalityLimits;
  log: { level: 'debug' | 'info' | 'warn' | 'error'; format: 'logfmt' | 'json' };
  /** Run against an in-process simulated cluster. */
  demo: boolean;
  demoNodes: number;
  demoJobs: number;
  backup: BackupConfig;
  /** Every cluster this process collects from: the `clusters:` list, or the top-level sections as a list of one. */
  clusters: ClusterConfig[];
}

/** One cluster's collection settings, its entry's sections over the top-level ones. */
export interface ClusterConfig {
  /** The `cluster` label from `clusters[].name`; undefined for the single top-level cluster (slurm.cluster or Slurm's name). */
  name: string | undefined;
  /** Whether /ready waits for this cluster. */
  required: boolean;
  slurm: ExporterConfig['slurm'];
  collectors: Record<string, CollectorGroupConfig>;
  limits: CardinalityLimits;
}
