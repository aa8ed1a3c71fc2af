// The effective configuration after defaults, file, environment and flags are merged.
// Durations are milliseconds, sizes bytes. The zod schema in schema.ts produces exactly this shape.

export interface CollectorGroupConfig {
  enabled: boolean;
  intervalMs: number;
  timeoutMs: number;
  /** Accepted for the seed's shape; slurmrestd has no paging, so it only caps work per render step. */
  batchSize: number | undefined;
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
    /** Data older than this makes /ready answer 503. */
    stalenessLimitMs: number;
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
  /** Keyed by collector group: cluster, nodes, jobs, partitions, scheduler. */
  collectors: Record<string, CollectorGroupConfig>;
  limits: { perNode: boolean; maxReasonLength: number };
  log: { level: 'debug' | 'info' | 'warn' | 'error'; format: 'logfmt' | 'json' };
  /** Run against an in-process simulated cluster. */
  demo: boolean;
  demoNodes: number;
  demoJobs: number;
}
