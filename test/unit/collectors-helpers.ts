// Shared builders for the collector tests: hand-made model objects mirroring the fixture scenarios, a
// context that records anomalies, and lookups of a family's samples by label values.
import type { CardinalityLimits, CollectContext, Collector } from '../../src/collectors/collector.ts';
import type { MetricFamily } from '../../src/exposition/types.ts';
import type { GresCount, NativeEndpoint, NativeMetrics, ResourceData, SchedulerStats, SlurmJob, SlurmNode, SlurmPartition } from '../../src/slurm/model.ts';
import { readFileSync } from 'node:fs';
import { parseOpenMetrics } from '../../src/slurm/native/openmetrics.ts';
import { toNativeFamilies } from '../../src/slurm/native/units.ts';

export const MB = 1024 * 1024;

export function gres(spec: string): GresCount[] {
  if (!spec) return [];
  return spec.split(',').map((s) => {
    const parts = s.split(':');
    if (parts.length === 2) return { type: parts[0] as string, model: '', count: Number(parts[1]) };
    return { type: parts[0] as string, model: parts[1] as string, count: Number(parts[2]) };
  });
}

export function node(name: string, state: string, flags: string[], o: Partial<SlurmNode> = {}): SlurmNode {
  return {
    name,
    state,
    flags,
    partitions: [],
    cpus: 4,
    allocCpus: state === 'allocated' ? 4 : 0,
    memoryBytes: 4000 * MB,
    allocMemoryBytes: 0,
    freeMemoryBytes: undefined,
    cpuLoad: undefined,
    gres: [],
    gresUsed: [],
    reason: '',
    reasonChangedAt: 0,
    features: [],
    ...o,
  };
}

export function job(jobId: number, state: string, partitions: string[], o: Partial<SlurmJob> = {}): SlurmJob {
  return {
    jobId,
    arrayJobId: 0,
    arrayTaskId: undefined,
    arrayTaskString: '',
    name: `job${jobId}`,
    user: 'ada',
    account: 'physics',
    partitions,
    qos: 'normal',
    state,
    stateFlags: [],
    reason: 'None',
    cpus: 1,
    memoryBytes: 0,
    gpus: 0,
    gres: [],
    nodeCount: 1,
    submitTime: 0,
    eligibleTime: 0,
    startTime: 0,
    endTime: 0,
    timeLimitSeconds: undefined,
    priority: undefined,
    ...o,
  };
}

export function partition(name: string, nodes: string[], o: Partial<SlurmPartition> = {}): SlurmPartition {
  return { name, state: 'up', nodes, totalCpus: 0, totalNodes: nodes.length, isDefault: false, maxTimeSeconds: undefined, ...o };
}

export interface TestCtx extends CollectContext {
  anomalies: string[];
}

/** The limits' defaults, as the configuration gives them. */
export const LIMITS: CardinalityLimits = { perNode: true, maxReasonLength: 100, perUser: true, perAccount: true, perQos: true, maxUsers: 200, maxAccounts: 200, jobs: false, maxJobs: 1000 };

export function ctx(data: Partial<ResourceData>, o: Partial<CardinalityLimits> & { now?: number; cluster?: string } = {}): TestCtx {
  const anomalies: string[] = [];
  const { now, cluster, ...limits } = o;
  return {
    cluster: cluster ?? 'lab2',
    data,
    now: now ?? Date.now() / 1000,
    limits: { ...LIMITS, ...limits },
    anomalies,
    anomaly: (what) => anomalies.push(what),
  };
}

export function fam(families: MetricFamily[], name: string): MetricFamily {
  const f = families.find((x) => x.desc.name === name);
  if (!f) throw new Error(`no family ${name} in [${families.map((x) => x.desc.name).join(', ')}]`);
  return f;
}

/** Samples of a family as { 'v1,v2,...' (values after `cluster`) → value }. */
export function byLabels(families: MetricFamily[], name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of fam(families, name).samples) {
    const key = s.values.slice(1).join(',');
    if (key in out) throw new Error(`${name}: duplicate series ${key}`);
    out[key] = s.value;
  }
  return out;
}

/** The value of a family with only the `cluster` label. */
export function scalar(families: MetricFamily[], name: string): number {
  const f = fam(families, name);
  if (f.samples.length !== 1) throw new Error(`${name}: ${f.samples.length} samples, want 1`);
  return (f.samples[0] as { value: number }).value;
}

/** Only the non-zero entries, to compare against an expected table without listing every zero. */
export function nonZero(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== 0));
}

export function run(c: Collector, x: CollectContext): MetricFamily[] {
  return c.collect(x);
}

// The Slurm 25.11 scenario (test/fixtures/slurm-25.11.7/_README.txt), built by hand.
export function lab2Nodes(): SlurmNode[] {
  const gpuNode = { cpus: 4, memoryBytes: 4000 * MB, gres: gres('gpu:fakegpu:2'), features: ['gpu', 'fast'] };
  const big = { cpus: 4, memoryBytes: 8000 * MB };
  return [
    node('n1', 'mixed', ['planned'], { ...gpuNode, allocCpus: 3, allocMemoryBytes: 1500 * MB, gresUsed: gres('gpu:fakegpu:1'), partitions: ['debug', 'gpu'], cpuLoad: 3.21, freeMemoryBytes: 22627 * MB }),
    node('n2', 'mixed', ['planned'], { ...gpuNode, allocCpus: 2, allocMemoryBytes: 1000 * MB, gresUsed: gres('gpu:fakegpu:2'), partitions: ['debug', 'gpu'] }),
    node('n3', 'allocated', [], { ...big, allocCpus: 4, allocMemoryBytes: 4000 * MB, partitions: ['debug', 'long'] }),
    node('n4', 'allocated', ['drain'], { ...big, allocCpus: 4, allocMemoryBytes: 2000 * MB, partitions: ['debug', 'long'], reason: 'bad DIMM slot B2, replace before next job', reasonChangedAt: 1795503000 }),
    node('n5', 'down', ['not_responding'], { ...big, partitions: ['long'], reason: 'PSU failure, ticket #4711', reasonChangedAt: 1795502000 }),
    node('n6', 'idle', [], { ...big, partitions: ['long'] }),
    node('n7', 'idle', ['drain'], { ...big, partitions: ['long'], reason: 'firmware upgrade pending', reasonChangedAt: 1795501000 }),
  ];
}

/** As v0.0.44 gives them: no partition flags, so whether one is the default is unknown (fixture-collectors.test.ts). */
export function lab2Partitions(): SlurmPartition[] {
  return [
    partition('debug', ['n1', 'n2', 'n3', 'n4'], { isDefault: undefined, maxTimeSeconds: 3600, totalCpus: 16 }),
    partition('gpu', ['n1', 'n2'], { isDefault: undefined, totalCpus: 8 }),
    partition('long', ['n3', 'n4', 'n5', 'n6', 'n7'], { isDefault: undefined, totalCpus: 20 }),
  ];
}

export const LAB2_NOW = 1795504000;

export function lab2Jobs(): SlurmJob[] {
  const t = LAB2_NOW - 600;
  return [
    job(1, 'running', ['long'], { cpus: 4, memoryBytes: 4000 * MB, user: 'grace', submitTime: t }),
    job(2, 'running', ['gpu'], { cpus: 1, memoryBytes: 500 * MB, gpus: 1, gres: gres('gpu:fakegpu:1'), submitTime: t }),
    job(3, 'running', ['gpu'], { cpus: 2, memoryBytes: 1000 * MB, gpus: 2, gres: gres('gpu:fakegpu:2'), submitTime: t }),
    job(4, 'running', ['debug'], { cpus: 4, memoryBytes: 2000 * MB, user: 'root', submitTime: t }),
    job(5, 'running', ['debug'], { cpus: 2, memoryBytes: 1000 * MB, user: 'grace', submitTime: t }),
    job(7, 'running', ['debug'], { arrayJobId: 6, arrayTaskId: 1, submitTime: t }),
    job(8, 'running', ['debug'], { arrayJobId: 6, arrayTaskId: 2, submitTime: t }),
    job(9, 'running', ['debug'], { arrayJobId: 6, arrayTaskId: 3, submitTime: t }),
    job(6, 'pending', ['debug'], { arrayJobId: 6, arrayTaskString: '4-8%3', reason: 'JobArrayTaskLimit', submitTime: t }),
    job(10, 'pending', ['gpu'], { reason: 'Priority', gpus: 2, gres: gres('gpu:2'), submitTime: LAB2_NOW - 300 }),
    job(11, 'pending', ['gpu'], { reason: 'Resources', gpus: 2, gres: gres('gpu:2'), submitTime: LAB2_NOW - 200 }),
    job(12, 'pending', ['debug', 'long'], { reason: 'Resources', cpus: 16, submitTime: LAB2_NOW - 100 }),
    job(13, 'pending', ['debug'], { reason: 'JobHeldUser', submitTime: LAB2_NOW - 50 }),
    job(14, 'pending', ['debug'], { reason: 'JobHeldAdmin', submitTime: LAB2_NOW - 50 }),
    job(15, 'pending', ['debug'], { reason: 'Dependency', submitTime: LAB2_NOW - 50 }),
    job(16, 'pending', ['debug'], { reason: 'PartitionTimeLimit', submitTime: LAB2_NOW - 50 }),
    job(17, 'pending', ['long'], { reason: 'ReqNodeNotAvail', submitTime: LAB2_NOW - 50 }),
    job(18, 'pending', ['debug'], { reason: 'BeginTime', submitTime: LAB2_NOW - 50 }),
    job(19, 'failed', ['debug'], { reason: 'NonZeroExitCode' }),
    job(20, 'completed', ['debug'], { stateFlags: [] }),
    job(21, 'cancelled', ['debug']),
    job(22, 'timeout', ['debug']),
  ];
}

// rest_v0.0.44_slurm_diag.json of the 25.11 lab, converted to base units by hand.
export function lab2Diag(): SchedulerStats {
  return {
    serverThreadCount: 1,
    agentQueueSize: 0,
    agentCount: 0,
    agentThreadCount: 0,
    dbdAgentQueueSize: 0,
    jobsSubmitted: 0,
    jobsStarted: 0,
    jobsCompleted: 0,
    jobsCanceled: 0,
    jobsFailed: 0,
    jobsPending: 14,
    jobsRunning: 8,
    scheduleCycleLastSeconds: 0.000299,
    scheduleCycleMaxSeconds: 0.000937,
    scheduleCycleMeanSeconds: 0.000495,
    scheduleCycleTotal: 3,
    scheduleCycleDepthMean: 4,
    scheduleCyclePerMinute: 3,
    scheduleQueueLength: 4,
    backfillActive: false,
    backfillJobsTotal: 0,
    backfillJobsSinceReset: 0,
    backfillHeterogeneousJobsTotal: 0,
    backfillCycleTotal: 3,
    backfillCycleLastSeconds: 0.000832,
    backfillCycleMaxSeconds: 0.001567,
    backfillCycleMeanSeconds: 0.001285,
    backfillLastDepth: 4,
    backfillLastDepthTry: 3,
    backfillDepthMean: 4,
    backfillQueueLength: 4,
    backfillQueueLengthMean: 4,
    backfillTableSize: 4,
    backfillTableSizeMean: 4,
    backfillLastCycleTime: 1795504212,
    statsResetTime: 1795504122,
    rpcByType: [
      { name: 'MESSAGE_NODE_REGISTRATION_STATUS', count: 8, totalTimeSeconds: 0.002706 },
      { name: 'REQUEST_PARTITION_INFO', count: 15, totalTimeSeconds: 0.001932 },
    ],
    rpcByUser: [{ user: 'root', count: 75, totalTimeSeconds: 0.025187 }],
  };
}

/**
 * A family's samples as { 'v1/v2/...' (values after `cluster`) → value }; every sample must carry `cluster`
 * first and no label set may appear twice.
 */
export function seriesOf(out: MetricFamily[], name: string, cluster = 'lab'): Record<string, number> {
  const f = out.find((x) => x.desc.name === name);
  if (!f) throw new Error(`no family ${name}`);
  const r: Record<string, number> = {};
  for (const s of f.samples) {
    if (s.values[0] !== cluster) throw new Error(`${name}: cluster label ${s.values[0]}, expected ${cluster}`);
    const k = s.values.slice(1).join('/');
    if (k in r) throw new Error(`${name}: duplicate ${k}`);
    r[k] = s.value;
  }
  return r;
}

/** slurmctld's own metrics of the same lab2 cluster (test/fixtures/slurm-25.11.7/openmetrics_metrics_*.txt), in the model. */
export function lab2Native(alone = false): NativeMetrics {
  const endpoints: NativeMetrics['endpoints'] = {};
  for (const e of ['jobs', 'nodes', 'partitions', 'scheduler', 'jobs-users-accts'] as NativeEndpoint[]) {
    const text = readFileSync(new URL(`../fixtures/slurm-25.11.7/openmetrics_metrics_${e}.txt`, import.meta.url), 'utf8');
    endpoints[e] = toNativeFamilies(parseOpenMetrics(text, `/metrics/${e}`), { unknown: [] });
  }
  return { endpoints, alone };
}
