// Descriptors of the exporter's own metrics. Values are filled at scrape time (src/self-metrics.ts); they
// live here so the generated reference lists them with the Slurm ones. What describes the work for one Slurm
// cluster (polls, errors, requests, freshness) carries its `cluster` label, so one process collecting several
// clusters tells them apart; what describes the process (scrapes, leadership, memory) carries none.
import type { MetricDesc } from '../exposition/types.ts';
import { COLLECTOR_GROUPS, RESOURCES, RESOURCE_KINDS } from '../slurm/resources.ts';
import { FETCH_ERROR_KINDS } from '../slurm/source.ts';

const SELF = 'exporter';
const GROUP = `Collector group (${COLLECTOR_GROUPS.join(', ')}): the unit that has its own poll interval.`;
const ENDPOINTS = RESOURCE_KINDS.map((k) => RESOURCES[k].endpoint).join(', ');
const REASONS = FETCH_ERROR_KINDS.filter((k) => k !== 'unsupported').join(', ');

export const EXPORTER_METRICS: Record<string, MetricDesc> = {
  buildInfo: {
    name: 'slurm_exporter_build_info',
    type: 'gauge',
    help: 'Always 1; the exporter version and the Node.js version it runs on.',
    labels: ['version', 'node_version'],
    source: SELF,
  },
  scrapeDuration: {
    name: 'slurm_exporter_scrape_duration_seconds',
    type: 'gauge',
    help: 'How long the previous /metrics scrape took to serve, seconds (the current one is still being written).',
    labels: [],
    source: SELF,
    note: 'A gauge of the previous scrape rather than a summary of all of them. Prometheus\'s own scrape_duration_seconds measures the current one from outside.',
  },
  scrapes: {
    name: 'slurm_exporter_scrapes_total',
    type: 'counter',
    help: 'Scrapes of /metrics served, by HTTP status code.',
    labels: ['code'],
    source: SELF,
  },
  errors: {
    name: 'slurm_exporter_errors_total',
    type: 'counter',
    help: `Failures, by collector group and kind: why a poll failed (${REASONS}) or collect (a collector failed on the data and kept its previous output). Every combination is exported from the start, at 0. ${GROUP}`,
    labels: ['cluster', 'collector', 'kind'],
    source: SELF,
  },
  apiErrors: {
    name: 'slurm_exporter_api_errors_total',
    type: 'counter',
    help: `Failed requests to Slurm, by resource (${ENDPOINTS}) and reason (${REASONS}). Every combination of a polled resource is exported from the start, at 0.`,
    labels: ['cluster', 'endpoint', 'reason'],
    source: SELF,
  },
  slurmRequests: {
    name: 'slurm_exporter_slurm_requests_total',
    type: 'counter',
    help: 'Requests (HTTP calls or commands) sent to Slurm, by resource: the load this exporter puts on slurmctld.',
    labels: ['cluster', 'endpoint'],
    source: SELF,
  },
  slurmResponseBytes: {
    name: 'slurm_exporter_slurm_response_bytes_total',
    type: 'counter',
    help: 'Bytes of Slurm answers received, by resource.',
    labels: ['cluster', 'endpoint'],
    source: SELF,
  },
  anomalies: {
    name: 'slurm_exporter_anomalies_total',
    type: 'counter',
    help: `Distinct values from Slurm the exporter did not recognize (a new node or job state, an unknown field), by collector group: each is counted and logged once for the life of the process and passed through as a label value. A rise after a Slurm upgrade is worth a look. ${GROUP}`,
    labels: ['cluster', 'collector'],
    source: SELF,
  },
  collectionRestarts: {
    name: 'slurm_exporter_collection_restarts_total',
    type: 'counter',
    help: 'Restarts of a cluster\'s collection thread, by reason: crash (it exited or threw) or hang (no sign of life for server.collection.hangTimeout). The last good data stays served meanwhile, with its age. Both reasons are exported from the start, at 0.',
    labels: ['cluster', 'reason'],
    source: SELF,
  },
  collectionHeapUsed: {
    name: 'slurm_exporter_collection_heap_used_bytes',
    type: 'gauge',
    help: 'V8 heap in use by a cluster\'s collection thread (nodejs_heap_size_used_bytes is the main thread\'s); absent with server.collection.workers false.',
    labels: ['cluster'],
    source: SELF,
  },
  collectionHeapTotal: {
    name: 'slurm_exporter_collection_heap_total_bytes',
    type: 'gauge',
    help: 'V8 heap reserved by a cluster\'s collection thread.',
    labels: ['cluster'],
    source: SELF,
  },
  collectorSupported: {
    name: 'slurm_exporter_collector_supported',
    type: 'gauge',
    help: `Whether this cluster serves what the collector group reads (1), or not (0: the API version is too old, e.g. fairshare before Slurm 23.02, or slurmdbd is not configured). An unsupported group reports no Slurm series, counts no error and does not fail /ready; it is asked again every interval. ${GROUP}`,
    labels: ['cluster', 'collector'],
    source: SELF,
  },
  cacheHits: {
    name: 'slurm_exporter_slurm_cache_hits_total',
    type: 'counter',
    help: 'Polls answered from the exporter\'s own cache (slurm.cache) instead of a request to Slurm.',
    labels: ['cluster'],
    source: SELF,
  },
  rateLimited: {
    name: 'slurm_exporter_slurm_rate_limited_seconds_total',
    type: 'counter',
    help: 'Time polls spent waiting for the request rate limit (slurm.rateLimit) before asking Slurm, seconds.',
    labels: ['cluster'],
    source: SELF,
  },
  collectorDuration: {
    name: 'slurm_exporter_collector_duration_seconds',
    type: 'gauge',
    help: `How long the last poll of the collector group took (fetch and parse), seconds. ${GROUP}`,
    labels: ['cluster', 'collector'],
    source: SELF,
  },
  collectorSuccess: {
    name: 'slurm_exporter_collector_success',
    type: 'gauge',
    help: `Whether the last poll of the collector group succeeded (1) or failed (0); after a failure the previous data is still served. ${GROUP}`,
    labels: ['cluster', 'collector'],
    source: SELF,
  },
  collectorLastSuccess: {
    name: 'slurm_exporter_collector_last_success_timestamp_seconds',
    type: 'gauge',
    help: `When the collector group last fetched Slurm data successfully, unix seconds. ${GROUP}`,
    labels: ['cluster', 'collector'],
    source: SELF,
  },
  collectorStaleness: {
    name: 'slurm_exporter_collector_staleness_seconds',
    type: 'gauge',
    help: `Age of the data served for the collector group: seconds since its last successful poll. Alert on this rather than on missing series. ${GROUP}`,
    labels: ['cluster', 'collector'],
    source: SELF,
  },
  leader: {
    name: 'slurm_exporter_leader',
    type: 'gauge',
    help: 'Whether this replica is the leader that polls Slurm (1) or a standby (0). Always 1 without leader election.',
    labels: [],
    source: SELF,
  },
  leaderRenewFailures: {
    name: 'slurm_exporter_leader_renew_failures_total',
    type: 'counter',
    help: 'Lease renewals that failed while this replica led (active-passive). A leader steps down when renewals fail for the renew deadline.',
    labels: [],
    source: SELF,
  },
  leaderBackendErrors: {
    name: 'slurm_exporter_leader_backend_errors_total',
    type: 'counter',
    help: 'Failed requests to the leader-election backend (Kubernetes API or etcd), leader or standby.',
    labels: [],
    source: SELF,
  },
  leaderRenewAge: {
    name: 'slurm_exporter_leader_last_renew_age_seconds',
    type: 'gauge',
    help: 'Seconds since this replica last acquired or renewed the lease; absent before the first time. Near the renew deadline means trouble.',
    labels: [],
    source: SELF,
  },
  processCpu: {
    name: 'process_cpu_seconds_total',
    type: 'counter',
    help: 'CPU time (user and system) this process has used, seconds.',
    labels: [],
    source: SELF,
    note: 'The standard process metrics of Prometheus client libraries, written by our own writer.',
  },
  processRss: {
    name: 'process_resident_memory_bytes',
    type: 'gauge',
    help: 'Resident set size of this process, bytes.',
    labels: [],
    source: SELF,
  },
  processStart: {
    name: 'process_start_time_seconds',
    type: 'gauge',
    help: 'When this process started, unix seconds.',
    labels: [],
    source: SELF,
  },
  heapUsed: {
    name: 'nodejs_heap_size_used_bytes',
    type: 'gauge',
    help: 'V8 heap in use, bytes.',
    labels: [],
    source: SELF,
  },
  heapTotal: {
    name: 'nodejs_heap_size_total_bytes',
    type: 'gauge',
    help: 'V8 heap reserved, bytes.',
    labels: [],
    source: SELF,
  },
  leaderChanges: {
    name: 'slurm_exporter_leader_changes_total',
    type: 'counter',
    help: 'Times this replica gained or lost leadership.',
    labels: [],
    source: SELF,
  },
};
