// Generates the Grafana dashboards in monitoring/dashboards/ from code, so every panel is built the same way
// (datasource variable, cluster filter, units, thresholds) and the JSON never drifts by hand-editing.
// Usage: node scripts/gen-dashboards.ts [--check]   (--check exits 1 when a committed file is out of date)
//
// Panels query raw metrics only (docs/metrics.md), never recording rules, so the dashboards work on any
// Prometheus that scrapes the exporter. Every Slurm selector carries cluster=~"$cluster"; the exporter's own
// metrics and Prometheus' scrape metrics carry job=~"$job",instance=~"$instance".
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKUP_DEFAULT_SCHEDULES } from '../src/backup/metric-names.ts';

export const DASHBOARD_DIR = fileURLToPath(new URL('../monitoring/dashboards/', import.meta.url));

// ---------------------------------------------------------------------------------------------------------
// Selectors

/** Every Slurm series: the cluster variable. */
const C = 'cluster=~"$cluster"';
/** Slurm series whose partition label is where jobs run or nodes belong. */
const CP = `${C},partition=~"$partition"`;
/** The exporter's own series and Prometheus' scrape series: which targets. */
const T = 'job=~"$job",instance=~"$instance"';

/** `name{cluster=~"$cluster",extra}` */
function s(name: string, extra = ''): string {
  return `${name}{${C}${extra ? `,${extra}` : ''}}`;
}
/** `name{cluster=~"$cluster",partition=~"$partition",extra}` */
function sp(name: string, extra = ''): string {
  return `${name}{${CP}${extra ? `,${extra}` : ''}}`;
}
/** `name{job=~"$job",instance=~"$instance",extra}` */
function st(name: string, extra = ''): string {
  return `${name}{${T}${extra ? `,${extra}` : ''}}`;
}
const RATE = '[$__rate_interval]';
/**
 * The backup metrics (src/backup/metric-names.ts) come from `slurm-exporter backup schedule` or a textfile
 * collector, scraped under their own job: the backup_job variable, not $job/$instance.
 */
const B = 'job=~"$backup_job"';
/** `name{job=~"$backup_job",extra}` */
function sb(name: string, extra = ''): string {
  return `${name}{${B}${extra ? `,${extra}` : ''}}`;
}

// ---------------------------------------------------------------------------------------------------------
// Panel model

const DS = { type: 'prometheus', uid: '${datasource}' } as const;

type Json = Record<string, unknown>;

interface Target {
  expr: string;
  legend?: string;
  /** Table panels: one column per target; names the value column. */
  column?: string;
  /** Table panels: the column's unit when it differs from the panel's. */
  columnUnit?: string;
}

type Step = [color: string, value: number];

interface PanelSpec {
  kind: 'timeseries' | 'stat' | 'bargauge' | 'table';
  title: string;
  description: string;
  unit: string;
  targets: Target[];
  w: number;
  h?: number;
  /** Threshold steps above the base colour (green unless `base` says otherwise). */
  thresholds?: Step[];
  base?: string;
  min?: number;
  max?: number;
  decimals?: number;
  stack?: boolean;
  /** Minimum query interval (Grafana's "Min interval"): widens $__rate_interval for sparse counters. */
  interval?: string;
  /** Value → text (and colour) mappings, e.g. 1 → up. */
  mappings?: Record<string, [text: string, color: string]>;
  /** Table panels: label columns to hide. */
  hide?: string[];
}

interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  variables: Json[];
  rows: RowSpec[];
}

const ts = (title: string, unit: string, w: number, description: string, targets: Target[], o: Partial<PanelSpec> = {}): PanelSpec => ({
  kind: 'timeseries', title, unit, w, description, targets, ...o,
});
const stat = (title: string, unit: string, w: number, description: string, targets: Target[], o: Partial<PanelSpec> = {}): PanelSpec => ({
  kind: 'stat', title, unit, w, h: 4, description, targets, ...o,
});
const bars = (title: string, unit: string, w: number, description: string, targets: Target[], o: Partial<PanelSpec> = {}): PanelSpec => ({
  kind: 'bargauge', title, unit, w, description, targets, ...o,
});
const table = (title: string, unit: string, w: number, description: string, targets: Target[], o: Partial<PanelSpec> = {}): PanelSpec => ({
  kind: 'table', title, unit, w, description, targets, ...o,
});

const UP_DOWN: Record<string, [string, string]> = { '0': ['down', 'red'], '1': ['up', 'green'] };

function thresholds(p: PanelSpec): Json {
  return {
    mode: 'absolute',
    steps: [{ color: p.base ?? 'green', value: null }, ...(p.thresholds ?? []).map(([color, value]) => ({ color, value }))],
  };
}

function mappings(p: PanelSpec): Json[] {
  if (!p.mappings) return [];
  const options: Json = {};
  let index = 0;
  for (const [value, [text, color]] of Object.entries(p.mappings)) options[value] = { text, color, index: index++ };
  return [{ type: 'value', options }];
}

function refId(i: number): string {
  return String.fromCharCode(65 + i);
}

function target(t: Target, i: number, p: PanelSpec): Json {
  const instant = p.kind !== 'timeseries';
  return {
    datasource: DS,
    editorMode: 'code',
    expr: t.expr,
    ...(p.kind === 'table' ? { format: 'table' } : {}),
    instant,
    legendFormat: t.legend ?? '__auto',
    range: !instant,
    refId: refId(i),
  };
}

function panelJson(p: PanelSpec, id: number, gridPos: Json): Json {
  const defaults: Json = {
    unit: p.unit,
    ...(p.min !== undefined ? { min: p.min } : {}),
    ...(p.max !== undefined ? { max: p.max } : {}),
    ...(p.decimals !== undefined ? { decimals: p.decimals } : {}),
    color: { mode: p.kind === 'timeseries' ? 'palette-classic' : 'thresholds' },
    thresholds: thresholds(p),
    mappings: mappings(p),
  };
  let options: Json;
  const overrides: Json[] = [];
  const transformations: Json[] = [];
  switch (p.kind) {
    case 'timeseries':
      defaults.custom = {
        drawStyle: 'line',
        lineWidth: 1,
        fillOpacity: p.stack ? 40 : 10,
        gradientMode: 'none',
        showPoints: 'never',
        spanNulls: false,
        axisPlacement: 'auto',
        axisSoftMin: 0,
        stacking: { mode: p.stack ? 'normal' : 'none', group: 'A' },
        thresholdsStyle: { mode: p.thresholds?.length ? 'dashed' : 'off' },
      };
      options = {
        // Short panels: a one-line legend below; others: a table with the last and highest value.
        legend: (p.h ?? 8) < 8
          ? { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] }
          : { displayMode: 'table', placement: 'right', showLegend: true, calcs: ['lastNotNull', 'max'] },
        tooltip: { mode: 'multi', sort: 'desc' },
      };
      break;
    case 'stat':
      options = {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'value',
        graphMode: 'none',
        justifyMode: 'auto',
        orientation: 'auto',
        textMode: 'auto',
        wideLayout: true,
        showPercentChange: false,
        percentChangeColorMode: 'standard',
      };
      break;
    case 'bargauge':
      options = {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        displayMode: 'gradient',
        orientation: 'horizontal',
        showUnfilled: true,
        valueMode: 'color',
        namePlacement: 'auto',
        sizing: 'auto',
        minVizHeight: 16,
        minVizWidth: 8,
        maxVizHeight: 300,
        legend: { showLegend: false, displayMode: 'list', placement: 'bottom', calcs: [] },
      };
      break;
    case 'table': {
      options = { showHeader: true, cellHeight: 'sm', frameIndex: 0 };
      const excludeByName: Json = { Time: true, __name__: true, job: true, instance: true };
      for (const h of p.hide ?? []) excludeByName[h] = true;
      const renameByName: Json = {};
      p.targets.forEach((t, i) => {
        const field = `Value #${refId(i)}`;
        if (t.column === undefined) excludeByName[field] = true;
        else renameByName[field] = t.column;
        if (t.columnUnit) overrides.push({ matcher: { id: 'byName', options: t.column ?? field }, properties: [{ id: 'unit', value: t.columnUnit }] });
      });
      transformations.push({ id: 'merge', options: {} }, { id: 'organize', options: { excludeByName, indexByName: {}, renameByName } });
      break;
    }
  }
  return {
    id,
    type: p.kind,
    title: p.title,
    description: p.description,
    datasource: DS,
    gridPos,
    ...(p.interval ? { interval: p.interval } : {}),
    fieldConfig: { defaults, overrides },
    options,
    targets: p.targets.map((t, i) => target(t, i, p)),
    ...(transformations.length ? { transformations } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Variables

function datasourceVariable(): Json {
  return {
    // "default" is Grafana's default data source until a user picks a Prometheus.
    current: { selected: false, text: 'default', value: 'default' },
    hide: 0,
    includeAll: false,
    label: 'Data source',
    multi: false,
    name: 'datasource',
    options: [],
    query: 'prometheus',
    refresh: 1,
    regex: '',
    skipUrlSync: false,
    type: 'datasource',
  };
}

function queryVariable(name: string, label: string, query: string, description: string): Json {
  return {
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    datasource: DS,
    definition: query,
    description,
    hide: 0,
    includeAll: true,
    label,
    multi: true,
    name,
    options: [],
    query,
    refresh: 2,
    regex: '',
    skipUrlSync: false,
    sort: 1,
    type: 'query',
  };
}

const CLUSTER_VAR = queryVariable('cluster', 'Cluster', 'label_values(slurm_nodes, cluster)', 'The Slurm cluster (the exporter\'s cluster label).');
const PARTITION_VAR = queryVariable(
  'partition',
  'Partition',
  'label_values(slurm_partition_state_info{cluster=~"$cluster"}, partition)',
  'Slurm partitions. A node or a pending job in several partitions counts in each.',
);
const JOB_VAR = queryVariable('job', 'Job', 'label_values(slurm_exporter_build_info, job)', 'The Prometheus scrape job of the exporter.');
const BACKUP_JOB_VAR = queryVariable(
  'backup_job',
  'Backup job',
  'label_values(slurm_backup_last_success_timestamp_seconds, job)',
  'The Prometheus scrape job of the backup metrics (slurm-exporter backup schedule, or node_exporter with the textfile collector).',
);
const INSTANCE_VAR = queryVariable(
  'instance',
  'Instance',
  'label_values(slurm_exporter_build_info{job=~"$job"}, instance)',
  'Exporter replicas (every replica, leader and standbys).',
);

// ---------------------------------------------------------------------------------------------------------
// Dashboard assembly

const TAGS = ['slurm', 'hpc'];

function dashboardJson(d: DashboardSpec): Json {
  const panels: Json[] = [];
  let id = 1;
  let y = 0;
  for (const row of d.rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const h = p.h ?? 8;
      if (x + p.w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      panels.push(panelJson(p, id++, { h, w: p.w, x, y }));
      x += p.w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.4.0' },
      { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
      ...[...new Set(d.rows.flatMap((r) => r.panels.map((p) => p.kind)))].sort().map((k) => ({ type: 'panel', id: k, name: k, version: '' })),
    ],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    description: d.description,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [
      { asDropdown: true, icon: 'external link', includeVars: true, keepTime: true, tags: ['slurm'], targetBlank: false, title: 'Slurm dashboards', tooltip: '', type: 'dashboards', url: '' },
    ],
    liveNow: false,
    panels,
    refresh: '1m',
    schemaVersion: 39,
    tags: d.tags,
    templating: { list: d.variables },
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: '',
    title: d.title,
    uid: d.uid,
    version: 1,
    weekStart: '',
  };
}

// ---------------------------------------------------------------------------------------------------------
// The dashboards

function histogramQuantile(q: number): string {
  return `histogram_quantile(${q}, sum by (cluster, partition, le) (rate(${sp('slurm_job_queue_wait_seconds_bucket')}${RATE})))`;
}

const overview: DashboardSpec = {
  uid: 'slurm-cluster-overview',
  title: 'Slurm / Cluster overview',
  description: 'Nodes, CPU, memory and GPU allocation, jobs, queue wait, fairshare, reservations and licenses of Slurm clusters.',
  tags: [...TAGS, 'overview'],
  variables: [datasourceVariable(), CLUSTER_VAR, PARTITION_VAR],
  rows: [
    {
      title: 'Health',
      panels: [
        stat('slurmctld reachable', 'none', 3, 'Whether a slurmctld (primary or backup) answered slurmrestd\'s last ping.', [
          { expr: `min by (cluster) (${s('slurm_up')})`, legend: '{{cluster}}' },
        ], { base: 'red', thresholds: [['green', 1]], mappings: UP_DOWN }),
        stat('Nodes', 'short', 3, 'Nodes slurmctld lists, whatever their state (sinfo -N).', [
          { expr: `sum by (cluster) (${s('slurm_nodes')})`, legend: '{{cluster}}' },
        ]),
        stat('Nodes down', 'short', 3, 'Nodes in base state down, error or unknown: they run nothing and take no jobs.', [
          { expr: `sum by (cluster) (${s('slurm_nodes', 'state=~"down|error|unknown"')})`, legend: '{{cluster}}' },
        ], { thresholds: [['orange', 1]] }),
        stat('Drained / draining', 'short', 3, 'Drained: the drain flag on a node that runs nothing, ready for maintenance. Draining: still running jobs.', [
          { expr: `sum by (cluster) (${s('slurm_nodes_drained')})`, legend: '{{cluster}} drained' },
          { expr: `sum by (cluster) (${s('slurm_nodes_draining')})`, legend: '{{cluster}} draining' },
        ], { thresholds: [['orange', 1]] }),
        stat('CPUs allocated', 'percentunit', 3, 'CPUs allocated to jobs over all CPUs of the listed nodes (sinfo CPUS(A/I/O/T): A / T).', [
          { expr: `sum by (cluster) (${s('slurm_cpus_allocated')}) / sum by (cluster) (${s('slurm_cpus')})`, legend: '{{cluster}}' },
        ], { min: 0, max: 1, decimals: 1 }),
        stat('GPUs allocated', 'percentunit', 3, 'GPUs (GRES gpu, every model) allocated over GPUs configured. No data on a cluster without GPUs.', [
          { expr: `sum by (cluster) (${s('slurm_gpus_allocated')}) / sum by (cluster) (${s('slurm_gpus')})`, legend: '{{cluster}}' },
        ], { min: 0, max: 1, decimals: 1 }),
        stat('Running jobs', 'short', 3, 'Job records in state running (squeue -t R).', [
          { expr: `sum by (cluster) (${s('slurm_jobs', 'state="running"')})`, legend: '{{cluster}}' },
        ]),
        stat('Pending jobs', 'short', 3, 'Job records in state pending (squeue -t PD); a pending array with a task range counts once.', [
          { expr: `sum by (cluster) (${s('slurm_jobs', 'state="pending"')})`, legend: '{{cluster}}' },
        ]),
      ],
    },
    {
      title: 'Nodes',
      panels: [
        ts('Nodes by state', 'short', 12, 'Nodes by base state (idle, mixed, allocated, down, ...). Flags such as drain are in the next panel.', [
          { expr: `sum by (cluster, state) (${s('slurm_nodes')})`, legend: '{{cluster}} {{state}}' },
        ], { stack: true }),
        ts('Nodes by state flag', 'short', 12, 'Nodes carrying a state flag (drain, not_responding, maintenance, reserved, powered_down, ...). A node with several flags counts under each.', [
          { expr: `sum by (cluster, flag) (${s('slurm_nodes_with_flag')})`, legend: '{{cluster}} {{flag}}' },
        ]),
      ],
    },
    {
      title: 'Utilisation',
      panels: [
        ts('CPU allocation', 'percentunit', 8, 'Allocated CPUs, and unallocated CPUs on nodes that cannot take jobs (down, drained, not responding), over all CPUs.', [
          { expr: `sum by (cluster) (${s('slurm_cpus_allocated')}) / sum by (cluster) (${s('slurm_cpus')})`, legend: '{{cluster}} allocated' },
          { expr: `sum by (cluster) (${s('slurm_cpus_unavailable')}) / sum by (cluster) (${s('slurm_cpus')})`, legend: '{{cluster}} unavailable' },
        ], { min: 0, max: 1 }),
        ts('Memory allocation', 'percentunit', 8, 'Memory allocated to jobs over the configured memory (RealMemory) of all nodes.', [
          { expr: `sum by (cluster) (${s('slurm_memory_allocated_bytes')}) / sum by (cluster) (${s('slurm_memory_bytes')})`, legend: '{{cluster}}' },
        ], { min: 0, max: 1 }),
        ts('GPU allocation by model', 'percentunit', 8, 'Allocated over configured GPUs, per GPU model (the GRES type in gres.conf: a100, h100, ...).', [
          { expr: `sum by (cluster, model) (${s('slurm_gres_allocated', 'type="gpu"')}) / sum by (cluster, model) (${s('slurm_gres', 'type="gpu"')})`, legend: '{{cluster}} {{model}}' },
        ], { min: 0, max: 1 }),
        ts('CPUs', 'short', 12, 'CPUs allocated, idle (on nodes that can take jobs) and unavailable (on down, drained or not responding nodes); they add up to all CPUs, as sinfo\'s CPUS(A/I/O/T).', [
          { expr: `sum by (cluster) (${s('slurm_cpus_allocated')})`, legend: '{{cluster}} allocated' },
          { expr: `sum by (cluster) (${s('slurm_cpus_idle')})`, legend: '{{cluster}} idle' },
          { expr: `sum by (cluster) (${s('slurm_cpus_unavailable')})`, legend: '{{cluster}} unavailable' },
        ], { stack: true }),
        ts('GPUs by model', 'short', 12, 'GPUs configured and allocated per model, and unallocated GPUs on nodes that cannot take jobs: capacity lost to broken or drained nodes.', [
          { expr: `sum by (cluster, model) (${s('slurm_gres', 'type="gpu"')})`, legend: '{{cluster}} {{model}} configured' },
          { expr: `sum by (cluster, model) (${s('slurm_gres_allocated', 'type="gpu"')})`, legend: '{{cluster}} {{model}} allocated' },
          { expr: `sum by (cluster, model) (${s('slurm_cluster_gpus_unavailable')})`, legend: '{{cluster}} {{model}} unavailable' },
        ]),
      ],
    },
    {
      title: 'Jobs and queue wait',
      panels: [
        ts('Jobs by state', 'short', 12, 'Job records by base state; finished ones stay listed for MinJobAge (default 300 s) after they end.', [
          { expr: `sum by (cluster, state) (${s('slurm_jobs')})`, legend: '{{cluster}} {{state}}' },
        ]),
        ts('Pending wait since submission', 's', 12, 'How long the longest-waiting pending job has waited, and the mean wait of pending jobs, since submission (held jobs and jobs waiting for their begin time included).', [
          { expr: `max by (cluster) (${s('slurm_jobs_pending_oldest_wait_seconds')})`, legend: '{{cluster}} longest' },
          { expr: `sum by (cluster) (${s('slurm_jobs_pending_wait_seconds')}) / sum by (cluster) (${s('slurm_jobs_pending_waiting')})`, legend: '{{cluster}} mean' },
        ]),
        ts('Queue wait of started jobs by partition', 's', 12, 'Quantiles of the time jobs waited from becoming eligible to starting, over the jobs that started in each interval (histogram slurm_job_queue_wait_seconds). Gaps mean no job started.', [
          { expr: histogramQuantile(0.5), legend: '{{cluster}} {{partition}} p50' },
          { expr: histogramQuantile(0.9), legend: '{{cluster}} {{partition}} p90' },
          { expr: histogramQuantile(0.99), legend: '{{cluster}} {{partition}} p99' },
        ], { interval: '5m' }),
        ts('Job starts by partition', 'suffix:jobs/h', 12, 'Jobs started per hour, by the partition they run in (the observations of the queue-wait histogram).', [
          { expr: `sum by (cluster, partition) (rate(${sp('slurm_job_queue_wait_seconds_count')}${RATE})) * 3600`, legend: '{{cluster}} {{partition}}' },
        ], { interval: '5m' }),
      ],
    },
    {
      title: 'Fairshare',
      panels: [
        bars('Lowest fairshare factor (users)', 'none', 8, 'The ten user associations with the lowest fairshare factor (sshare FairShare, 0..1; 1 is the most under-served): the heaviest users relative to their shares.', [
          { expr: `bottomk by (cluster) (10, ${s('slurm_user_fairshare_factor')})`, legend: '{{user}} ({{account}})' },
        ], { min: 0, max: 1, decimals: 3, base: 'red', thresholds: [['orange', 0.25], ['green', 0.5]] }),
        bars('Top accounts by usage', 'percentunit', 8, 'The ten accounts with the largest share of the cluster\'s decayed usage (sshare NormUsage).', [
          { expr: `topk by (cluster) (10, ${s('slurm_account_normalized_usage')})`, legend: '{{account}}' },
        ], { min: 0, max: 1 }),
        ts('Account LevelFS', 'none', 8, 'Fair Tree\'s LevelFS per account: normalized shares over effective usage. Above 1 the account used less than its share, below 1 more.', [
          { expr: `${s('slurm_account_level_fairshare')}`, legend: '{{cluster}} {{account}}' },
        ], { thresholds: [['orange', 1]] }),
      ],
    },
    {
      title: 'Reservations and licenses',
      panels: [
        table('Reservations', 'short', 14, 'Advance reservations (scontrol show reservation): flags, partition, size, whether in effect, nodes on which jobs hold CPUs now, start and end.', [
          { expr: `${s('slurm_reservation_info')}` },
          { expr: `${s('slurm_reservation_nodes')}`, column: 'Nodes' },
          { expr: `${s('slurm_reservation_cores')}`, column: 'Cores' },
          { expr: `${s('slurm_reservation_nodes_in_use')}`, column: 'Nodes in use' },
          { expr: `${s('slurm_reservation_active')}`, column: 'Active' },
          { expr: `${s('slurm_reservation_start_timestamp_seconds')} * 1000`, column: 'Starts', columnUnit: 'dateTimeAsIso' },
          { expr: `${s('slurm_reservation_end_timestamp_seconds')} * 1000`, column: 'Ends', columnUnit: 'dateTimeAsIso' },
        ]),
        ts('Reservation nodes by state', 'short', 10, 'Nodes of each reservation by base state. Jobs still running on a maint reservation\'s nodes when it starts show as allocated or mixed.', [
          { expr: `sum by (cluster, reservation, state) (${s('slurm_reservation_nodes_by_state')})`, legend: '{{reservation}} {{state}}' },
        ], { stack: true }),
        bars('Licenses in use', 'percentunit', 12, 'Licenses held by running jobs over licenses configured (scontrol show licenses). At 100 % jobs that need one pend with reason Licenses.', [
          { expr: `${s('slurm_license_used')} / ${s('slurm_license_configured')}`, legend: '{{cluster}} {{license}}' },
        ], { min: 0, max: 1, thresholds: [['orange', 0.9], ['red', 1]] }),
        ts('Licenses', 'short', 12, 'Licenses used by running jobs, reserved by reservations, and free for new jobs.', [
          { expr: `${s('slurm_license_used')}`, legend: '{{license}} used' },
          { expr: `${s('slurm_license_reserved')}`, legend: '{{license}} reserved' },
          { expr: `${s('slurm_license_free')}`, legend: '{{license}} free' },
        ]),
      ],
    },
  ],
};

function topAccounts(metric: string, extra = ''): string {
  return `topk by (cluster) (10, sum by (cluster, account) (${s(metric, extra)}))`;
}
function topUsers(metric: string, extra = ''): string {
  return `topk by (cluster) (10, sum by (cluster, user) (${s(metric, extra)}))`;
}

const partitionsJobs: DashboardSpec = {
  uid: 'slurm-partitions-jobs',
  title: 'Slurm / Partitions and jobs',
  description: 'Per partition: state, nodes, CPUs, GPUs, running and pending jobs, pending reasons, finished jobs; per account, user and QOS: jobs, CPUs and GPUs.',
  tags: [...TAGS, 'partitions', 'jobs'],
  variables: [datasourceVariable(), CLUSTER_VAR, PARTITION_VAR],
  rows: [
    {
      title: 'Partitions',
      panels: [
        table('Partitions', 'short', 24, 'One row per partition: state (up, down, drain, inactive), default partition, nodes, CPUs allocated of total, GPUs, running and pending jobs, longest time limit. Nodes in several partitions count in each.', [
          { expr: `${sp('slurm_partition_state_info')}` },
          { expr: `${sp('slurm_partition_configured_nodes')}`, column: 'Nodes' },
          { expr: `${sp('slurm_partition_cpus')}`, column: 'CPUs' },
          { expr: `${sp('slurm_partition_cpus_allocated')}`, column: 'CPUs allocated' },
          { expr: `${sp('slurm_partition_cpus_allocated')} / ${sp('slurm_partition_cpus')}`, column: 'CPU allocation', columnUnit: 'percentunit' },
          { expr: `${sp('slurm_partition_gpus')}`, column: 'GPUs' },
          { expr: `${sp('slurm_partition_gpus_allocated')}`, column: 'GPUs allocated' },
          { expr: `sum by (cluster, partition) (${sp('slurm_partition_jobs', 'state="running"')})`, column: 'Running jobs' },
          { expr: `sum by (cluster, partition) (${sp('slurm_partition_jobs', 'state="pending"')})`, column: 'Pending jobs' },
          { expr: `${sp('slurm_partition_max_time_seconds')}`, column: 'MaxTime', columnUnit: 'dtdurations' },
        ], { h: 7 }),
        ts('Nodes by state per partition', 'short', 12, 'Nodes of each partition by base state.', [
          { expr: `sum by (cluster, partition, state) (${sp('slurm_partition_nodes')})`, legend: '{{partition}} {{state}}' },
        ]),
        ts('Nodes with a flag per partition', 'short', 12, 'Nodes of each partition carrying a state flag (drain, not_responding, ...); only flags some node has.', [
          { expr: `sum by (cluster, partition, flag) (${sp('slurm_partition_nodes_with_flag')})`, legend: '{{partition}} {{flag}}' },
        ]),
        ts('CPU allocation per partition', 'percentunit', 8, 'CPUs allocated on the partition\'s nodes (by jobs of any partition) over its CPUs.', [
          { expr: `sum by (cluster, partition) (${sp('slurm_partition_cpus_allocated')}) / sum by (cluster, partition) (${sp('slurm_partition_cpus')})`, legend: '{{cluster}} {{partition}}' },
        ], { min: 0, max: 1 }),
        ts('Memory allocation per partition', 'percentunit', 8, 'Memory allocated on the partition\'s nodes over their configured memory.', [
          { expr: `sum by (cluster, partition) (${sp('slurm_partition_memory_allocated_bytes')}) / sum by (cluster, partition) (${sp('slurm_partition_memory_bytes')})`, legend: '{{cluster}} {{partition}}' },
        ], { min: 0, max: 1 }),
        ts('GPU allocation per partition and model', 'percentunit', 8, 'GPUs allocated on the partition\'s nodes over GPUs configured, per model.', [
          { expr: `sum by (cluster, partition, model) (${sp('slurm_partition_gres_allocated', 'type="gpu"')}) / sum by (cluster, partition, model) (${sp('slurm_partition_gres', 'type="gpu"')})`, legend: '{{partition}} {{model}}' },
        ], { min: 0, max: 1 }),
        ts('GPUs unavailable per partition', 'short', 12, 'Unallocated GPUs on the partition\'s nodes that cannot take jobs (down, drained, not responding), per model.', [
          { expr: `sum by (cluster, partition, model) (${sp('slurm_partition_gpus_unavailable')})`, legend: '{{partition}} {{model}}' },
        ], { thresholds: [['orange', 1]] }),
        ts('CPUs of jobs per partition', 'short', 12, 'CPUs allocated to the partition\'s running jobs, and CPUs requested by its pending jobs (a job pending in several partitions counts in each).', [
          { expr: `sum by (cluster, partition) (${sp('slurm_partition_jobs_cpus_allocated')})`, legend: '{{partition}} running' },
          { expr: `sum by (cluster, partition) (${sp('slurm_partition_jobs_pending_cpus')})`, legend: '{{partition}} pending' },
        ]),
      ],
    },
    {
      title: 'Jobs per partition',
      panels: [
        ts('Running jobs per partition', 'short', 8, 'Running job records of each partition.', [
          { expr: `sum by (cluster, partition) (${sp('slurm_partition_jobs', 'state="running"')})`, legend: '{{cluster}} {{partition}}' },
        ]),
        ts('Pending jobs per partition', 'short', 8, 'Pending job records of each partition; a job submitted to several partitions counts in each.', [
          { expr: `sum by (cluster, partition) (${sp('slurm_partition_jobs', 'state="pending"')})`, legend: '{{cluster}} {{partition}}' },
        ]),
        ts('Pending jobs per partition and reason', 'short', 8, 'Pending job records of each partition by the reason Slurm gives (Resources, Priority, Dependency, ...).', [
          { expr: `sum by (cluster, partition, reason) (${sp('slurm_partition_jobs_pending')})`, legend: '{{partition}} {{reason}}' },
        ]),
        ts('GPUs of jobs per partition and model', 'short', 12, 'GPUs held by the partition\'s running jobs and asked for by its pending jobs, per model ("unspecified" when the job names none).', [
          { expr: `sum by (cluster, partition, model) (${sp('slurm_partition_jobs_gres_allocated', 'type="gpu"')})`, legend: '{{partition}} {{model}} running' },
          { expr: `sum by (cluster, partition, model) (${sp('slurm_partition_jobs_pending_gres', 'type="gpu"')})`, legend: '{{partition}} {{model}} pending' },
        ]),
        ts('Pending wait per partition', 's', 12, 'Longest and mean wait since submission of the partition\'s pending jobs.', [
          { expr: `max by (cluster, partition) (${sp('slurm_partition_jobs_pending_oldest_wait_seconds')})`, legend: '{{partition}} longest' },
          { expr: `sum by (cluster, partition) (${sp('slurm_partition_jobs_pending_wait_seconds')}) / sum by (cluster, partition) (${sp('slurm_partition_jobs_pending_waiting')})`, legend: '{{partition}} mean' },
        ]),
        ts('Finished jobs by end state', 'suffix:jobs/h', 12, 'Jobs that ended, per hour, by end state (completed, failed, timeout, out_of_memory, node_fail, cancelled, ...), each job counted once.', [
          { expr: `sum by (cluster, state) (rate(${sp('slurm_jobs_finished_total')}${RATE})) * 3600`, legend: '{{cluster}} {{state}}' },
        ], { stack: true }),
        ts('Jobs that did not complete, per partition', 'percentunit', 12, 'Share of the jobs that ended in another state than completed (failed, timeout, out_of_memory, node_fail, cancelled, ...), per partition. Gaps mean no job ended.', [
          { expr: `sum by (cluster, partition) (rate(${sp('slurm_jobs_finished_total', 'state!="completed"')}${RATE})) / sum by (cluster, partition) (rate(${sp('slurm_jobs_finished_total')}${RATE}))`, legend: '{{cluster}} {{partition}}' },
        ], { min: 0, max: 1, interval: '5m' }),
      ],
    },
    {
      title: 'Pending reasons',
      panels: [
        bars('Pending jobs by reason', 'short', 8, 'Pending job records by the reason Slurm gives now, each job once.', [
          { expr: `sort_desc(sum by (cluster, reason) (${s('slurm_jobs_pending')}))`, legend: '{{reason}}' },
        ]),
        ts('Pending jobs by reason over time', 'short', 16, 'Pending job records by reason. At most 100 reasons are kept; the rarest others count under "other".', [
          { expr: `sum by (cluster, reason) (${s('slurm_jobs_pending')})`, legend: '{{cluster}} {{reason}}' },
        ], { stack: true }),
      ],
    },
    {
      title: 'Accounts',
      panels: [
        bars('Top accounts by allocated CPUs', 'short', 8, 'The ten accounts whose running jobs hold the most CPUs.', [
          { expr: topAccounts('slurm_account_jobs_cpus_allocated'), legend: '{{account}}' },
        ]),
        bars('Top accounts by pending CPUs', 'short', 8, 'The ten accounts whose pending jobs ask for the most CPUs.', [
          { expr: topAccounts('slurm_account_jobs_pending_cpus'), legend: '{{account}}' },
        ]),
        bars('Top accounts by allocated GPUs', 'short', 8, 'The ten accounts whose running jobs hold the most GPUs.', [
          { expr: topAccounts('slurm_account_jobs_gpus_allocated'), legend: '{{account}}' },
        ]),
        ts('Jobs of the top accounts', 'short', 12, 'Running and pending jobs of the ten accounts with the most of each.', [
          { expr: topAccounts('slurm_account_jobs', 'state="running"'), legend: '{{account}} running' },
          { expr: topAccounts('slurm_account_jobs', 'state="pending"'), legend: '{{account}} pending' },
        ]),
        ts('GPUs by account and model', 'short', 12, 'GPUs held by the running jobs of the ten accounts with the most, per model.', [
          { expr: `topk by (cluster) (10, sum by (cluster, account, model) (${s('slurm_account_jobs_gres_allocated', 'type="gpu"')}))`, legend: '{{account}} {{model}}' },
        ]),
      ],
    },
    {
      title: 'Users',
      panels: [
        bars('Top users by allocated CPUs', 'short', 8, 'The ten users whose running jobs hold the most CPUs. Users beyond limits.maxUsers are summed under "other".', [
          { expr: topUsers('slurm_user_jobs_cpus_allocated'), legend: '{{user}}' },
        ]),
        bars('Top users by pending CPUs', 'short', 8, 'The ten users whose pending jobs ask for the most CPUs.', [
          { expr: topUsers('slurm_user_jobs_pending_cpus'), legend: '{{user}}' },
        ]),
        bars('Top users by allocated GPUs', 'short', 8, 'The ten users whose running jobs hold the most GPUs.', [
          { expr: topUsers('slurm_user_jobs_gpus_allocated'), legend: '{{user}}' },
        ]),
        ts('Jobs of the top users', 'short', 12, 'Running and pending jobs of the ten users with the most of each.', [
          { expr: topUsers('slurm_user_jobs', 'state="running"'), legend: '{{user}} running' },
          { expr: topUsers('slurm_user_jobs', 'state="pending"'), legend: '{{user}} pending' },
        ]),
        ts('GPUs by user and model', 'short', 8, 'GPUs held by the running jobs of the ten users with the most, per model.', [
          { expr: `topk by (cluster) (10, sum by (cluster, user, model) (${s('slurm_user_jobs_gres_allocated', 'type="gpu"')}))`, legend: '{{user}} {{model}}' },
        ]),
        stat('Folded under "other"', 'short', 4, 'Users and accounts with jobs beyond limits.maxUsers / limits.maxAccounts, summed under user="other" or account="other".', [
          { expr: `max by (cluster) (${s('slurm_users_folded')})`, legend: '{{cluster}} users' },
          { expr: `max by (cluster) (${s('slurm_accounts_folded')})`, legend: '{{cluster}} accounts' },
        ], { h: 8, thresholds: [['orange', 1]] }),
      ],
    },
    {
      title: 'QOS',
      panels: [
        ts('Jobs by QOS', 'short', 12, 'Running and pending jobs by QOS.', [
          { expr: `sum by (cluster, qos, state) (${s('slurm_qos_jobs')})`, legend: '{{qos}} {{state}}' },
        ]),
        ts('CPUs by QOS', 'short', 12, 'CPUs allocated to running and requested by pending jobs, by QOS.', [
          { expr: `sum by (cluster, qos) (${s('slurm_qos_jobs_cpus_allocated')})`, legend: '{{qos}} allocated' },
          { expr: `sum by (cluster, qos) (${s('slurm_qos_jobs_pending_cpus')})`, legend: '{{qos}} pending' },
        ]),
      ],
    },
  ],
};

const scheduler: DashboardSpec = {
  uid: 'slurm-scheduler',
  title: 'Slurm / Scheduler and slurmdbd',
  description: 'slurmctld\'s main and backfill scheduler, queues, agents and RPCs (sdiag), controller reachability, and slurmdbd (sacctmgr show stats, ping).',
  tags: [...TAGS, 'scheduler', 'slurmdbd'],
  variables: [datasourceVariable(), CLUSTER_VAR],
  rows: [
    {
      title: 'Controllers',
      panels: [
        stat('slurmctld reachable', 'none', 4, 'Whether a slurmctld answered slurmrestd\'s last ping.', [
          { expr: `min by (cluster) (${s('slurm_up')})`, legend: '{{cluster}}' },
        ], { base: 'red', thresholds: [['green', 1]], mappings: UP_DOWN }),
        stat('Controllers', 'none', 8, 'Each slurmctld (primary and backups, scontrol ping).', [
          { expr: `${s('slurm_controller_up')}`, legend: '{{hostname}} ({{mode}})' },
        ], { base: 'red', thresholds: [['green', 1]], mappings: UP_DOWN }),
        ts('Controller ping', 's', 12, 'Round-trip time of slurmrestd\'s ping to each slurmctld.', [
          { expr: `${s('slurm_controller_ping_seconds')}`, legend: '{{cluster}} {{hostname}} ({{mode}})' },
        ], { h: 4 }),
      ],
    },
    {
      title: 'Main scheduler',
      panels: [
        ts('Main scheduler cycle', 's', 8, 'Duration of the last main scheduling cycle, and mean and longest since the statistics reset (sdiag).', [
          { expr: `${s('slurm_scheduler_cycle_last_seconds')}`, legend: '{{cluster}} last' },
          { expr: `${s('slurm_scheduler_cycle_mean_seconds')}`, legend: '{{cluster}} mean' },
          { expr: `${s('slurm_scheduler_cycle_max_seconds')}`, legend: '{{cluster}} max' },
        ]),
        ts('Main scheduler cycles per minute', 'short', 8, 'Cycles per minute as sdiag reports it, and as counted from the cycle counter.', [
          { expr: `${s('slurm_scheduler_cycles_per_minute')}`, legend: '{{cluster}} sdiag' },
          { expr: `rate(${s('slurm_scheduler_cycles_total')}${RATE}) * 60`, legend: '{{cluster}} counted' },
        ]),
        ts('Queue lengths', 'short', 8, 'Jobs in the main scheduler\'s and the backfill scheduler\'s queues at their last cycle, and pending jobs as slurmctld counts them.', [
          { expr: `${s('slurm_scheduler_queue_length')}`, legend: '{{cluster}} main queue' },
          { expr: `${s('slurm_backfill_queue_length')}`, legend: '{{cluster}} backfill queue' },
          { expr: `${s('slurm_backfill_queue_length_mean')}`, legend: '{{cluster}} backfill queue (mean)' },
          { expr: `${s('slurm_scheduler_jobs_pending')}`, legend: '{{cluster}} pending' },
        ]),
      ],
    },
    {
      title: 'Backfill scheduler',
      panels: [
        ts('Backfill cycle', 's', 8, 'Duration of the last backfill cycle, and mean and longest since the statistics reset. A cycle near bf_max_time stops early and considers fewer jobs.', [
          { expr: `${s('slurm_backfill_cycle_last_seconds')}`, legend: '{{cluster}} last' },
          { expr: `${s('slurm_backfill_cycle_mean_seconds')}`, legend: '{{cluster}} mean' },
          { expr: `${s('slurm_backfill_cycle_max_seconds')}`, legend: '{{cluster}} max' },
        ]),
        ts('Jobs considered per cycle', 'short', 8, 'Jobs the last backfill cycle considered and tried to start, the backfill mean, and the main scheduler\'s mean depth.', [
          { expr: `${s('slurm_backfill_last_depth')}`, legend: '{{cluster}} backfill last' },
          { expr: `${s('slurm_backfill_last_depth_try')}`, legend: '{{cluster}} backfill last (tried)' },
          { expr: `${s('slurm_backfill_depth_mean')}`, legend: '{{cluster}} backfill mean' },
          { expr: `${s('slurm_scheduler_cycle_depth_mean')}`, legend: '{{cluster}} main mean' },
        ]),
        ts('Jobs started: backfill and all', 'suffix:jobs/h', 8, 'Jobs started per hour by the backfill scheduler, and by any scheduler.', [
          { expr: `rate(${s('slurm_backfill_jobs_total')}${RATE}) * 3600`, legend: '{{cluster}} backfill' },
          { expr: `rate(${s('slurm_scheduler_jobs_started_total')}${RATE}) * 3600`, legend: '{{cluster}} all' },
        ]),
        stat('Since the last backfill cycle', 's', 6, 'Time since the last backfill cycle ran (bf_interval is 30 s by default).', [
          { expr: `time() - ${s('slurm_backfill_last_cycle_timestamp_seconds')}`, legend: '{{cluster}}' },
        ], { thresholds: [['orange', 300]] }),
        stat('Backfill running', 'none', 6, 'Whether a backfill cycle is running now.', [
          { expr: `${s('slurm_backfill_active')}`, legend: '{{cluster}}' },
        ], { mappings: { '0': ['idle', 'text'], '1': ['running', 'blue'] } }),
        ts('Backfill table size', 'short', 12, 'Time slots in the backfill table at the last cycle, and the mean.', [
          { expr: `${s('slurm_backfill_table_size')}`, legend: '{{cluster}} last' },
          { expr: `${s('slurm_backfill_table_size_mean')}`, legend: '{{cluster}} mean' },
        ], { h: 4 }),
      ],
    },
    {
      title: 'Job throughput and agents',
      panels: [
        ts('Jobs submitted, started and ended', 'suffix:jobs/h', 12, 'sdiag\'s job counters per hour (they reset when slurmctld resets its statistics; rate() handles that).', [
          { expr: `rate(${s('slurm_scheduler_jobs_submitted_total')}${RATE}) * 3600`, legend: '{{cluster}} submitted' },
          { expr: `rate(${s('slurm_scheduler_jobs_started_total')}${RATE}) * 3600`, legend: '{{cluster}} started' },
          { expr: `rate(${s('slurm_scheduler_jobs_completed_total')}${RATE}) * 3600`, legend: '{{cluster}} completed' },
          { expr: `rate(${s('slurm_scheduler_jobs_canceled_total')}${RATE}) * 3600`, legend: '{{cluster}} canceled' },
          { expr: `rate(${s('slurm_scheduler_jobs_failed_total')}${RATE}) * 3600`, legend: '{{cluster}} failed' },
        ]),
        ts('Agents and server threads', 'short', 12, 'slurmctld threads serving RPCs, agents and their threads, and outgoing RPCs to slurmd queued in the agent. A steadily high thread count means slurmctld is overloaded.', [
          { expr: `${s('slurm_scheduler_server_threads')}`, legend: '{{cluster}} server threads' },
          { expr: `${s('slurm_scheduler_agent_queue_size')}`, legend: '{{cluster}} agent queue' },
          { expr: `${s('slurm_scheduler_agents')}`, legend: '{{cluster}} agents' },
          { expr: `${s('slurm_scheduler_agent_threads')}`, legend: '{{cluster}} agent threads' },
        ]),
      ],
    },
    {
      title: 'slurmctld RPCs',
      panels: [
        ts('RPCs by message type', 'reqps', 8, 'RPCs slurmctld served per second, the fifteen busiest message types.', [
          { expr: `topk by (cluster) (15, sum by (cluster, rpc) (rate(${s('slurm_rpc_calls_total')}${RATE})))`, legend: '{{rpc}}' },
        ]),
        ts('RPCs by user', 'reqps', 8, 'RPCs slurmctld served per second, the ten busiest users (a user polling squeue in a loop shows here).', [
          { expr: `topk by (cluster) (10, sum by (cluster, user) (rate(${s('slurm_rpc_user_calls_total')}${RATE})))`, legend: '{{user}}' },
        ]),
        bars('Mean time per RPC type', 's', 8, 'Average time slurmctld spent per RPC of each type since the statistics reset (sdiag AVE_TIME), the fifteen slowest.', [
          { expr: `topk by (cluster) (15, ${s('slurm_rpc_duration_seconds_total')} / ${s('slurm_rpc_calls_total')})`, legend: '{{rpc}}' },
        ]),
      ],
    },
    {
      title: 'slurmdbd',
      panels: [
        stat('slurmdbd reachable', 'none', 4, 'Whether slurmdbd answers slurmrestd\'s ping, per slurmdbd host (API v0.0.42 / Slurm 24.05 and later).', [
          { expr: `${s('slurm_slurmdbd_up')}`, legend: '{{host}}' },
        ], { base: 'red', thresholds: [['green', 1]], mappings: UP_DOWN }),
        stat('DBD agent queue', 'short', 4, 'Messages slurmctld has queued for slurmdbd. It grows while slurmdbd is down or slow; once it reaches MaxDBDMsgs slurmctld discards accounting records.', [
          { expr: `${s('slurm_scheduler_dbd_agent_queue_size')}`, legend: '{{cluster}}' },
        ], { thresholds: [['orange', 1000], ['red', 5000]] }),
        stat('Statistics since', 'dateTimeFromNow', 4, 'When slurmdbd\'s and slurmctld\'s RPC statistics were last reset (daemon start or sacctmgr/sdiag reset).', [
          { expr: `${s('slurm_slurmdbd_stats_reset_timestamp_seconds')} * 1000`, legend: '{{cluster}} slurmdbd' },
          { expr: `${s('slurm_scheduler_stats_reset_timestamp_seconds')} * 1000`, legend: '{{cluster}} slurmctld' },
        ]),
        ts('slurmdbd ping', 's', 12, 'Round-trip time of slurmrestd\'s last ping to each slurmdbd host (primary and backup).', [
          { expr: `${s('slurm_slurmdbd_ping_latency_seconds')}`, legend: '{{host}} ping' },
        ], { h: 4 }),
        ts('slurmdbd RPCs by type', 'reqps', 8, 'RPCs slurmdbd served per second, the fifteen busiest types (DBD_JOB_START, DBD_GET_JOBS_COND, ...).', [
          { expr: `topk by (cluster) (15, sum by (cluster, rpc) (rate(${s('slurm_slurmdbd_rpc_calls_total')}${RATE})))`, legend: '{{rpc}}' },
        ]),
        ts('slurmdbd RPCs by user', 'reqps', 8, 'RPCs slurmdbd served per second, the ten busiest users (slurmctld\'s come as SlurmUser; heavy sacct users show here).', [
          { expr: `topk by (cluster) (10, sum by (cluster, user) (rate(${s('slurm_slurmdbd_rpc_user_calls_total')}${RATE})))`, legend: '{{user}}' },
        ]),
        bars('Mean time per slurmdbd RPC type', 's', 8, 'Average time slurmdbd spent per RPC of each type since its statistics reset, the fifteen slowest.', [
          { expr: `topk by (cluster) (15, ${s('slurm_slurmdbd_rpc_duration_seconds_total')} / ${s('slurm_slurmdbd_rpc_calls_total')})`, legend: '{{rpc}}' },
        ]),
      ],
    },
  ],
};

// SLOs of the exporter (production monitoring guide): availability 99.9 % over 24 h, p95 scrape < 5 s,
// error ratio < 1 %. Burn rate = error ratio over a window / the availability error budget (0.001).
const BUDGET = 0.001;
function failedScrapes(window: string): string {
  return `(1 - avg by (instance) (avg_over_time(${st('up')}[${window}])))`;
}
/** Each backup type's default schedule period in seconds, as a vector with a type label (for `/ on (type)`). */
const BACKUP_PERIODS = `(${Object.entries(BACKUP_DEFAULT_SCHEDULES)
  .map(([type, d]) => `label_replace(vector(${d.periodSeconds}), "type", "${type}", "", "")`)
  .join(' or ')})`;
function burnRate(window: string): Target {
  return { expr: `${failedScrapes(window)} / ${BUDGET}`, legend: `{{instance}} ${window}` };
}

const exporterSlo: DashboardSpec = {
  uid: 'slurm-exporter-slo',
  title: 'Slurm exporter / SLO and HA',
  description: 'The exporter\'s service levels (availability 99.9 %, p95 scrape under 5 s, errors under 1 %), error-budget burn, leader election, data age per collector group, series and memory, and the backups.',
  tags: [...TAGS, 'slurm-exporter', 'slo'],
  variables: [datasourceVariable(), JOB_VAR, INSTANCE_VAR, CLUSTER_VAR, BACKUP_JOB_VAR],
  rows: [
    {
      title: 'Service level objectives',
      panels: [
        stat('Availability', 'percentunit', 6, 'Share of scrapes that succeeded over the dashboard\'s time range, all selected replicas (Prometheus\' up). Objective: 99.9 % over 24 h.', [
          { expr: `avg(avg_over_time(${st('up')}[$__range]))`, legend: 'availability' },
        ], { decimals: 3, base: 'red', thresholds: [['green', 0.999]] }),
        stat('p95 scrape duration', 's', 6, '95th percentile of the scrape duration Prometheus measured over the time range, slowest replica. Objective: under 5 s.', [
          { expr: `max(quantile_over_time(0.95, ${st('scrape_duration_seconds')}[$__range]))`, legend: 'p95' },
        ], { decimals: 2, thresholds: [['red', 5]] }),
        stat('Scrape error ratio', 'percentunit', 6, 'Share of /metrics requests the exporter answered with another status than 2xx over the time range. Objective: under 1 %.', [
          { expr: `1 - sum(increase(${st('slurm_exporter_scrapes_total', 'code=~"2.."')}[$__range])) / sum(increase(${st('slurm_exporter_scrapes_total')}[$__range]))`, legend: 'errors' },
        ], { decimals: 3, thresholds: [['red', 0.01]] }),
        stat('Error budget burn (1 h)', 'short', 6, 'Failed scrapes over the last hour divided by the 0.1 % budget: 1 spends the budget exactly in the SLO window; 14.4 pages (2 % of a 30-day budget in an hour).', [
          { expr: `max(${failedScrapes('1h')} / ${BUDGET})`, legend: 'burn rate' },
        ], { decimals: 1, thresholds: [['orange', 6], ['red', 14.4]] }),
        ts('Availability per replica', 'percentunit', 12, 'Share of successful scrapes per replica over a rolling 24 h and 5 min window, against the 99.9 % objective.', [
          { expr: `avg by (instance) (avg_over_time(${st('up')}[24h]))`, legend: '{{instance}} 24h' },
          { expr: `avg by (instance) (avg_over_time(${st('up')}[5m]))`, legend: '{{instance}} 5m' },
        ], { decimals: 3, base: 'red', thresholds: [['green', 0.999]] }),
        ts('p95 scrape duration', 's', 12, '95th percentile over 5 min of the scrape duration as Prometheus measures it (scrape_duration_seconds) and as the exporter served the previous scrape (slurm_exporter_scrape_duration_seconds), against the 5 s objective.', [
          { expr: `quantile_over_time(0.95, ${st('scrape_duration_seconds')}[5m])`, legend: '{{instance}} Prometheus' },
          { expr: `quantile_over_time(0.95, ${st('slurm_exporter_scrape_duration_seconds')}[5m])`, legend: '{{instance}} exporter' },
        ], { thresholds: [['red', 5]] }),
        ts('Error ratio', 'percentunit', 12, 'Share of /metrics requests answered with another status than 2xx, and share of requests to Slurm that failed, over 5 min, against the 1 % objective.', [
          { expr: `1 - sum by (instance) (rate(${st('slurm_exporter_scrapes_total', 'code=~"2.."')}[5m])) / sum by (instance) (rate(${st('slurm_exporter_scrapes_total')}[5m]))`, legend: '{{instance}} scrapes' },
          { expr: `sum by (instance) (rate(${st('slurm_exporter_api_errors_total')}[5m])) / sum by (instance) (rate(${st('slurm_exporter_slurm_requests_total')}[5m]))`, legend: '{{instance}} Slurm requests' },
        ], { thresholds: [['red', 0.01]] }),
        ts('Error budget burn rate', 'short', 12, 'Share of failed scrapes (Prometheus\' up: no answer, timeout or non-2xx) over 5 min, 1 h and 6 h, divided by the 0.1 % error budget. Page when 1 h and 5 min exceed 14.4, open a ticket when 6 h exceeds 6.', [
          burnRate('5m'),
          burnRate('1h'),
          burnRate('6h'),
        ], { thresholds: [['orange', 6], ['red', 14.4]] }),
      ],
    },
    {
      title: 'Failures',
      panels: [
        ts('Poll failures by collector group', 'ops', 8, 'Failed polls and failed collectors per second, by collector group (cluster, nodes, jobs, ...).', [
          { expr: `sum by (instance, collector) (rate(${st('slurm_exporter_errors_total')}${RATE}))`, legend: '{{instance}} {{collector}}' },
        ]),
        ts('Failed Slurm requests by reason', 'reqps', 8, 'Failed requests to slurmrestd per second, by reason (connect, timeout, auth, http, parse, too_large, slurm, version, aborted).', [
          { expr: `sum by (instance, reason) (rate(${st('slurm_exporter_api_errors_total')}${RATE}))`, legend: '{{instance}} {{reason}}' },
        ]),
        ts('Unrecognized values from Slurm', 'short', 8, 'New node or job states and unknown fields the exporter passed through, per collector group, over the last hour. A rise after a Slurm upgrade is worth a look.', [
          { expr: `sum by (instance, collector) (increase(${st('slurm_exporter_anomalies_total')}[1h]))`, legend: '{{instance}} {{collector}}' },
        ]),
      ],
    },
    {
      title: 'High availability',
      panels: [
        stat('Replicas leading', 'short', 4, 'Replicas that poll Slurm. Active-passive: exactly 1; 0 means nobody collects. Without election every replica counts.', [
          { expr: `sum(${st('slurm_exporter_leader')})`, legend: 'leaders' },
        ], { base: 'red', thresholds: [['green', 1]] }),
        stat('Leader per replica', 'none', 8, 'Whether each replica leads (polls Slurm and serves Slurm series) or stands by.', [
          { expr: `max by (instance) (${st('slurm_exporter_leader')})`, legend: '{{instance}}' },
        ], { mappings: { '0': ['standby', 'text'], '1': ['leader', 'green'] } }),
        stat('Leader changes', 'short', 4, 'Times replicas gained or lost leadership over the time range.', [
          { expr: `sum(increase(${st('slurm_exporter_leader_changes_total')}[$__range]))`, legend: 'changes' },
        ], { decimals: 0, thresholds: [['orange', 3]] }),
        stat('Lease renewal age', 's', 8, 'Seconds since the leading replica last renewed its lease (standbys are left out; no data without leader election). Near the renew deadline (10 s by default) it is about to step down.', [
          { expr: `max by (instance) (${st('slurm_exporter_leader_last_renew_age_seconds')} and on (job, instance) (${st('slurm_exporter_leader')} == 1))`, legend: '{{instance}}' },
        ], { decimals: 1, thresholds: [['orange', 5], ['red', 10]] }),
        ts('Leader over time', 'short', 8, 'slurm_exporter_leader per replica: a hand-over shows as one line dropping while another rises.', [
          { expr: `max by (instance) (${st('slurm_exporter_leader')})`, legend: '{{instance}}' },
        ], { min: 0, max: 1 }),
        ts('Lease renewal failures and backend errors', 'short', 8, 'Failed lease renewals while leading, and failed requests to the election backend (Kubernetes API or etcd), over 5 min. No data without leader election.', [
          { expr: `sum by (instance) (increase(${st('slurm_exporter_leader_renew_failures_total')}[5m]))`, legend: '{{instance}} renew failures' },
          { expr: `sum by (instance) (increase(${st('slurm_exporter_leader_backend_errors_total')}[5m]))`, legend: '{{instance}} backend errors' },
        ], { thresholds: [['orange', 1]] }),
        ts('Leader changes over time', 'short', 8, 'Leadership changes per replica over 1 h.', [
          { expr: `sum by (instance) (increase(${st('slurm_exporter_leader_changes_total')}[1h]))`, legend: '{{instance}}' },
        ]),
      ],
    },
    {
      title: 'Collection',
      panels: [
        ts('Data age per collector group', 's', 12, 'Seconds since each collector group last polled Slurm successfully. /ready fails past server.stalenessLimit (5 min, or 3 intervals if longer).', [
          { expr: `max by (instance, collector) (${st('slurm_exporter_collector_staleness_seconds')})`, legend: '{{instance}} {{collector}}' },
        ], { thresholds: [['orange', 180], ['red', 300]] }),
        ts('Poll duration per collector group', 's', 12, 'How long the last poll of each collector group took (fetch and parse).', [
          { expr: `max by (instance, collector) (${st('slurm_exporter_collector_duration_seconds')})`, legend: '{{instance}} {{collector}}' },
        ]),
        stat('Collector groups not served by this Slurm', 'short', 6, 'Collector groups whose data this Slurm does not serve (fairshare before 23.02, slurmdbd not configured, ...): they report nothing and are asked again every interval.', [
          { expr: `count(${st('slurm_exporter_collector_supported')} == 0) or vector(0)`, legend: 'unsupported' },
        ], { h: 8, thresholds: [['orange', 1]] }),
        bars('Collector groups', 'none', 6, 'Per collector group: 1 when this Slurm serves what it reads, 0 when not.', [
          { expr: `min by (collector) (${st('slurm_exporter_collector_supported')})`, legend: '{{collector}}' },
        ], { min: 0, max: 1, base: 'orange', thresholds: [['green', 1]], mappings: { '0': ['not served', 'orange'], '1': ['served', 'green'] } }),
        ts('Last poll succeeded', 'none', 12, 'Whether the last poll of each collector group succeeded (1) or failed (0, the previous data is still served).', [
          { expr: `min by (instance, collector) (${st('slurm_exporter_collector_success')})`, legend: '{{instance}} {{collector}}' },
        ], { min: 0, max: 1 }),
        ts('Requests to Slurm', 'reqps', 12, 'Requests the exporter sent to slurmrestd per second, by resource: the load it puts on slurmctld.', [
          { expr: `sum by (instance, endpoint) (rate(${st('slurm_exporter_slurm_requests_total')}${RATE}))`, legend: '{{instance}} {{endpoint}}' },
        ]),
        ts('Slurm answers received', 'Bps', 12, 'Bytes of slurmrestd answers received per second, by resource.', [
          { expr: `sum by (instance, endpoint) (rate(${st('slurm_exporter_slurm_response_bytes_total')}${RATE}))`, legend: '{{instance}} {{endpoint}}' },
        ]),
      ],
    },
    {
      title: 'Process and series',
      panels: [
        ts('Series per scrape', 'short', 8, 'Samples in each scrape (Prometheus\' scrape_samples_scraped): the exporter\'s cardinality. A jump after a config change (limits.perNode, limits.jobs) or cluster growth shows here.', [
          { expr: `${st('scrape_samples_scraped')}`, legend: '{{instance}}' },
        ]),
        ts('Memory', 'bytes', 8, 'Resident memory of each replica, and the V8 heap in use and reserved.', [
          { expr: `${st('process_resident_memory_bytes')}`, legend: '{{instance}} resident' },
          { expr: `${st('nodejs_heap_size_used_bytes')}`, legend: '{{instance}} heap used' },
          { expr: `${st('nodejs_heap_size_total_bytes')}`, legend: '{{instance}} heap reserved' },
        ]),
        ts('CPU', 'percentunit', 8, 'CPU time used per second (1 = one core).', [
          { expr: `rate(${st('process_cpu_seconds_total')}${RATE})`, legend: '{{instance}}' },
        ]),
        table('Versions', 'short', 16, 'Exporter and Node.js version of each replica, with its uptime.', [
          { expr: `${st('slurm_exporter_build_info')}` },
          { expr: `time() - ${st('process_start_time_seconds')}`, column: 'Uptime', columnUnit: 'dtdurations' },
        ], { h: 6 }),
        table('Slurm', 'short', 8, 'The Slurm release and REST API version the leader talks to, per cluster, and whether slurmctld answers.', [
          { expr: `${s('slurm_info')}` },
          { expr: `min by (cluster) (${s('slurm_up')})`, column: 'slurmctld up' },
        ], { h: 6 }),
      ],
    },
    {
      // The backup tooling's metrics (docs/backup.md); no data until `backup schedule` or the backup CronJobs run.
      title: 'Backups',
      panels: [
        bars('Newest backup age / schedule', 'percentunit', 8, 'Age of the newest backup of each type (oldest destination) divided by its default schedule period: 100 % means the next backup is due; SlurmBackupMissing fires past the period plus a margin (1 h for configuration and deployment, 2 h for monitoring and logs, 1 day for certificates).', [
          { expr: `max by (type) (time() - ${sb('slurm_backup_last_success_timestamp_seconds')}) / on (type) group_left () ${BACKUP_PERIODS}`, legend: '{{type}}' },
        ], { min: 0, max: 2, thresholds: [['orange', 1], ['red', 1.1]] }),
        ts('Newest backup age', 's', 16, 'Seconds since the newest backup of each type was stored and read back, per destination (primary, secondary).', [
          { expr: `time() - max by (type, destination) (${sb('slurm_backup_last_success_timestamp_seconds')})`, legend: '{{type}} {{destination}}' },
        ]),
        stat('Failed backups', 'short', 6, 'Backup runs that failed over the time range, every type.', [
          { expr: `sum(increase(${sb('slurm_backup_jobs_completed_total', 'status="failure"')}[$__range])) or vector(0)`, legend: 'failed' },
        ], { decimals: 0, thresholds: [['red', 1]] }),
        stat('Failed verifications', 'short', 6, 'Runs of backup verify that found a problem over the time range.', [
          { expr: `sum(increase(${sb('slurm_backup_validation_failures_total')}[$__range])) or vector(0)`, legend: 'failed' },
        ], { decimals: 0, thresholds: [['red', 1]] }),
        stat('Passed verifications', 'short', 6, 'Runs of backup verify that passed over the time range (checksums, trial restore, RPO, retention).', [
          { expr: `sum(increase(${sb('slurm_backup_validation_success_total')}[$__range]))`, legend: 'passed' },
        ], { decimals: 0, base: 'orange', thresholds: [['green', 1]] }),
        stat('Lowest destination free space', 'bytes', 6, 'Free space of the fullest local destination (S3 destinations report none). SlurmBackupDestinationFull fires under 1 GiB.', [
          { expr: `min(${sb('slurm_backup_destination_free_bytes')})`, legend: 'free' },
        ], { base: 'red', thresholds: [['orange', 1073741824], ['green', 10737418240]] }),
        ts('Backup runs by type and status', 'short', 12, 'Backup runs per hour by type, success and failure.', [
          { expr: `sum by (type, status) (increase(${sb('slurm_backup_jobs_completed_total')}[1h]))`, legend: '{{type}} {{status}}' },
        ]),
        ts('Verifications', 'short', 12, 'Runs of backup verify per hour that passed and failed.', [
          { expr: `sum(increase(${sb('slurm_backup_validation_success_total')}[1h]))`, legend: 'passed' },
          { expr: `sum(increase(${sb('slurm_backup_validation_failures_total')}[1h]))`, legend: 'failed' },
        ]),
        ts('Backup size', 'bytes', 12, 'Size of the newest backup of each type as stored (compressed, and encrypted when a key is configured).', [
          { expr: `max by (type) (${sb('slurm_backup_size_bytes')})`, legend: '{{type}}' },
        ]),
        ts('Backup duration', 's', 12, 'How long the newest backup run of each type took, collection and uploads included.', [
          { expr: `max by (type) (${sb('slurm_backup_duration_seconds')})`, legend: '{{type}}' },
        ]),
        ts('Destination free space', 'bytes', 24, 'Free bytes at each local destination (statfs). SlurmBackupDestinationFillingUp fires when the 6-hour trend reaches 0 within 4 days.', [
          { expr: `min by (destination) (${sb('slurm_backup_destination_free_bytes')})`, legend: '{{destination}}' },
        ], { base: 'red', thresholds: [['green', 1073741824]] }),
      ],
    },
  ],
};

export const DASHBOARDS: readonly DashboardSpec[] = [overview, partitionsJobs, scheduler, exporterSlo];

/** File name → pretty JSON text, for every dashboard. */
export function renderDashboards(): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of DASHBOARDS) out.set(`${d.uid}.json`, `${JSON.stringify(dashboardJson(d), null, 2)}\n`);
  return out;
}

/** Files that differ from what the generator writes (missing, changed, or not generated at all). */
export function driftedFiles(dir = DASHBOARD_DIR): string[] {
  const want = renderDashboards();
  const out: string[] = [];
  let present: string[] = [];
  try {
    present = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    // missing directory: every file is missing
  }
  for (const [file, text] of want) {
    let current: string | undefined;
    try {
      current = readFileSync(path.join(dir, file), 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== text) out.push(file);
  }
  for (const f of present) if (!want.has(f)) out.push(f);
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const drifted = driftedFiles();
    if (drifted.length) {
      process.stderr.write(`monitoring/dashboards is out of date (${drifted.join(', ')}): run node scripts/gen-dashboards.ts\n`);
      process.exit(1);
    }
  } else {
    mkdirSync(DASHBOARD_DIR, { recursive: true });
    for (const [file, text] of renderDashboards()) {
      writeFileSync(path.join(DASHBOARD_DIR, file), text);
      process.stdout.write(`wrote monitoring/dashboards/${file}\n`);
    }
  }
}
