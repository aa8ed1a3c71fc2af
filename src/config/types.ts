// The effective configuration after defaults, file, environment and flags are merged.
// Durations are milliseconds, sizes bytes. The zod schema in schema.ts produces exactly this shape.

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
  };
  slurm: {
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
  };
  /** Keyed by collector group (COLLECTOR_GROUPS in src/slurm/resources.ts). */
  collectors: Record<string, CollectorGroupConfig>;
  limits: CardinalityLimits;
  log: { level: 'debug' | 'info' | 'warn' | 'error'; format: 'logfmt' | 'json' };
  /** Run against an in-process simulated cluster. */
  demo: boolean;
  demoNodes: number;
  demoJobs: number;
}
