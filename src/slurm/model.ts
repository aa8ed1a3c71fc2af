// The normalized model: what every adapter (REST v0.0.38..v0.0.44, CLI, simulator) produces and every
// collector reads. Units are base units (bytes, seconds, unix seconds); states are lower-case strings
// exactly as Slurm names them, so new Slurm states pass through instead of being dropped.

/** A generic resource count such as `gpu:a100:4` from a GRES string; model is '' when Slurm names none. */
export interface GresCount {
  /** GRES type, lower-case: `gpu`, `shard`, `mps`, ... */
  type: string;
  /** Model (`tesla`, `a100`), '' when none is given. */
  model: string;
  count: number;
}

export interface SlurmNode {
  name: string;
  /** Lower-case base state: idle, mixed, allocated, down, error, future, unknown, or whatever a newer Slurm adds. */
  state: string;
  /** Lower-case state flags: drain, maintenance, not_responding, reserved, planned, powered_down, powering_up, ... */
  flags: string[];
  partitions: string[];
  cpus: number;
  allocCpus: number;
  /** Configured memory (RealMemory) in bytes. */
  memoryBytes: number;
  allocMemoryBytes: number;
  /** Free memory as reported by the node's OS, bytes; undefined when Slurm does not report it. */
  freeMemoryBytes: number | undefined;
  /** CPU load as a load average (Slurm reports load*100). */
  cpuLoad: number | undefined;
  gres: GresCount[];
  gresUsed: GresCount[];
  reason: string;
  /** Unix seconds the reason was set, 0 when unknown. */
  reasonChangedAt: number;
  features: string[];
}

export interface SlurmJob {
  /** The cluster the job belongs to, as the job record says (the only place 22.05 names the cluster). */
  cluster?: string;
  jobId: number;
  /** For array tasks the parent array job id, else 0. */
  arrayJobId: number;
  /** Task id of one array task, undefined for non-array jobs and for a record that stands for a pending task range. */
  arrayTaskId: number | undefined;
  /** Task range of a pending array record (`4-8%3`), '' otherwise. */
  arrayTaskString: string;
  name: string;
  user: string;
  account: string;
  /** Every partition the job names; a pending job may name several (`cpu,preempt`). */
  partitions: string[];
  qos: string;
  /** Lower-case base state: pending, running, completed, failed, out_of_memory, node_fail, ... */
  state: string;
  /** Lower-case state flags: completing, configuring, requeued, ... */
  stateFlags: string[];
  /** Pending/state reason as Slurm reports it (`Resources`, `Priority`, `None`). */
  reason: string;
  /** CPUs allocated (running) or requested (pending). */
  cpus: number;
  /** Memory allocated (running) or requested (pending), bytes. */
  memoryBytes: number;
  /** GPUs allocated (running) or requested (pending). */
  gpus: number;
  /**
   * Generic resources by type and model, allocated (running) or requested (pending), for the whole job:
   * `gres/gpu:a100=4` as {type gpu, model a100, count 4}; model '' when Slurm names none.
   */
  gres: GresCount[];
  nodeCount: number;
  /** Unix seconds; 0 when unset. */
  submitTime: number;
  /** Unix seconds the job became eligible to run (dependencies met, begin time reached); 0 when unset. */
  eligibleTime: number;
  startTime: number;
  endTime: number;
  /** Time limit in seconds; undefined when unlimited/unset. */
  timeLimitSeconds: number | undefined;
  priority: number | undefined;
}

export interface SlurmPartition {
  name: string;
  /** Lower-case: up, down, drain, inactive. */
  state: string;
  /** Node names in the partition (expanded from the hostlist). */
  nodes: string[];
  totalCpus: number;
  totalNodes: number;
  /** Whether it is the default partition; undefined when the API version does not say (v0.0.40 and later). */
  isDefault: boolean | undefined;
  /** Max time in seconds, undefined for unlimited. */
  maxTimeSeconds: number | undefined;
}

/** One RPC type's statistics from /diag (counts and total time in seconds). */
export interface RpcStat {
  name: string;
  count: number;
  totalTimeSeconds: number;
}

/** One user's RPC statistics from /diag. */
export interface RpcUserStat {
  user: string;
  count: number;
  totalTimeSeconds: number;
}

/** /diag, converted to base units (seconds, not microseconds). Absent fields are undefined. */
export interface SchedulerStats {
  serverThreadCount: number | undefined;
  agentQueueSize: number | undefined;
  agentCount: number | undefined;
  agentThreadCount: number | undefined;
  dbdAgentQueueSize: number | undefined;
  jobsSubmitted: number | undefined;
  jobsStarted: number | undefined;
  jobsCompleted: number | undefined;
  jobsCanceled: number | undefined;
  jobsFailed: number | undefined;
  jobsPending: number | undefined;
  jobsRunning: number | undefined;
  /** Main scheduler. */
  scheduleCycleLastSeconds: number | undefined;
  scheduleCycleMaxSeconds: number | undefined;
  scheduleCycleMeanSeconds: number | undefined;
  scheduleCycleTotal: number | undefined;
  scheduleCycleDepthMean: number | undefined;
  scheduleCyclePerMinute: number | undefined;
  scheduleQueueLength: number | undefined;
  /** Backfill scheduler. */
  backfillActive: boolean | undefined;
  backfillJobsTotal: number | undefined;
  backfillJobsSinceReset: number | undefined;
  backfillHeterogeneousJobsTotal: number | undefined;
  backfillCycleTotal: number | undefined;
  backfillCycleLastSeconds: number | undefined;
  backfillCycleMaxSeconds: number | undefined;
  backfillCycleMeanSeconds: number | undefined;
  backfillLastDepth: number | undefined;
  backfillLastDepthTry: number | undefined;
  backfillDepthMean: number | undefined;
  backfillQueueLength: number | undefined;
  backfillQueueLengthMean: number | undefined;
  backfillTableSize: number | undefined;
  backfillTableSizeMean: number | undefined;
  /** Unix seconds of the last backfill cycle, undefined when never. */
  backfillLastCycleTime: number | undefined;
  /** Unix seconds the statistics were reset (req_time_start). */
  statsResetTime: number | undefined;
  rpcByType: RpcStat[];
  rpcByUser: RpcUserStat[];
}

/** /ping: one entry per controller. */
export interface ControllerPing {
  hostname: string;
  /** up | down, lower-case. */
  status: string;
  /** primary | backup1 | ... */
  mode: string;
  latencySeconds: number | undefined;
}

export interface ClusterInfo {
  controllers: ControllerPing[];
  /** Slurm release of slurmrestd (`22.05.8`, `25.11.7`), '' when unknown. */
  slurmVersion: string;
  /** API version spoken, e.g. v0.0.44 ('' for CLI). */
  apiVersion: string;
  /** Cluster name as Slurm reports it, '' when unknown. */
  clusterName: string;
}

/** One association from /shares (sshare -a -l). An account and a user may share a name: key by kind and name. */
export interface ShareEntry {
  kind: 'account' | 'user';
  /** Account name for kind account; user name for kind user. */
  name: string;
  /** The account of a user association; the parent account of an account ('' for root). */
  account: string;
  /** Partition of a per-partition association, '' otherwise. */
  partition: string;
  /** Raw shares as configured (undefined when Slurm reports none, e.g. root, or `Fairshare=parent`). */
  rawShares: number | undefined;
  /** NormShares: the association's fraction of its siblings' shares. */
  normalizedShares: number | undefined;
  /** RawUsage: decayed billing-TRES-seconds (PriorityDecayHalfLife), not plain seconds. */
  rawUsage: number | undefined;
  /** NormUsage: the association's fraction of the whole cluster's usage (undefined for root). */
  normalizedUsage: number | undefined;
  /** EffectvUsage: with Fair Tree the fraction of the parent's usage; with the classic algorithm a damped NormUsage. */
  effectiveUsage: number | undefined;
  /**
   * The fairshare factor (FairShare column, 0..1). Undefined for accounts: with Fair Tree only user
   * associations have one (sshare prints none), and slurmrestd's value there is a meaningless 0.
   */
  fairshareFactor: number | undefined;
  /** Fair Tree's LevelFS; Infinity when the association has shares but no usage (sshare's `inf`); undefined when not reported. */
  levelFairshare: number | undefined;
}

/** One advance reservation from /reservations. */
export interface SlurmReservation {
  name: string;
  /** Node names (expanded from the hostlist). */
  nodes: string[];
  nodeCount: number;
  coreCount: number;
  /** Unix seconds; 0 when unset. */
  startTime: number;
  endTime: number;
  /** Lower-case flags: maint, ignore_jobs, spec_nodes, daily, ... */
  flags: string[];
  partition: string;
  users: string;
  accounts: string;
}

/** One license from /licenses (scontrol show licenses). */
export interface SlurmLicense {
  name: string;
  total: number;
  used: number;
  free: number;
  reserved: number;
  /** Served by slurmdbd (sacctmgr add resource) rather than slurm.conf. */
  remote: boolean;
}

/** One RPC type's statistics from slurmdbd's /slurmdb/diag (counts and total time in seconds). */
export interface DbdRpcStat {
  name: string;
  count: number;
  totalTimeSeconds: number;
}

/** slurmdbd's /slurmdb/diag (sacctmgr show stats), in base units. */
export interface SlurmdbdStats {
  /** Unix seconds the statistics were last reset, undefined when unknown. */
  statsResetTime: number | undefined;
  rpcByType: DbdRpcStat[];
  rpcByUser: { user: string; count: number; totalTimeSeconds: number }[];
}

/** One slurmdbd as slurmrestd reaches it (/slurmdb/{v}/ping, v0.0.42+). */
export interface DbdPing {
  hostname: string;
  responding: boolean;
  latencySeconds: number | undefined;
}

/** The endpoints of slurmctld's own metrics (MetricsType=metrics/openmetrics, Slurm 25.11+): /metrics/<endpoint>. */
export const NATIVE_ENDPOINTS = ['jobs', 'nodes', 'partitions', 'scheduler', 'jobs-users-accts'] as const;
export type NativeEndpoint = (typeof NATIVE_ENDPOINTS)[number];

/**
 * The unit of a native family's values after correction: slurmctld writes megabytes under `_bytes` names and
 * scheduler cycle times in microseconds; the model holds bytes and seconds. `timestamp` is unix seconds.
 */
export type NativeUnit = 'bytes' | 'seconds' | 'timestamp' | '';

export interface NativeSample {
  labels: Record<string, string>;
  value: number;
}

/** One metric family as slurmctld serves it, values converted to base units. */
export interface NativeFamily {
  /** slurmctld's name, unchanged: `slurm_node_cpus`. */
  name: string;
  help: string;
  /** As `# TYPE` declares it (slurmctld declares every family a gauge); `unknown` when undeclared. */
  type: string;
  unit: NativeUnit;
  samples: NativeSample[];
}

/** slurmctld's own metrics, by endpoint; an endpoint not fetched is absent. */
export interface NativeMetrics {
  endpoints: Partial<Record<NativeEndpoint, NativeFamily[]>>;
  /**
   * True when slurmctld's metrics are the only source (slurm.source native): no node, job or partition
   * records come from elsewhere, so the families our collectors would cover are passed through as well.
   */
  alone: boolean;
}

/** What each resource kind produces. Each kind is fetched once per interval and fed to every collector needing it. */
export interface ResourceData {
  cluster: ClusterInfo;
  nodes: SlurmNode[];
  jobs: SlurmJob[];
  partitions: SlurmPartition[];
  diag: SchedulerStats;
  shares: ShareEntry[];
  reservations: SlurmReservation[];
  licenses: SlurmLicense[];
  dbdiag: SlurmdbdStats;
  dbping: DbdPing[];
  native: NativeMetrics;
}

export type ResourceKind = keyof ResourceData;

/** Things the adapter saw but did not understand; collectors count them, the logger reports each once. */
export interface Anomalies {
  /** e.g. `node state "weird_new_state"`; counted and logged once per distinct text. */
  unknown: string[];
}
