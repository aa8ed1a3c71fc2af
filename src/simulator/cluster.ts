// The simulated cluster's evolving state: nodes, partitions, jobs, diag counters. Deterministic for a seed.
// Kept compact (plain objects with numbers and short strings) so 100k jobs cost a few tens of MB; answers
// are rendered from it on demand.

/** Base job states as slurmrestd prints them. */
export type JobBase =
  | 'PENDING'
  | 'RUNNING'
  | 'COMPLETING'
  | 'COMPLETED'
  | 'FAILED'
  | 'CANCELLED'
  | 'TIMEOUT'
  | 'OUT_OF_MEMORY'
  | 'NODE_FAIL';

/** How a GPU job asked: `--gres=gpu[:model]:N` and `--gpus-per-node` per node, `--gpus` for the whole job. */
export type GpuAsk = 'gres' | 'gpus-per-node' | 'gpus';

export interface SimJob {
  id: number;
  name: string;
  user: number;
  /** Partition(s) as slurmrestd prints them; a pending job may name several (`cpu,long`). */
  partition: string;
  state: JobBase;
  /** Extra state flag (REQUEUED on some pending jobs). */
  flag: string;
  reason: string;
  /** CPUs per allocated node (or requested per node while pending). */
  cpusPerNode: number;
  nodeCount: number;
  memPerNodeMb: number;
  gpusPerNode: number;
  /** GPU model the job named (`a100`), '' when it takes any. */
  gpuModel: string;
  gpuAsk: GpuAsk;
  /** Indices of allocated nodes; empty when nothing is allocated. */
  alloc: number[];
  submit: number;
  start: number;
  end: number;
  timeLimitMin: number;
  priority: number;
  exitCode: number;
  /** 0 when not part of an array. */
  arrayJobId: number;
  /** Task id of an array task record; -1 for the pending remainder record or non-array jobs. */
  arrayTaskId: number;
  /** For the pending remainder record: next task to start, last task, max running at once. */
  arrayNext: number;
  arrayLast: number;
  arrayLimit: number;
}

export interface SimNode {
  index: number;
  name: string;
  cpus: number;
  memMb: number;
  gpus: number;
  gpuType: string;
  partitions: string[];
  down: boolean;
  drain: boolean;
  poweredDown: boolean;
  planned: boolean;
  maint: boolean;
  reason: string;
  reasonAt: number;
  allocCpus: number;
  allocMemMb: number;
  allocGpus: number;
  boot: number;
}

export interface SimPartition {
  name: string;
  nodes: number[];
  nodeRange: string;
  isDefault: boolean;
  maxTimeMin: number;
  defaultTimeMin: number;
  priorityTier: number;
}

export interface SimUser {
  name: string;
  uid: number;
  account: string;
}

export interface DiagCounters {
  startTime: number;
  jobsSubmitted: number;
  jobsStarted: number;
  jobsCompleted: number;
  jobsCanceled: number;
  jobsFailed: number;
  scheduleCycleTotal: number;
  scheduleCycleSum: number;
  scheduleCycleLast: number;
  scheduleCycleMax: number;
  bfCycleCounter: number;
  bfCycleSum: number;
  bfCycleLast: number;
  bfCycleMax: number;
  bfBackfilledJobs: number;
  bfDepthSum: number;
  lastBackfill: number;
  serverThreadCount: number;
  rpcCount: number;
}

export interface ClusterCounts {
  nodes: number;
  jobs: number;
  /** By lower-case base state: idle, mixed, allocated, down. */
  nodesByState: Record<string, number>;
  /** By base state plus flags, lower case, joined with '+': `idle+drain`, `mixed+planned`. */
  nodesByFullState: Record<string, number>;
  /** By lower-case base job state. */
  jobsByState: Record<string, number>;
  pendingByReason: Record<string, number>;
  /** Jobs per partition and state; a job naming several partitions counts in each. */
  jobsByPartitionState: Record<string, Record<string, number>>;
  /** Records that belong to an array (tasks and pending remainders). */
  arrayRecords: number;
  cpus: { total: number; alloc: number };
  gpus: { total: number; alloc: number };
  memoryMb: { total: number; alloc: number };
  partitions: Record<string, { nodes: number; cpus: number }>;
  diag: { jobsSubmitted: number; jobsStarted: number; jobsCompleted: number; jobsCanceled: number; jobsFailed: number; scheduleCycleTotal: number; bfCycleCounter: number };
}

/** Small fast PRNG (mulberry32): the same seed gives the same cluster and the same ticks. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ACCOUNTS = ['physics', 'chemistry', 'biology', 'climate', 'astro', 'materials', 'genomics', 'ml', 'cfd', 'finance'];
/** GPU models of the simulated nodes, with GPUs per node. */
export const GPU_MODELS: readonly { model: string; gpus: number }[] = [
  { model: 'h100', gpus: 8 },
  { model: 'a100', gpus: 4 },
  { model: 'l40s', gpus: 4 },
];
/** Models whose typed TRES the simulated slurm.conf accounts (AccountingStorageTRES=gres/gpu,gres/gpu:h100). */
export const TRACKED_GPU_MODELS: ReadonlySet<string> = new Set(['h100']);
const JOB_NAMES = ['train', 'md_run', 'cfd_sim', 'align', 'wrf', 'postproc', 'infer', 'sweep', 'relax', 'assemble', 'bench', 'render'];
const PENDING_REASONS: [string, number][] = [
  ['Priority', 40],
  ['Resources', 25],
  ['Dependency', 10],
  ['JobHeldUser', 4],
  ['JobHeldAdmin', 2],
  ['BeginTime', 4],
  ['ReqNodeNotAvail', 3],
  ['QOSMaxJobsPerUserLimit', 6],
  ['AssocGrpCpuLimit', 4],
  ['PartitionTimeLimit', 2],
];
const NODE_REASONS = ['bad DIMM slot B2, drain for replacement', 'firmware upgrade pending', 'Kernel panic', 'IB link flapping, ticket #4711', 'disk errors on /tmp'];

export function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Compresses sorted indices into a Slurm host list (`node[00001-00004,00007]`). */
export function hostList(names: string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return names[0]!;
  const m = /^(.*?)(\d+)$/.exec(names[0]!);
  if (!m) return names.join(',');
  const prefix = m[1]!;
  const width = m[2]!.length;
  const nums: number[] = [];
  for (const n of names) {
    const mm = /^(.*?)(\d+)$/.exec(n);
    if (!mm || mm[1] !== prefix || mm[2]!.length !== width) return names.join(',');
    nums.push(Number(mm[2]));
  }
  nums.sort((a, b) => a - b);
  const parts: string[] = [];
  let s = nums[0]!;
  let p = s;
  for (let k = 1; k <= nums.length; k++) {
    const n = nums[k];
    if (n === p + 1) {
      p = n;
      continue;
    }
    parts.push(s === p ? pad(s, width) : `${pad(s, width)}-${pad(p, width)}`);
    if (n !== undefined) s = p = n;
  }
  return `${prefix}[${parts.join(',')}]`;
}

export interface ClusterOptions {
  nodes: number;
  jobs: number;
  seed: number;
  clusterName: string;
  /** Distinct users submitting jobs (default 60); the benchmark uses thousands. */
  users?: number;
  /** Accounts the users belong to (default 10). */
  accounts?: number;
  /** Wall clock in seconds, injectable for tests. */
  now?: () => number;
}

/** Account name of account index `a`: the familiar names first, then acct0011, ... */
export function accountName(a: number, accounts: number): string {
  return a < ACCOUNTS.length ? ACCOUNTS[a]! : `acct${pad(a + 1, Math.max(4, String(accounts).length))}`;
}

/**
 * The user of a job, from its id alone (not the random stream), so the same id always has the same user whatever
 * the seed or the tick, and a benchmark can say who owns a job. Squaring a hash skews towards low indices: a few
 * users own many jobs and most own few, as on a real cluster.
 */
export function userOfJob(jobId: number, users: number): number {
  let h = Math.imul(jobId ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  const x = ((h ^ (h >>> 16)) >>> 0) / 4294967296;
  return Math.min(users - 1, Math.floor(x * x * users));
}

export class Cluster {
  readonly name: string;
  readonly nodes: SimNode[] = [];
  readonly partitions: SimPartition[] = [];
  readonly users: SimUser[] = [];
  readonly jobs = new Map<number, SimJob>();
  readonly diag: DiagCounters;
  readonly targetJobs: number;
  readonly licenses = [
    { name: 'matlab', total: 50, used: 0 },
    { name: 'comsol', total: 10, used: 0 },
  ];
  /** Bumped on every change, to tag answers. */
  generation = 0;
  lastUpdate: number;
  private readonly rand: () => number;
  private readonly now: () => number;
  private nextJobId = 1000;
  private readonly partitionByName = new Map<string, SimPartition>();
  /** GPU models the nodes have, for jobs that name one. */
  private gpuModels: string[] = [];

  constructor(o: ClusterOptions) {
    this.name = o.clusterName;
    this.rand = rng(o.seed);
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
    this.targetJobs = o.jobs;
    const t = this.now();
    this.lastUpdate = t;
    this.diag = {
      startTime: t - 86400,
      jobsSubmitted: 0,
      jobsStarted: 0,
      jobsCompleted: 0,
      jobsCanceled: 0,
      jobsFailed: 0,
      scheduleCycleTotal: 1,
      scheduleCycleSum: 800,
      scheduleCycleLast: 800,
      scheduleCycleMax: 800,
      bfCycleCounter: 1,
      bfCycleSum: 2000,
      bfCycleLast: 2000,
      bfCycleMax: 2000,
      bfBackfilledJobs: 0,
      bfDepthSum: 0,
      lastBackfill: t,
      serverThreadCount: 1,
      rpcCount: 0,
    };
    this.addUsers(Math.max(1, o.users ?? 60), Math.max(1, o.accounts ?? ACCOUNTS.length));
    this.buildNodes(o.nodes, t);
    for (let k = 0; k < o.jobs; ) k += this.addInitialJob(t);
    // Draining and maintenance nodes that still run jobs (mixed+drain, allocated+reserved+maint).
    for (const n of this.nodes) {
      if (n.allocCpus === 0 || !this.usable(n)) continue;
      const x = this.rand();
      if (x < 0.015) this.setDrain(n, true, t);
      else if (x < 0.022) n.maint = true;
    }
  }

  /** User u belongs to account u mod accounts, so every account has users and the mapping is stable. */
  private addUsers(users: number, accounts: number): void {
    const width = Math.max(3, String(users).length);
    for (let u = 0; u < users; u++) {
      this.users.push({ name: `user${pad(u + 1, width)}`, uid: 2000 + u, account: accountName(u % accounts, accounts) });
    }
  }

  private pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.rand() * a.length)]!;
  }

  private weighted(a: readonly [string, number][]): string {
    let total = 0;
    for (const [, w] of a) total += w;
    let x = this.rand() * total;
    for (const [v, w] of a) {
      x -= w;
      if (x < 0) return v;
    }
    return a[a.length - 1]![0];
  }

  private buildNodes(n: number, t: number): void {
    const width = Math.max(5, String(n).length);
    const gpuEvery = 10; // ~10 % GPU nodes
    for (let i = 0; i < n; i++) {
      const isGpu = n >= 2 && i % gpuEvery === gpuEvery - 1;
      const big = !isGpu && this.rand() < 0.2;
      const gpu = isGpu ? this.gpuModelOfNode() : undefined;
      const node: SimNode = {
        index: i,
        name: `node${pad(i + 1, width)}`,
        cpus: isGpu ? 64 : big ? 128 : 64,
        memMb: isGpu ? 512000 : big ? 512000 : 256000,
        gpus: gpu?.gpus ?? 0,
        gpuType: gpu?.model ?? '',
        partitions: [],
        down: false,
        drain: false,
        poweredDown: false,
        planned: false,
        maint: false,
        reason: '',
        reasonAt: 0,
        allocCpus: 0,
        allocMemMb: 0,
        allocGpus: 0,
        boot: t - 86400 * 7 - Math.floor(this.rand() * 86400 * 30),
      };
      const x = this.rand();
      // A realistic spread of administrative states; base states follow from the allocation.
      if (x < 0.03) this.setDown(node, true, t);
      else if (x < 0.05) this.setDrain(node, true, t);
      else if (x < 0.065) node.poweredDown = true;
      else if (x < 0.075) node.planned = true;
      else if (x < 0.085) node.maint = true;
      this.nodes.push(node);
    }
    this.gpuModels = [...new Set(this.nodes.filter((x) => x.gpus > 0).map((x) => x.gpuType))];
    const cpuNodes = this.nodes.filter((x) => x.gpus === 0).map((x) => x.index);
    const gpuNodes = this.nodes.filter((x) => x.gpus > 0).map((x) => x.index);
    const debugNodes = cpuNodes.slice(0, Math.max(1, Math.ceil(cpuNodes.length * 0.02)));
    const longNodes = cpuNodes.slice(Math.floor(cpuNodes.length * 0.7));
    this.addPartition('cpu', cpuNodes, true, 2880, 60, 1);
    if (gpuNodes.length) this.addPartition('gpu', gpuNodes, false, 2880, 60, 1);
    this.addPartition('debug', debugNodes, false, 60, 30, 2);
    this.addPartition('long', longNodes, false, 20160, 1440, 1);
  }

  /** Half the GPU nodes h100, the rest a100 and some l40s. */
  private gpuModelOfNode(): { model: string; gpus: number } {
    const x = this.rand();
    return GPU_MODELS[x < 0.5 ? 0 : x < 0.8 ? 1 : 2]!;
  }

  private addPartition(name: string, nodes: number[], isDefault: boolean, maxTimeMin: number, defaultTimeMin: number, tier: number): void {
    if (nodes.length === 0) return;
    const p: SimPartition = { name, nodes, nodeRange: hostList(nodes.map((i) => this.nodes[i]!.name)), isDefault, maxTimeMin, defaultTimeMin, priorityTier: tier };
    this.partitions.push(p);
    this.partitionByName.set(name, p);
    for (const i of nodes) this.nodes[i]!.partitions.push(name);
  }

  private setDown(node: SimNode, down: boolean, t: number): void {
    node.down = down;
    node.reason = down ? (this.rand() < 0.5 ? 'Not responding' : 'PSU failure, ticket #4711') : node.drain ? node.reason : '';
    node.reasonAt = down ? t : node.reasonAt;
  }

  private setDrain(node: SimNode, drain: boolean, t: number): void {
    node.drain = drain;
    node.reason = drain ? this.pick(NODE_REASONS) : node.down ? node.reason : '';
    node.reasonAt = drain ? t : node.reasonAt;
  }

  /** Whether the scheduler may start new work on a node. */
  private usable(n: SimNode): boolean {
    return !n.down && !n.drain && !n.poweredDown && !n.maint;
  }

  /** Base state as slurmrestd prints it (upper case). */
  static baseState(n: SimNode): string {
    if (n.down) return 'DOWN';
    if (n.allocCpus === 0) return 'IDLE';
    return n.allocCpus >= n.cpus ? 'ALLOCATED' : 'MIXED';
  }

  static nodeFlags(n: SimNode): string[] {
    const f: string[] = [];
    if (n.maint) f.push('RESERVED', 'MAINT');
    if (n.drain) f.push('DRAIN');
    if (n.down) f.push('NOT_RESPONDING');
    if (n.poweredDown) f.push('POWERED_DOWN');
    if (n.planned) f.push('PLANNED');
    return f;
  }

  /** What a GPU job asks for: 4 in 10 with --gres, 3 with --gpus-per-node, 3 with --gpus; most name a model. */
  private gpuRequest(): { perNode: number; model: string; ask: GpuAsk; nodes: number } {
    const ask = this.weighted([['gres', 4], ['gpus-per-node', 3], ['gpus', 3]]) as GpuAsk;
    const model = this.rand() < 0.6 ? this.pick(this.gpuModels) : '';
    // Only --gpus-per-node jobs span nodes here, so the per-node count must be multiplied out.
    const nodes = ask === 'gpus-per-node' && this.rand() < 0.2 ? 2 : 1;
    return { perNode: this.pick([1, 2, 4]), model, ask, nodes };
  }

  private newJob(t: number, state: JobBase): SimJob {
    const id = this.nextJobId++;
    const wantsGpu = this.partitionByName.has('gpu') && this.rand() < 0.12;
    const gpu = wantsGpu ? this.gpuRequest() : undefined;
    const r = this.rand();
    let partition = wantsGpu ? 'gpu' : r < 0.05 ? 'debug' : r < 0.15 ? 'long' : 'cpu';
    if (!this.partitionByName.has(partition)) partition = 'cpu';
    const whole = this.rand() < 0.04;
    const multi = !wantsGpu && this.rand() < 0.05;
    // Sizes chosen so a v0.0.44 record averages ~9.3 KB like the real one (each allocated core is listed).
    const cpus = whole ? 64 : this.pick([1, 1, 2, 2, 4, 4, 8, 8, 16, 32]);
    const timeLimitMin = this.pick([30, 60, 120, 240, 720, 1440]);
    const submit = t - Math.floor(this.rand() * 3600 * 6);
    return {
      id,
      name: this.pick(JOB_NAMES),
      user: userOfJob(id, this.users.length),
      partition,
      state,
      flag: '',
      reason: 'None',
      cpusPerNode: cpus,
      nodeCount: multi ? 2 + Math.floor(this.rand() * 3) : (gpu?.nodes ?? 1),
      memPerNodeMb: cpus * 2000,
      gpusPerNode: gpu?.perNode ?? 0,
      gpuModel: gpu?.model ?? '',
      gpuAsk: gpu?.ask ?? 'gres',
      alloc: [],
      submit,
      start: 0,
      end: 0,
      timeLimitMin,
      priority: 1000 + Math.floor(this.rand() * 20000),
      exitCode: 0,
      arrayJobId: 0,
      arrayTaskId: -1,
      arrayNext: 0,
      arrayLast: 0,
      arrayLimit: 0,
    };
  }

  /**
   * Finds nodes for a job: first fit from a start biased to low indices, so low nodes fill up
   * (allocated), high ones stay idle, and the middle is mixed, as on a real busy cluster.
   */
  private place(job: SimJob): number[] | null {
    const parts = job.partition.split(',').map((p) => this.partitionByName.get(p)).filter((p): p is SimPartition => !!p);
    if (parts.length === 0) return null;
    const chosen: number[] = [];
    for (let attempt = 0; attempt < 4 && chosen.length < job.nodeCount; attempt++) {
      const p = parts[Math.floor(this.rand() * parts.length)]!;
      const len = p.nodes.length;
      const start = Math.floor(this.rand() * this.rand() * len);
      for (let s = 0; s < 48 && s < len && chosen.length < job.nodeCount; s++) {
        const idx = p.nodes[(start + s) % len]!;
        const n = this.nodes[idx]!;
        if (!this.usable(n) || chosen.includes(idx) || (job.gpuModel !== '' && n.gpuType !== job.gpuModel)) continue;
        if (n.cpus - n.allocCpus < job.cpusPerNode || n.memMb - n.allocMemMb < job.memPerNodeMb || n.gpus - n.allocGpus < job.gpusPerNode) continue;
        chosen.push(idx);
      }
    }
    return chosen.length === job.nodeCount ? chosen : null;
  }

  private allocate(job: SimJob, nodes: number[]): void {
    job.alloc = nodes;
    for (const i of nodes) {
      const n = this.nodes[i]!;
      n.allocCpus += job.cpusPerNode;
      n.allocMemMb += job.memPerNodeMb;
      n.allocGpus += job.gpusPerNode;
    }
  }

  /** Frees the job's resources on its nodes; the record keeps its node list (as slurmrestd shows it). */
  private release(job: SimJob): void {
    for (const i of job.alloc) {
      const n = this.nodes[i]!;
      n.allocCpus -= job.cpusPerNode;
      n.allocMemMb -= job.memPerNodeMb;
      n.allocGpus -= job.gpusPerNode;
    }
  }

  /** Whether a job's resources count in its nodes' allocation. */
  static holdsResources(j: SimJob): boolean {
    return j.state === 'RUNNING' || j.state === 'COMPLETING';
  }

  private makePending(job: SimJob): void {
    job.state = 'PENDING';
    job.reason = this.weighted(PENDING_REASONS);
    if (job.partition === 'cpu' && this.partitionByName.has('long') && this.rand() < 0.15) job.partition = 'cpu,long';
    if (this.rand() < 0.02) job.flag = 'REQUEUED';
  }

  private finish(job: SimJob, state: JobBase, t: number): void {
    if (Cluster.holdsResources(job)) this.release(job);
    job.state = state;
    job.end = t;
    job.flag = '';
    switch (state) {
      case 'COMPLETED':
        job.reason = 'None';
        job.exitCode = 0;
        this.diag.jobsCompleted++;
        break;
      case 'FAILED':
        job.reason = 'NonZeroExitCode';
        job.exitCode = 1 + Math.floor(this.rand() * 3);
        this.diag.jobsFailed++;
        break;
      case 'CANCELLED':
        job.reason = 'None';
        this.diag.jobsCanceled++;
        break;
      case 'TIMEOUT':
        job.reason = 'TimeLimit';
        this.diag.jobsFailed++;
        break;
      case 'OUT_OF_MEMORY':
        job.reason = 'OutOfMemory';
        job.exitCode = 137;
        this.diag.jobsFailed++;
        break;
      case 'NODE_FAIL':
        job.reason = 'NodeDown';
        this.diag.jobsFailed++;
        break;
      default:
        break;
    }
  }

  private start(job: SimJob, nodes: number[], t: number): void {
    this.allocate(job, nodes);
    job.state = 'RUNNING';
    job.flag = '';
    job.reason = 'None';
    job.start = t;
    job.end = t + job.timeLimitMin * 60;
    if (job.partition.includes(',')) job.partition = this.nodes[nodes[0]!]!.partitions.find((p) => job.partition.split(',').includes(p)) ?? job.partition.split(',')[0]!;
    this.diag.jobsStarted++;
  }

  /** Adds one initial job (or one array: its running tasks and pending remainder); returns records added. */
  private addInitialJob(t: number): number {
    const x = this.rand();
    const remaining = this.targetJobs - this.jobs.size;
    if (x < 0.015 && remaining >= 4) return this.addArray(t, Math.min(remaining, 4 + Math.floor(this.rand() * 6)));
    const job = this.newJob(t, 'PENDING');
    this.diag.jobsSubmitted++;
    this.jobs.set(job.id, job);
    if (x < 0.5) {
      const nodes = this.place(job);
      if (nodes) {
        this.start(job, nodes, job.submit + Math.floor(this.rand() * 600));
        if (this.rand() < 0.02) job.state = 'COMPLETING';
        return 1;
      }
      this.makePending(job);
      job.reason = 'Resources';
      return 1;
    }
    if (x < 0.78) {
      this.makePending(job);
      return 1;
    }
    // Finished jobs: ran somewhere, then ended.
    const nodes = this.place(job);
    if (nodes) this.allocate(job, nodes);
    job.start = job.submit + 60;
    job.state = 'RUNNING';
    const y = this.rand();
    const end: JobBase = y < 0.55 ? 'COMPLETED' : y < 0.72 ? 'FAILED' : y < 0.86 ? 'CANCELLED' : y < 0.94 ? 'TIMEOUT' : y < 0.98 ? 'OUT_OF_MEMORY' : 'NODE_FAIL';
    if (end === 'CANCELLED' && !nodes) {
      job.state = 'PENDING';
      job.start = 0;
    }
    this.finish(job, end, Math.min(t, job.start + 60 + Math.floor(this.rand() * 3600)));
    if (!nodes) job.alloc = [];
    return 1;
  }

  /** An array job: `running` task records plus one pending record holding the rest of the range. */
  private addArray(t: number, records: number): number {
    const parent = this.newJob(t, 'PENDING');
    parent.cpusPerNode = this.pick([1, 2, 4]);
    parent.memPerNodeMb = parent.cpusPerNode * 2000;
    parent.gpusPerNode = 0;
    parent.gpuModel = '';
    parent.nodeCount = 1;
    if (parent.partition === 'gpu') parent.partition = 'cpu';
    parent.arrayJobId = parent.id;
    const running = records - 1;
    parent.arrayLimit = running;
    parent.arrayNext = 1;
    parent.arrayLast = running + 3 + Math.floor(this.rand() * 20);
    this.jobs.set(parent.id, parent);
    this.diag.jobsSubmitted++;
    let added = 1;
    for (let k = 0; k < running; k++) {
      if (this.spawnTask(parent, t)) added++;
    }
    parent.state = 'PENDING';
    parent.reason = 'JobArrayTaskLimit';
    return added;
  }

  private spawnTask(parent: SimJob, t: number): boolean {
    if (parent.arrayNext > parent.arrayLast) return false;
    const task: SimJob = { ...parent, id: this.nextJobId++, alloc: [], arrayTaskId: parent.arrayNext, arrayNext: 0, arrayLast: 0, arrayLimit: parent.arrayLimit };
    const nodes = this.place(task);
    if (!nodes) {
      this.nextJobId--;
      return false;
    }
    parent.arrayNext++;
    this.start(task, nodes, t - Math.floor(this.rand() * 600));
    this.jobs.set(task.id, task);
    return true;
  }

  /** Array task range string of a pending remainder record: `4-8%3`. */
  static arrayTaskString(j: SimJob): string {
    if (j.arrayJobId === 0 || j.arrayTaskId >= 0 || j.state !== 'PENDING') return '';
    const range = j.arrayNext === j.arrayLast ? String(j.arrayNext) : `${j.arrayNext}-${j.arrayLast}`;
    return j.arrayLimit ? `${range}%${j.arrayLimit}` : range;
  }

  /** Moves the cluster on: starts, ends and submits jobs, flips a few nodes, grows the diag counters. */
  tick(): void {
    const t = this.now();
    const r = this.rand;
    let started = 0;
    const runningByArray = new Map<number, number>();
    for (const j of this.jobs.values()) {
      if (j.arrayJobId && j.arrayTaskId >= 0 && Cluster.holdsResources(j)) runningByArray.set(j.arrayJobId, (runningByArray.get(j.arrayJobId) ?? 0) + 1);
    }
    for (const j of this.jobs.values()) {
      switch (j.state) {
        case 'COMPLETING':
          this.finish(j, 'COMPLETED', t);
          break;
        case 'RUNNING': {
          const x = r();
          if (x < 0.03) {
            if (r() < 0.5) {
              j.state = 'COMPLETING';
            } else {
              const y = r();
              this.finish(j, y < 0.6 ? 'COMPLETED' : y < 0.8 ? 'FAILED' : y < 0.9 ? 'TIMEOUT' : y < 0.97 ? 'CANCELLED' : 'OUT_OF_MEMORY', t);
            }
          }
          break;
        }
        case 'PENDING': {
          if (j.arrayJobId && j.arrayTaskId < 0) {
            const running = runningByArray.get(j.id) ?? 0;
            if (running < j.arrayLimit && r() < 0.5) {
              if (j.arrayNext >= j.arrayLast) {
                // The last task takes over the array's own record, as slurmctld does.
                const nodes = this.place(j);
                if (nodes) {
                  j.arrayTaskId = j.arrayLast;
                  this.start(j, nodes, t);
                  started++;
                }
              } else if (this.spawnTask(j, t)) started++;
            }
            break;
          }
          if (j.reason === 'JobHeldUser' || j.reason === 'JobHeldAdmin' || j.reason === 'Dependency') {
            if (r() < 0.01) j.reason = 'Priority';
            break;
          }
          if (r() < 0.08) {
            const nodes = this.place(j);
            if (nodes) {
              this.start(j, nodes, t);
              started++;
            } else j.reason = 'Resources';
          }
          break;
        }
        default:
          break;
      }
    }
    // Nodes: a few change administrative state each tick.
    const flips = Math.max(1, Math.floor(this.nodes.length * 0.002));
    for (let k = 0; k < flips && this.nodes.length; k++) {
      const n = this.nodes[Math.floor(r() * this.nodes.length)]!;
      const x = r();
      // Down and drained nodes come back; others rarely fail, so the spread stays near the initial one.
      if (n.down) this.setDown(n, false, t);
      else if (n.drain) this.setDrain(n, false, t);
      else if (x < 0.03) {
        this.setDown(n, true, t);
        for (const j of this.jobs.values()) {
          if (Cluster.holdsResources(j) && j.alloc.includes(n.index)) {
            this.finish(j, 'NODE_FAIL', t);
          }
        }
      } else if (x < 0.06) this.setDrain(n, true, t);
      else if (x < 0.08) n.planned = !n.planned;
    }
    // Submit new work and age out the oldest finished records so the count stays near the target.
    const submit = Math.max(1, Math.floor(this.targetJobs * 0.01));
    for (let k = 0; k < submit; ) {
      if (this.rand() < 0.015 && submit - k >= 4) {
        k += this.addArray(t, 4 + Math.floor(this.rand() * 6));
        continue;
      }
      const j = this.newJob(t, 'PENDING');
      j.submit = t;
      this.makePending(j);
      this.jobs.set(j.id, j);
      this.diag.jobsSubmitted++;
      k++;
    }
    let excess = this.jobs.size - this.targetJobs;
    if (excess > 0) {
      for (const j of this.jobs.values()) {
        if (excess <= 0) break;
        if (!Cluster.holdsResources(j) && j.state !== 'PENDING') {
          this.jobs.delete(j.id);
          excess--;
        }
      }
    }
    for (const l of this.licenses) l.used = Math.min(l.total, Math.floor(r() * (l.total + 1)));
    const cycle = 500 + Math.floor(r() * 1500);
    const d = this.diag;
    d.scheduleCycleTotal++;
    d.scheduleCycleSum += cycle;
    d.scheduleCycleLast = cycle;
    d.scheduleCycleMax = Math.max(d.scheduleCycleMax, cycle);
    const bf = 1000 + Math.floor(r() * 5000);
    d.bfCycleCounter++;
    d.bfCycleSum += bf;
    d.bfCycleLast = bf;
    d.bfCycleMax = Math.max(d.bfCycleMax, bf);
    d.bfBackfilledJobs += Math.floor(started / 3);
    d.bfDepthSum += 10 + Math.floor(r() * 100);
    d.lastBackfill = t;
    this.lastUpdate = t;
    this.generation++;
  }

  /** Ground truth, computed from the same state the answers are rendered from. */
  counts(): ClusterCounts {
    const inc = (m: Record<string, number>, k: string, by = 1) => {
      m[k] = (m[k] ?? 0) + by;
    };
    const c: ClusterCounts = {
      nodes: this.nodes.length,
      jobs: this.jobs.size,
      nodesByState: {},
      nodesByFullState: {},
      jobsByState: {},
      pendingByReason: {},
      jobsByPartitionState: {},
      arrayRecords: 0,
      cpus: { total: 0, alloc: 0 },
      gpus: { total: 0, alloc: 0 },
      memoryMb: { total: 0, alloc: 0 },
      partitions: {},
      diag: {
        jobsSubmitted: this.diag.jobsSubmitted,
        jobsStarted: this.diag.jobsStarted,
        jobsCompleted: this.diag.jobsCompleted,
        jobsCanceled: this.diag.jobsCanceled,
        jobsFailed: this.diag.jobsFailed,
        scheduleCycleTotal: this.diag.scheduleCycleTotal,
        bfCycleCounter: this.diag.bfCycleCounter,
      },
    };
    for (const n of this.nodes) {
      const base = Cluster.baseState(n).toLowerCase();
      inc(c.nodesByState, base);
      inc(c.nodesByFullState, [base, ...Cluster.nodeFlags(n).map((f) => f.toLowerCase())].join('+'));
      c.cpus.total += n.cpus;
      c.cpus.alloc += n.allocCpus;
      c.gpus.total += n.gpus;
      c.gpus.alloc += n.allocGpus;
      c.memoryMb.total += n.memMb;
      c.memoryMb.alloc += n.allocMemMb;
    }
    for (const p of this.partitions) {
      c.partitions[p.name] = { nodes: p.nodes.length, cpus: p.nodes.reduce((s, i) => s + this.nodes[i]!.cpus, 0) };
    }
    for (const j of this.jobs.values()) {
      const s = j.state.toLowerCase();
      inc(c.jobsByState, s);
      if (j.state === 'PENDING') inc(c.pendingByReason, j.reason);
      if (j.arrayJobId) c.arrayRecords++;
      for (const p of j.partition.split(',')) inc((c.jobsByPartitionState[p] ??= {}), s);
    }
    return c;
  }

  user(j: SimJob): SimUser {
    return this.users[j.user]!;
  }

  nodeNames(j: SimJob): string {
    return hostList(j.alloc.map((i) => this.nodes[i]!.name));
  }
}

// ---- fairshare tree and slurmdbd statistics, derived from the users and their jobs --------------------------

/** One association of the simulated fairshare tree (a row of sshare -a -l), Fair Tree figures. */
export interface SimShare {
  id: number;
  kind: 'account' | 'user';
  name: string;
  /** Parent account ('' for root); a user's account. */
  parent: string;
  /** Raw shares; null for root, which Slurm reports as not set. */
  shares: number | null;
  sharesNorm: number;
  /** Billing-seconds of the association's jobs (Slurm decays it; the simulation does not). */
  usage: number;
  /** Fraction of the cluster's usage; null for root. */
  usageNorm: number | null;
  /** Fair Tree: fraction of the parent's usage (1 for root). */
  usageEff: number;
  /** Users only; accounts carry the 0 slurmrestd prints for them. */
  factor: number;
  /** LevelFS: null for root (not set), Infinity for an association that used nothing. */
  level: number | null;
}

const shareCache = new WeakMap<Cluster, { generation: number; jobs: number; tree: SimShare[] }>();

/** CPU-seconds each user has consumed in each account, from the jobs that have started, up to the last tick. */
function usageByAssociation(c: Cluster): Map<string, number> {
  const used = new Map<string, number>();
  for (const j of c.jobs.values()) {
    if (j.start <= 0) continue;
    const until = Math.min(j.end > 0 ? j.end : c.lastUpdate, c.lastUpdate);
    const u = c.user(j);
    const key = `${u.account}\u0000${u.name}`;
    used.set(key, (used.get(key) ?? 0) + j.cpusPerNode * j.nodeCount * Math.max(0, until - j.start));
  }
  return used;
}

/** Account shares spread so levels differ: 10..100, fixed per account name. */
function accountShares(name: string): number {
  let h = 0;
  for (let k = 0; k < name.length; k++) h = (Math.imul(h, 31) + name.charCodeAt(k)) >>> 0;
  return 10 + (h % 91);
}

function share(id: number, kind: SimShare['kind'], name: string, parent: string, shares: number, usage: number): SimShare {
  return { id, kind, name, parent, shares, sharesNorm: 0, usage, usageNorm: 0, usageEff: 0, factor: 0, level: null };
}

/** Normalizes siblings against each other and the cluster total, Fair Tree style. */
function normalize(children: SimShare[], parentUsage: number, total: number): void {
  const sum = children.reduce((s, x) => s + (x.shares ?? 0), 0);
  for (const x of children) {
    x.sharesNorm = sum > 0 ? (x.shares ?? 0) / sum : 0;
    x.usageNorm = total > 0 ? x.usage / total : 0;
    x.usageEff = parentUsage > 0 ? x.usage / parentUsage : 0;
    x.level = x.usageEff > 0 ? x.sharesNorm / x.usageEff : Infinity;
  }
}

/** Fair Tree's ranking: users ordered by their accounts' LevelFS, then their own; ties share the higher factor. */
function rankUsers(users: { s: SimShare; key: number[] }[]): void {
  const cmp = (a: number[], b: number[]) => {
    for (let k = 0; k < Math.max(a.length, b.length); k++) {
      const x = a[k] ?? -Infinity;
      const y = b[k] ?? -Infinity;
      if (x !== y) return x > y ? -1 : 1;
    }
    return 0;
  };
  users.sort((a, b) => cmp(a.key, b.key));
  const n = users.length;
  let tieStart = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && cmp(users[i - 1]!.key, users[i]!.key) !== 0) tieStart = i;
    users[i]!.s.factor = (n - tieStart) / n;
  }
}

/**
 * The association tree sshare would show: root, the user root under it, then every account with its users
 * (sorted, as sshare prints them). Users and accounts are the cluster's job owners; usage comes from their jobs.
 */
export function shareTree(c: Cluster): SimShare[] {
  const hit = shareCache.get(c);
  if (hit && hit.generation === c.generation && hit.jobs === c.jobs.size) return hit.tree;
  const used = usageByAssociation(c);
  const byAccount = new Map<string, string[]>();
  for (const u of c.users) {
    const names = byAccount.get(u.account);
    if (names) names.push(u.name);
    else byAccount.set(u.account, [u.name]);
  }
  let id = 1;
  const total = [...used.values()].reduce((s, x) => s + x, 0);
  const root = share(id++, 'account', 'root', '', 0, total);
  root.shares = null;
  root.usageEff = 1;
  root.usageNorm = null;
  const rootUser = share(id++, 'user', 'root', 'root', 1, 0);
  const accounts = [...byAccount.keys()].sort().map((a) => ({ acct: share(id++, 'account', a, 'root', accountShares(a), 0), users: [] as SimShare[] }));
  for (const a of accounts) {
    a.users = byAccount.get(a.acct.name)!.sort().map((u) => share(id++, 'user', u, a.acct.name, 1, used.get(`${a.acct.name}\u0000${u}`) ?? 0));
    a.acct.usage = a.users.reduce((s, x) => s + x.usage, 0);
  }
  normalize([rootUser, ...accounts.map((a) => a.acct)], total, total);
  for (const a of accounts) normalize(a.users, a.acct.usage, total);
  rankUsers([{ s: rootUser, key: [rootUser.level!] }, ...accounts.flatMap((a) => a.users.map((s) => ({ s, key: [a.acct.level!, s.level!] })))]);
  root.sharesNorm = 1;
  const tree = [root, rootUser, ...accounts.flatMap((a) => [a.acct, ...a.users])];
  shareCache.set(c, { generation: c.generation, jobs: c.jobs.size, tree });
  return tree;
}

/** One row of slurmdbd's RPC statistics: by RPC type or by user, times in microseconds. */
export interface SimDbdRow {
  key: string;
  count: number;
  totalUs: number;
}

export interface SimDbdStats {
  timeStart: number;
  rpcs: SimDbdRow[];
  users: SimDbdRow[];
}

/** Mean microseconds per RPC type, roughly as the captured slurmdbd spent them. */
const DBD_RPC_MEAN_US: readonly [string, number][] = [
  ['SLURM_PERSIST_INIT', 2000],
  ['DBD_FINI', 400],
  ['DBD_REGISTER_CTLD', 16000],
  ['DBD_GET_TRES', 650],
  ['DBD_GET_QOS', 1600],
  ['DBD_GET_ASSOCS', 4600],
  ['DBD_GET_USERS', 4500],
  ['DBD_CLUSTER_TRES', 1400],
  ['DBD_NODE_STATE', 2600],
  ['DBD_JOB_START', 5000],
  ['DBD_STEP_START', 4000],
  ['DBD_STEP_COMPLETE', 2400],
  ['DBD_JOB_COMPLETE', 2400],
  ['DBD_SEND_MULT_MSG', 9900],
];
const SACCT_MEAN_US = 3500;

/**
 * slurmdbd's statistics: slurmctld's traffic (as root) grows with the jobs it records, every user runs
 * sacct now and then (DBD_GET_JOBS_COND). Per-type and per-user figures add up to the same totals, as in the
 * captures, and only grow from tick to tick.
 */
export function dbdStats(c: Cluster): SimDbdStats {
  const d = c.diag;
  const g = c.generation;
  const ended = d.jobsCompleted + d.jobsFailed + d.jobsCanceled;
  const counts: Record<string, number> = {
    SLURM_PERSIST_INIT: 2 + g,
    DBD_FINI: 2 + g,
    DBD_REGISTER_CTLD: 1,
    DBD_CLUSTER_TRES: 1 + g,
    DBD_NODE_STATE: Math.ceil(c.nodes.length / 50) + 3 * g,
    DBD_JOB_START: d.jobsSubmitted + d.jobsStarted,
    DBD_STEP_START: 2 * d.jobsStarted,
    DBD_STEP_COMPLETE: 2 * ended,
    DBD_JOB_COMPLETE: ended,
    DBD_SEND_MULT_MSG: 1 + g,
  };
  const rpcs: SimDbdRow[] = DBD_RPC_MEAN_US.map(([key, mean]) => {
    const count = counts[key] ?? 1 + Math.floor(g / 4);
    return { key, count, totalUs: count * mean };
  });
  const users: SimDbdRow[] = c.users.map((u, i) => {
    const count = 1 + (i % 7) + Math.floor((g * (i % 3)) / 2);
    return { key: u.name, count, totalUs: count * SACCT_MEAN_US };
  });
  const sacct = users.reduce((s, u) => s + u.count, 0);
  rpcs.push({ key: 'DBD_GET_JOBS_COND', count: sacct, totalUs: sacct * SACCT_MEAN_US });
  const byRoot = rpcs.slice(0, -1);
  users.unshift({ key: 'root', count: byRoot.reduce((s, r) => s + r.count, 0), totalUs: byRoot.reduce((s, r) => s + r.totalUs, 0) });
  return { timeStart: d.startTime, rpcs, users };
}
