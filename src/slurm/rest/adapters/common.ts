// What every slurmrestd API version shares: reading numbers that may be plain or {set, infinite, number}
// structs, state words, TRES strings, and the record builders. Version files supply only what differs.
import type {
  Anomalies,
  ClusterInfo,
  ControllerPing,
  GresCount,
  ResourceKind,
  RpcStat,
  RpcUserStat,
  SchedulerStats,
  SlurmJob,
  SlurmNode,
  SlurmPartition,
} from '../../model.ts';
import { gresTotal, parseGres, parseGresItem, splitTopLevel } from './gres.ts';
import { expandHostlist } from './hostlist.ts';
import { JOB_BASE_STATES, JOB_FLAGS_KNOWN, NODE_BASE_STATES, NODE_FLAGS_KNOWN, PARTITION_STATES } from '../../states.ts';

export interface ApiAdapter {
  /** `v0.0.44` */
  version: string;
  /** URL path of a resource (`/slurm/v0.0.44/nodes`), undefined when this version does not serve it. */
  path(kind: ResourceKind): string | undefined;
  /** One element of nodes[]; undefined (and an anomaly) when the record has the wrong shape. */
  node(raw: unknown, a: Anomalies): SlurmNode | undefined;
  /** One element of jobs[]; undefined (and an anomaly) when the record has the wrong shape. */
  job(raw: unknown, a: Anomalies): SlurmJob | undefined;
  partitions(doc: Record<string, unknown>, a: Anomalies): SlurmPartition[];
  diag(doc: Record<string, unknown>, a: Anomalies): SchedulerStats;
  /** From the /ping answer and its meta. */
  cluster(doc: Record<string, unknown>, a: Anomalies): ClusterInfo;
}

export type Rec = Record<string, unknown>;

export function isRecord(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The records of the list `key` of an answer, flat ({"licenses": [...]}) or nested once ({"shares": {"shares":
 * [...]}}), each read by `each`; records it cannot read it skips (and notes).
 */
export function listOf<T>(doc: Rec, key: string, a: Anomalies, each: (raw: unknown, a: Anomalies) => T | undefined): T[] {
  const v = doc[key];
  const list = isRecord(v) ? v[key] : v;
  if (!Array.isArray(list)) {
    note(a, `${key} answer without a ${key} list`);
    return [];
  }
  const out: T[] = [];
  for (const raw of list) {
    const rec = each(raw, a);
    if (rec !== undefined) out.push(rec);
  }
  return out;
}

/** Adds an anomaly once per fetch; the poller counts and logs each distinct text. */
export function note(a: Anomalies, what: string): void {
  if (!a.unknown.includes(what)) a.unknown.push(what);
}

// Slurm's "no value" / "infinite" sentinels when a number is printed plainly (22.05): NO_VAL, INFINITE (32 bit)
// and NO_VAL64/INFINITE64 (which JSON rounds to 2^64).
function isSentinel(n: number): boolean {
  return n === 0xfffffffe || n === 0xffffffff || n >= 2 ** 63;
}

/** A number that may be plain or a {set, infinite, number} struct; undefined when unset, infinite or not a number. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && !isSentinel(v) ? v : undefined;
  if (isRecord(v)) {
    if (v.set === false || v.infinite === true) return undefined;
    return num(v.number);
  }
  return undefined;
}

export function num0(v: unknown): number {
  return num(v) ?? 0;
}

export function isInfinite(v: unknown): boolean {
  if (typeof v === 'number') return v === 0xffffffff || v === 0xfffffffe || v < 0;
  return isRecord(v) && v.infinite === true;
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/** A list that Slurm gives as an array (v0.0.39+) or a comma-separated string (22.05). */
export function strList(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x !== '');
  if (typeof v === 'string') return splitTopLevel(v);
  return [];
}

const MB = 1024 * 1024;

function nonNegative(v: number | undefined): number | undefined {
  return v === undefined || v < 0 ? undefined : v;
}

export function mbToBytes(mb: number | undefined): number | undefined {
  return mb === undefined ? undefined : mb * MB;
}

/** Minutes (time limits) to seconds; unlimited or unset is undefined. */
export function minutesToSeconds(v: unknown): number | undefined {
  const n = num(v);
  return n === undefined || n < 0 ? undefined : n * 60;
}

/** Microseconds (diag timings, ping latency) to seconds. */
export function usToSeconds(v: unknown): number | undefined {
  const n = num(v);
  return n === undefined ? undefined : n / 1e6;
}

// ---- states ------------------------------------------------------------------------------------------------

const NODE_BASE = new Set(NODE_BASE_STATES);
const JOB_BASE = new Set(JOB_BASE_STATES);
const JOB_FLAGS = JOB_FLAGS_KNOWN;
const PARTITION_KNOWN = new Set(PARTITION_STATES);

function words(v: unknown): string[] {
  const list = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  const out: string[] = [];
  for (const w of list) {
    if (typeof w !== 'string') continue;
    const lower = w.trim().toLowerCase();
    // 22.05 (v0.0.38) prints the maintenance flag as MAINT; v0.0.40+ as MAINTENANCE.
    const t = lower === 'maint' ? 'maintenance' : lower;
    if (t !== '' && !out.includes(t)) out.push(t);
  }
  return out;
}

function split(
  list: string[],
  base: ReadonlySet<string>,
  flags: ReadonlySet<string>,
  what: string,
  a: Anomalies,
): { state: string; flags: string[] } {
  let state = list.find((w) => base.has(w));
  // A word that is neither a known base state nor a known flag is most likely a new base state: pass it through.
  state ??= list.find((w) => !flags.has(w));
  for (const w of list) if (!base.has(w) && !flags.has(w)) note(a, `${what} "${w}"`);
  return { state: state ?? 'unknown', flags: list.filter((w) => w !== state) };
}

/** Node state from a base state plus flags, given as one array (v0.0.39+) or a string plus a flag list (22.05). */
export function nodeState(state: unknown, extraFlags: unknown, a: Anomalies): { state: string; flags: string[] } {
  const list = words(state);
  for (const f of words(extraFlags)) if (!list.includes(f)) list.push(f);
  return split(list, NODE_BASE, NODE_FLAGS_KNOWN, 'node state', a);
}

// 22.05 prints one word for a job's state, and a set flag wins over the base state (job_state_string()).
// Where the flag implies the base state, restore it; otherwise the flag stands in as the state.
const IMPLIED_JOB_BASE: Record<string, string> = {
  configuring: 'running',
  resizing: 'running',
  signaling: 'running',
  requeued: 'pending',
  requeue_fed: 'pending',
  requeue_hold: 'pending',
  special_exit: 'pending',
  resv_del_hold: 'pending',
};

export function jobState(state: unknown, a: Anomalies): { state: string; flags: string[] } {
  const list = words(state);
  if (list.length === 1 && JOB_FLAGS.has(list[0] as string)) {
    const flag = list[0] as string;
    return { state: IMPLIED_JOB_BASE[flag] ?? flag, flags: [flag] };
  }
  return split(list, JOB_BASE, JOB_FLAGS, 'job state', a);
}

// ---- TRES ----------------------------------------------------------------------------------------------------

/** `cpu=4,mem=2000M,node=1,billing=4,gres/gpu=1` → map of name → raw value. */
export function parseTres(s: unknown): Map<string, string> {
  const m = new Map<string, string>();
  if (typeof s !== 'string') return m;
  for (const item of s.split(',')) {
    const eq = item.indexOf('=');
    if (eq > 0) m.set(item.slice(0, eq).trim().toLowerCase(), item.slice(eq + 1).trim());
  }
  return m;
}

const MEM_UNITS: Record<string, number> = { k: 1 / 1024, m: 1, g: 1024, t: 1024 ** 2, p: 1024 ** 3 };

/** TRES memory (`500M`, `1G`, `1.50T`, plain = MB) in bytes. */
export function tresMemBytes(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)([kmgtp]?)$/i.exec(v);
  if (!m) return undefined;
  const unit = m[2] ? (MEM_UNITS[m[2].toLowerCase()] ?? 1) : 1;
  return Math.round(Number(m[1]) * unit * MB);
}

// ---- records -------------------------------------------------------------------------------------------------

/** What differs between versions in a node record. */
export interface NodeShape {
  state(r: Rec, a: Anomalies): { state: string; flags: string[] };
  /** Free memory in MB, undefined when not reported. */
  freeMemMb(r: Rec): number | undefined;
}

export function buildNode(raw: unknown, a: Anomalies, shape: NodeShape): SlurmNode | undefined {
  if (!isRecord(raw) || typeof raw.name !== 'string' || raw.name === '') {
    note(a, 'node record without a name (skipped)');
    return undefined;
  }
  const { state, flags } = shape.state(raw, a);
  const load = num(raw.cpu_load);
  return {
    name: raw.name,
    state,
    flags,
    partitions: strList(raw.partitions),
    cpus: num0(raw.cpus),
    allocCpus: num0(raw.alloc_cpus),
    memoryBytes: num0(raw.real_memory) * MB,
    allocMemoryBytes: num0(raw.alloc_memory) * MB,
    // A node that has not reported (down, never registered) carries a negative sentinel (22.05: -2), not a figure.
    freeMemoryBytes: mbToBytes(nonNegative(shape.freeMemMb(raw))),
    cpuLoad: load === undefined ? undefined : load / 100,
    gres: parseGres(raw.gres, (item) => note(a, `node gres "${item}"`)),
    gresUsed: parseGres(raw.gres_used, (item) => note(a, `node gres "${item}"`)),
    reason: str(raw.reason),
    reasonChangedAt: num0(raw.reason_changed_at),
    features: strList(raw.features),
  };
}

// ---- job GRES ----------------------------------------------------------------------------------------------
//
// Where a job's GRES show up, by version and by how it asked (`--gres=gpu:a100:2`, `--gpus-per-node=a100:2`,
// `--gpus=a100:4`, `--gpus-per-task=1`):
//   tres_alloc_str / tres_req_str  `gres/gpu=2` always (when AccountingStorageTRES tracks gres/gpu), plus
//                                   `gres/gpu:a100=2` only when that typed TRES is tracked too: whole-job totals.
//   tres_per_job / _node / _task   what was asked, with the model if one was named: `gres/gpu:a100:4` (23.02+),
//                                   `gres:gpu:tesla:1` (22.05); per node and per task must be multiplied out.
//   gres_detail                     per allocated node, what it got, with the model the node's gres.conf gives
//                                   (`gpu:fakegpu:2(IDX:0-1)`, `mps(CNT:50)`): the only place the model of a job
//                                   that named none appears.
// The TRES totals win for the count; the other fields only say which model the untyped part is.

/** Adds `g` into `list`, merging by type and model. */
function addGres(list: GresCount[], g: GresCount): void {
  if (g.count <= 0) return;
  const same = list.find((o) => o.type === g.type && o.model === g.model);
  if (same) same.count += g.count;
  else list.push({ ...g });
}

/**
 * GRES of a TRES string (`cpu=1,gres/gpu=4,gres/gpu:a100=2`). The untyped `gres/gpu` is the total of the type;
 * typed entries are part of it, so only the rest (4 - 2) stays without a model.
 */
export function tresGres(s: unknown): GresCount[] {
  if (typeof s !== 'string') return [];
  const totals = new Map<string, number>();
  const typed: GresCount[] = [];
  for (const item of s.split(',')) {
    if (!/^\s*gres\//i.test(item)) continue;
    const g = parseGresItem(item);
    if (!g) continue;
    if (g.model === '') totals.set(g.type, (totals.get(g.type) ?? 0) + g.count);
    else addGres(typed, g);
  }
  for (const [type, total] of totals) addGres(typed, { type, model: '', count: total - gresTotal(typed, type) });
  return typed;
}

/** gres_detail (one string per allocated node), summed over nodes; `mps(CNT:50)` is 50 of mps. */
function detailGres(v: unknown): GresCount[] {
  const out: GresCount[] = [];
  if (!Array.isArray(v)) return out;
  for (const perNode of v) {
    if (typeof perNode !== 'string') continue;
    for (const item of splitTopLevel(perNode)) {
      const cnt = /^([^(]*)\(CNT:(\d+)\)$/.exec(item);
      const g = parseGresItem(cnt ? `${cnt[1]}:${cnt[2]}` : item);
      if (g) addGres(out, g);
    }
  }
  return out;
}

/** What the job asked for, whole job: per-job, per-node times nodes, per-task times tasks; per type the first that names it. */
function requestedGres(r: Rec, nodes: number): GresCount[] {
  const times = (s: unknown, n: number): GresCount[] => parseGres(s).map((g) => ({ ...g, count: g.count * Math.max(1, n) }));
  return firstPerType([times(r.tres_per_job, 1), times(r.tres_per_node, nodes), times(r.tres_per_task, num0(r.tasks))]);
}

/** Per type, the counts of the first list that names the type. */
function firstPerType(lists: GresCount[][]): GresCount[] {
  const out: GresCount[] = [];
  for (const list of lists) {
    const fresh = new Set(list.map((g) => g.type).filter((t) => !out.some((o) => o.type === t)));
    for (const g of list) if (fresh.has(g.type)) addGres(out, g);
  }
  return out;
}

/** Moves untyped counts to the models `hints` name beyond what is already typed (gres_detail, then the request). */
function nameModels(list: GresCount[], hints: GresCount[][]): GresCount[] {
  for (const hint of hints) {
    for (const untyped of list.filter((g) => g.model === '')) {
      for (const h of hint) {
        if (h.type !== untyped.type || h.model === '' || untyped.count === 0) continue;
        const known = list.find((g) => g.type === h.type && g.model === h.model)?.count ?? 0;
        const move = Math.min(untyped.count, h.count - known);
        if (move <= 0) continue;
        untyped.count -= move;
        addGres(list, { type: h.type, model: h.model, count: move });
      }
    }
  }
  return list.filter((g) => g.count > 0);
}

/** Whole-job GRES: allocated once the job has an allocation (tres_alloc_str set), else requested. */
export function jobGres(r: Rec, nodes: number): GresCount[] {
  const allocated = str(r.tres_alloc_str) !== '';
  const requested = requestedGres(r, nodes);
  const detail = allocated ? detailGres(r.gres_detail) : [];
  const counts = allocated
    ? firstPerType([tresGres(r.tres_alloc_str), detail, requested])
    : firstPerType([tresGres(r.tres_req_str), requested]);
  return nameModels(counts, [detail, requested]);
}

/**
 * A job id (job_id, array_job_id), plain (22.05) or a {set, infinite, number} struct. An id is never a no-value
 * field: 4294967294 (NO_VAL as a number) is a federated job's id, so any non-negative integer that JSON carries
 * exactly (below 2^53) is one; set:false, or infinite (which no id is), means absent.
 */
function jobIdOf(v: unknown): number | undefined {
  const n = isRecord(v) ? (v.set === false || v.infinite === true ? undefined : v.number) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

export function buildJob(raw: unknown, a: Anomalies, stateOf: (r: Rec, a: Anomalies) => { state: string; flags: string[] }): SlurmJob | undefined {
  const jobId = isRecord(raw) ? jobIdOf(raw.job_id) : undefined;
  if (!isRecord(raw) || jobId === undefined) {
    note(a, 'job record without a job_id (skipped)');
    return undefined;
  }
  const { state, flags } = stateOf(raw, a);
  const cpus = num0(raw.cpus);
  const nodeCount = num0(raw.node_count);
  // Allocated figures once the job has an allocation, else what it asks for.
  const alloc = parseTres(raw.tres_alloc_str);
  const req = parseTres(raw.tres_req_str);
  let memoryBytes = tresMemBytes(alloc.get('mem')) ?? tresMemBytes(req.get('mem'));
  if (memoryBytes === undefined) {
    const perNode = num(raw.memory_per_node);
    const perCpu = num(raw.memory_per_cpu);
    if (perNode !== undefined) memoryBytes = perNode * MB * Math.max(1, nodeCount);
    else if (perCpu !== undefined) memoryBytes = perCpu * MB * cpus;
  }
  const gres = jobGres(raw, nodeCount);
  const arrayTaskString = str(raw.array_task_string);
  return {
    jobId,
    cluster: str(raw.cluster),
    arrayJobId: jobIdOf(raw.array_job_id) ?? 0,
    arrayTaskId: num(raw.array_task_id),
    arrayTaskString,
    name: str(raw.name),
    user: str(raw.user_name),
    account: str(raw.account),
    partitions: str(raw.partition)
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== ''),
    qos: str(raw.qos),
    state,
    stateFlags: flags,
    reason: str(raw.state_reason),
    cpus,
    memoryBytes: memoryBytes ?? 0,
    gpus: gresTotal(gres, 'gpu'),
    gres,
    nodeCount,
    submitTime: num0(raw.submit_time),
    eligibleTime: num0(raw.eligible_time),
    startTime: num0(raw.start_time),
    endTime: num0(raw.end_time),
    timeLimitSeconds: minutesToSeconds(raw.time_limit),
    priority: num(raw.priority),
  };
}

/** What differs between versions in a partition record. */
export interface PartitionShape {
  state(r: Rec): unknown;
  nodes(r: Rec): unknown;
  totalCpus(r: Rec): unknown;
  totalNodes(r: Rec): unknown;
  isDefault(r: Rec): boolean | undefined;
  maxTime(r: Rec): unknown;
}

export function buildPartitions(doc: Rec, a: Anomalies, shape: PartitionShape): SlurmPartition[] {
  const list = doc.partitions;
  if (!Array.isArray(list)) {
    note(a, 'partitions answer without a partitions array');
    return [];
  }
  const out: SlurmPartition[] = [];
  for (const r of list) {
    if (!isRecord(r) || typeof r.name !== 'string' || r.name === '') {
      note(a, 'partition record without a name (skipped)');
      continue;
    }
    const hostlist = str(shape.nodes(r));
    let nodes: string[] = [];
    try {
      nodes = expandHostlist(hostlist);
    } catch (e) {
      note(a, `partition ${r.name} node list: ${(e as Error).message}`);
    }
    const states = words(shape.state(r));
    for (const st of states) if (!PARTITION_KNOWN.has(st)) note(a, `partition state "${st}"`);
    const maxTime = shape.maxTime(r);
    out.push({
      name: r.name,
      state: states[0] ?? 'unknown',
      nodes,
      totalCpus: num0(shape.totalCpus(r)),
      totalNodes: num(shape.totalNodes(r)) ?? nodes.length,
      isDefault: shape.isDefault(r),
      maxTimeSeconds: isInfinite(maxTime) ? undefined : minutesToSeconds(maxTime),
    });
  }
  return out;
}

// ---- diag and ping: field names are the same in every version; only which fields exist differs -------------

export function buildDiag(doc: Rec, a: Anomalies): SchedulerStats {
  const s = doc.statistics;
  if (!isRecord(s)) {
    note(a, 'diag answer without statistics');
  }
  const d: Rec = isRecord(s) ? s : {};
  const rpcByType: RpcStat[] = [];
  if (Array.isArray(d.rpcs_by_message_type)) {
    for (const r of d.rpcs_by_message_type) {
      if (!isRecord(r) || typeof r.message_type !== 'string') continue;
      rpcByType.push({ name: r.message_type, count: num0(r.count), totalTimeSeconds: num0(r.total_time) / 1e6 });
    }
  }
  const rpcByUser: RpcUserStat[] = [];
  if (Array.isArray(d.rpcs_by_user)) {
    for (const r of d.rpcs_by_user) {
      if (!isRecord(r)) continue;
      const user = typeof r.user === 'string' && r.user !== '' ? r.user : str(r.user_id);
      if (user === '') continue;
      rpcByUser.push({ user, count: num0(r.count), totalTimeSeconds: num0(r.total_time) / 1e6 });
    }
  }
  const lastBf = num(d.bf_when_last_cycle);
  const resetAt = num(d.req_time_start);
  return {
    serverThreadCount: num(d.server_thread_count),
    agentQueueSize: num(d.agent_queue_size),
    agentCount: num(d.agent_count),
    agentThreadCount: num(d.agent_thread_count),
    dbdAgentQueueSize: num(d.dbd_agent_queue_size),
    jobsSubmitted: num(d.jobs_submitted),
    jobsStarted: num(d.jobs_started),
    jobsCompleted: num(d.jobs_completed),
    jobsCanceled: num(d.jobs_canceled),
    jobsFailed: num(d.jobs_failed),
    jobsPending: num(d.jobs_pending),
    jobsRunning: num(d.jobs_running),
    scheduleCycleLastSeconds: usToSeconds(d.schedule_cycle_last),
    scheduleCycleMaxSeconds: usToSeconds(d.schedule_cycle_max),
    scheduleCycleMeanSeconds: usToSeconds(d.schedule_cycle_mean),
    scheduleCycleTotal: num(d.schedule_cycle_total),
    scheduleCycleDepthMean: num(d.schedule_cycle_mean_depth),
    scheduleCyclePerMinute: num(d.schedule_cycle_per_minute),
    scheduleQueueLength: num(d.schedule_queue_length),
    backfillActive: typeof d.bf_active === 'boolean' ? d.bf_active : undefined,
    backfillJobsTotal: num(d.bf_backfilled_jobs),
    backfillJobsSinceReset: num(d.bf_last_backfilled_jobs),
    backfillHeterogeneousJobsTotal: num(d.bf_backfilled_het_jobs),
    backfillCycleTotal: num(d.bf_cycle_counter),
    backfillCycleLastSeconds: usToSeconds(d.bf_cycle_last),
    backfillCycleMaxSeconds: usToSeconds(d.bf_cycle_max),
    backfillCycleMeanSeconds: usToSeconds(d.bf_cycle_mean),
    backfillLastDepth: num(d.bf_last_depth),
    backfillLastDepthTry: num(d.bf_last_depth_try),
    backfillDepthMean: num(d.bf_depth_mean),
    backfillQueueLength: num(d.bf_queue_len),
    backfillQueueLengthMean: num(d.bf_queue_len_mean),
    backfillTableSize: num(d.bf_table_size),
    backfillTableSizeMean: num(d.bf_table_size_mean),
    backfillLastCycleTime: lastBf === undefined || lastBf === 0 ? undefined : lastBf,
    statsResetTime: resetAt === undefined || resetAt === 0 ? undefined : resetAt,
    rpcByType,
    rpcByUser,
  };
}

/** Slurm release from meta: `meta.slurm` (v0.0.39+) or `meta.Slurm` (22.05). */
function slurmMeta(doc: Rec): Rec {
  const meta = isRecord(doc.meta) ? doc.meta : {};
  const s = isRecord(meta.slurm) ? meta.slurm : isRecord(meta.Slurm) ? meta.Slurm : {};
  return s;
}

export function slurmRelease(doc: Rec): string {
  const s = slurmMeta(doc);
  if (typeof s.release === 'string' && s.release !== '') return s.release;
  const v = isRecord(s.version) ? s.version : undefined;
  if (v && v.major !== undefined && v.minor !== undefined && v.micro !== undefined) {
    return `${str(v.major)}.${str(v.minor).padStart(2, '0')}.${str(v.micro)}`;
  }
  return '';
}

export function buildCluster(doc: Rec, a: Anomalies, version: string): ClusterInfo {
  const controllers: ControllerPing[] = [];
  if (!Array.isArray(doc.pings)) note(a, 'ping answer without a pings array');
  else {
    for (const p of doc.pings) {
      if (!isRecord(p)) continue;
      // `pinged` since v0.0.39, `ping` in 22.05; `responding` (v0.0.41+) is the authority when present.
      let status = str(p.pinged ?? p.ping).toLowerCase();
      if (p.responding === false) status = 'down';
      else if (p.responding === true && status === '') status = 'up';
      controllers.push({
        hostname: str(p.hostname),
        status: status === '' ? 'unknown' : status,
        mode: str(p.mode).toLowerCase(),
        latencySeconds: usToSeconds(p.latency),
      });
    }
  }
  return {
    controllers,
    slurmVersion: slurmRelease(doc),
    apiVersion: version,
    clusterName: str(slurmMeta(doc).cluster),
  };
}
