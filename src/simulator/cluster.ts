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
  /** Wall clock in seconds, injectable for tests. */
  now?: () => number;
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
    for (let u = 0; u < 60; u++) {
      this.users.push({ name: `user${pad(u + 1, 3)}`, uid: 2000 + u, account: ACCOUNTS[u % ACCOUNTS.length]! });
    }
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
      const node: SimNode = {
        index: i,
        name: `node${pad(i + 1, width)}`,
        cpus: isGpu ? 64 : big ? 128 : 64,
        memMb: isGpu ? 512000 : big ? 512000 : 256000,
        gpus: isGpu ? (this.rand() < 0.5 ? 4 : 8) : 0,
        gpuType: '',
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
      node.gpuType = node.gpus === 8 ? 'h100' : node.gpus ? 'a100' : '';
      const x = this.rand();
      // A realistic spread of administrative states; base states follow from the allocation.
      if (x < 0.03) this.setDown(node, true, t);
      else if (x < 0.05) this.setDrain(node, true, t);
      else if (x < 0.065) node.poweredDown = true;
      else if (x < 0.075) node.planned = true;
      else if (x < 0.085) node.maint = true;
      this.nodes.push(node);
    }
    const cpuNodes = this.nodes.filter((x) => x.gpus === 0).map((x) => x.index);
    const gpuNodes = this.nodes.filter((x) => x.gpus > 0).map((x) => x.index);
    const debugNodes = cpuNodes.slice(0, Math.max(1, Math.ceil(cpuNodes.length * 0.02)));
    const longNodes = cpuNodes.slice(Math.floor(cpuNodes.length * 0.7));
    this.addPartition('cpu', cpuNodes, true, 2880, 60, 1);
    if (gpuNodes.length) this.addPartition('gpu', gpuNodes, false, 2880, 60, 1);
    this.addPartition('debug', debugNodes, false, 60, 30, 2);
    this.addPartition('long', longNodes, false, 20160, 1440, 1);
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

  private newJob(t: number, state: JobBase): SimJob {
    const user = Math.floor(this.rand() * this.users.length);
    const wantsGpu = this.partitionByName.has('gpu') && this.rand() < 0.12;
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
      id: this.nextJobId++,
      name: this.pick(JOB_NAMES),
      user,
      partition,
      state,
      flag: '',
      reason: 'None',
      cpusPerNode: cpus,
      nodeCount: multi ? 2 + Math.floor(this.rand() * 3) : 1,
      memPerNodeMb: cpus * 2000,
      gpusPerNode: wantsGpu ? this.pick([1, 2, 4]) : 0,
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
        if (!this.usable(n) || chosen.includes(idx)) continue;
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
