// One descriptor per Slurm resource, keyed by its kind: which URL each API version serves it at (or that it
// does not), which collector group polls it, and that group's default schedule. Everything that lists kinds or
// groups (config defaults and flags, the poller, sharded mode's work units, the exporter's own metric labels,
// the docs, the simulator's routes) is derived from this table; the readers (rest/read-resource.ts) and the
// simulator's renderers are tables over the same kinds, so a kind without one is a type error.
import type { ResourceKind } from './model.ts';

// The configuration names slurmctld's metrics endpoints too; it reads the list from here, the one place it may.
export { NATIVE_ENDPOINTS, type NativeEndpoint } from './model.ts';

/** API versions, oldest first. */
const VERSIONS = ['v0.0.38', 'v0.0.39', 'v0.0.40', 'v0.0.41', 'v0.0.42', 'v0.0.43', 'v0.0.44'] as const;

interface DescriptorBase {
  /** The collector group that polls it: its interval, timeout, enable switch and sharded-mode lease. */
  group: string;
  /** The `endpoint` label value in the exporter's own metrics (`ping`, `jobs`, `slurmdb_diag`). */
  endpoint: string;
}

/** A resource slurmrestd serves. */
export interface RestDescriptor extends DescriptorBase {
  /** Path under the API version: `/slurm/{v}/<path>` or `/slurmdb/{v}/<path>`. */
  plugin: 'slurm' | 'slurmdb';
  path: string;
  /** First API version that serves it; older ones do not (the collector reports "unsupported"). */
  since: (typeof VERSIONS)[number];
}

/**
 * A resource only slurmctld itself serves, on its own port (MetricsType=metrics/openmetrics, Slurm 25.11+):
 * `/<path>/<endpoint>`. No slurmrestd API version serves it, so a slurmrestd source reports it unsupported.
 */
export interface SlurmctldDescriptor extends DescriptorBase {
  plugin: 'slurmctld';
  path: string;
  since: undefined;
}

export type ResourceDescriptor = RestDescriptor | SlurmctldDescriptor;

/** The resources, in the order their groups appear in the config reference. */
export const RESOURCES = {
  cluster: { group: 'cluster', endpoint: 'ping', plugin: 'slurm', path: 'ping', since: 'v0.0.38' },
  nodes: { group: 'nodes', endpoint: 'nodes', plugin: 'slurm', path: 'nodes', since: 'v0.0.38' },
  jobs: { group: 'jobs', endpoint: 'jobs', plugin: 'slurm', path: 'jobs', since: 'v0.0.38' },
  partitions: { group: 'partitions', endpoint: 'partitions', plugin: 'slurm', path: 'partitions', since: 'v0.0.38' },
  diag: { group: 'scheduler', endpoint: 'diag', plugin: 'slurm', path: 'diag', since: 'v0.0.38' },
  // /shares came with Slurm 23.02 (v0.0.39); 22.05's slurmrestd does not route it.
  shares: { group: 'fairshare', endpoint: 'shares', plugin: 'slurm', path: 'shares', since: 'v0.0.39' },
  reservations: { group: 'reservations', endpoint: 'reservations', plugin: 'slurm', path: 'reservations', since: 'v0.0.38' },
  licenses: { group: 'licenses', endpoint: 'licenses', plugin: 'slurm', path: 'licenses', since: 'v0.0.38' },
  dbdiag: { group: 'slurmdbd', endpoint: 'slurmdb_diag', plugin: 'slurmdb', path: 'diag', since: 'v0.0.38' },
  // slurmdbd's reachability from slurmrestd came with Slurm 24.05 (v0.0.42).
  dbping: { group: 'slurmdbd', endpoint: 'slurmdb_ping', plugin: 'slurmdb', path: 'ping', since: 'v0.0.42' },
  // slurmctld's own OpenMetrics (/metrics/jobs, /nodes, ...): read by the native source, never by slurmrestd.
  native: { group: 'native', endpoint: 'native', plugin: 'slurmctld', path: 'metrics', since: undefined },
} as const satisfies Record<ResourceKind, ResourceDescriptor>;

export const RESOURCE_KINDS = Object.keys(RESOURCES) as ResourceKind[];

export type CollectorGroup = (typeof RESOURCES)[ResourceKind]['group'];

/** Each group's default schedule and what it collects (the config reference's words). */
export const GROUP_DEFAULTS: Record<CollectorGroup, { interval: string; timeout: string; what: string }> = {
  cluster: { interval: '30s', timeout: '20s', what: 'controller reachability and the cluster name (ping)' },
  nodes: { interval: '60s', timeout: '30s', what: 'node states, CPUs, memory, GRES' },
  jobs: { interval: '30s', timeout: '25s', what: 'the job queue: states, per partition, per user and account, GPUs, wait times, finished jobs' },
  partitions: { interval: '120s', timeout: '60s', what: 'partition states and limits' },
  scheduler: { interval: '30s', timeout: '20s', what: 'slurmctld scheduler statistics (sdiag)' },
  fairshare: { interval: '300s', timeout: '60s', what: 'fairshare per account and user (sshare)' },
  reservations: { interval: '60s', timeout: '30s', what: 'advance reservations (scontrol show reservation)' },
  licenses: { interval: '60s', timeout: '30s', what: 'license counts (scontrol show licenses)' },
  slurmdbd: { interval: '60s', timeout: '30s', what: 'slurmdbd RPC statistics (sacctmgr show stats) and reachability' },
  native: { interval: '60s', timeout: '30s', what: "slurmctld's own metrics (Slurm 25.11+, MetricsType=metrics/openmetrics), re-exposed as slurm_native_* (native source only)" },
};

export const COLLECTOR_GROUPS = Object.keys(GROUP_DEFAULTS) as CollectorGroup[];

export function groupOf(kind: ResourceKind): CollectorGroup {
  return RESOURCES[kind].group;
}


export function endpointOf(kind: ResourceKind): string {
  return RESOURCES[kind].endpoint;
}

/** `/slurm/v0.0.44/jobs`, or undefined when that API version does not serve the resource. */
export function resourcePath(kind: ResourceKind, version: string): string | undefined {
  const d: ResourceDescriptor = RESOURCES[kind];
  if (d.plugin === 'slurmctld') return undefined;
  const at = (VERSIONS as readonly string[]).indexOf(version);
  if (at < 0 || at < VERSIONS.indexOf(d.since)) return undefined;
  return `/${d.plugin}/${version}/${d.path}`;
}
