// GPUs and other generic resources (shard, mps, ...) by type and model at every level: configured and
// allocated on the nodes of the cluster and of each partition, GPUs that nodes which cannot take jobs leave
// unusable, and what running jobs hold and pending jobs ask for, per partition, per user and per account.
import type { Collector, CollectContext } from './collector.ts';
import type { MetricDesc, MetricFamily } from '../exposition/types.ts';
import type { GresCount, SlurmJob, SlurmNode } from '../slurm/model.ts';
import { Acc, NO_MODEL, modelOf } from './labels.ts';
import { canTakeJobs } from './nodes.ts';
import { isActive, keepLargest, usageBy } from './users.ts';

const MODEL = `model is the GRES type from gres.conf (a100, h100, ...), "${NO_MODEL}" when Slurm names none.`;
const OVERLAP = 'A node in several partitions is counted in each, so partition figures do not add up to cluster figures.';
const MULTI = 'A pending job that names several partitions (submitted to "gpu,preempt") is counted in each.';
const JOB_GRES = 'jobs: allocated TRES (tres_alloc_str) with the model from gres_detail';
const PEND_GRES = 'jobs: requested TRES (tres_req_str) with the model from tres_per_job / tres_per_node / tres_per_task';
const FOLD_USER = 'The same users as the users collector keeps under limits.maxUsers (most allocated CPUs first); the rest are summed under user="other" (their number is slurm_users_folded). Only when limits.perUser is on.';
const FOLD_ACCOUNT = 'The same accounts as the users collector keeps under limits.maxAccounts; the rest are summed under account="other" (their number is slurm_accounts_folded). Only when limits.perAccount is on.';

function desc(name: string, help: string, labels: string[], source: string): MetricDesc {
  return { name, type: 'gauge', help, labels: ['cluster', ...labels], source };
}

const TM = ['type', 'model'];
const CL_UNAVAIL = desc('slurm_cluster_gpus_unavailable', `Unallocated GPUs on nodes that cannot take jobs (down, error, future, unknown, or a drain, fail or not_responding flag), by model: capacity lost to broken or drained nodes. GPUs still held by jobs on a draining node are not counted until those jobs end. ${MODEL}`, ['model'], 'nodes: nodes[].gres minus nodes[].gres_used, by nodes[].state');
const P_GRES = desc('slurm_partition_gres', `Generic resources configured on the partition's nodes, by GRES type and model. ${OVERLAP} ${MODEL}`, ['partition', ...TM], 'nodes: nodes[].gres, by nodes[].partitions');
const P_ALLOC = desc('slurm_partition_gres_allocated', `Generic resources allocated on the partition's nodes, by jobs of any partition, by GRES type and model. ${OVERLAP} ${MODEL}`, ['partition', ...TM], 'nodes: nodes[].gres_used, by nodes[].partitions');
const P_UNAVAIL = desc('slurm_partition_gpus_unavailable', `Unallocated GPUs on the partition's nodes that cannot take jobs, by model (as slurm_cluster_gpus_unavailable). ${OVERLAP} ${MODEL}`, ['partition', 'model'], 'nodes: nodes[].gres minus nodes[].gres_used, by nodes[].state and nodes[].partitions');
const J_ALLOC = desc('slurm_jobs_gres_allocated', `Generic resources allocated to running jobs, by GRES type and model, each job once. ${MODEL}`, TM, JOB_GRES);
const J_PEND = desc('slurm_jobs_pending_gres', `Generic resources requested by pending jobs, by GRES type and model, each job once (a task-range array record counts once). ${MODEL}`, TM, PEND_GRES);
const PJ_ALLOC = desc('slurm_partition_jobs_gres_allocated', `Generic resources allocated to running jobs of the partition, by GRES type and model. ${MODEL}`, ['partition', ...TM], JOB_GRES + ', by jobs[].partition');
const PJ_PEND = desc('slurm_partition_jobs_pending_gres', `Generic resources requested by pending jobs of the partition, by GRES type and model. ${MULTI} ${MODEL}`, ['partition', ...TM], PEND_GRES + ', by jobs[].partition');
const U_ALLOC = desc('slurm_user_jobs_gres_allocated', `Generic resources allocated to the running jobs of the user, by GRES type and model. ${FOLD_USER} ${MODEL}`, ['user', ...TM], JOB_GRES + ', by jobs[].user_name');
const U_PEND = desc('slurm_user_jobs_pending_gres', `Generic resources requested by the pending jobs of the user, by GRES type and model. ${FOLD_USER} ${MODEL}`, ['user', ...TM], PEND_GRES + ', by jobs[].user_name');
const A_ALLOC = desc('slurm_account_jobs_gres_allocated', `Generic resources allocated to the running jobs of the account, by GRES type and model. ${FOLD_ACCOUNT} ${MODEL}`, ['account', ...TM], JOB_GRES + ', by jobs[].account');
const A_PEND = desc('slurm_account_jobs_pending_gres', `Generic resources requested by the pending jobs of the account, by GRES type and model. ${FOLD_ACCOUNT} ${MODEL}`, ['account', ...TM], PEND_GRES + ', by jobs[].account');


/** Count of one type and model in a list (gres_used may name a model several times). */
function countOf(list: readonly GresCount[], type: string, model: string): number {
  let n = 0;
  for (const g of list) if (g.type === type && g.model === model) n += g.count;
  return n;
}

/** Node-side accumulators; job families are seeded with what the nodes have, so they drop to 0, not vanish. */
interface NodeSide {
  gres: Acc;
  alloc: Acc;
  unavail: Acc;
  pGres: Acc;
  pAlloc: Acc;
  pUnavail: Acc;
}

function addNode(s: NodeSide, c: string, n: SlurmNode): void {
  const parts = [...new Set(n.partitions)];
  const down = !canTakeJobs(n);
  for (const g of n.gres) {
    const m = modelOf(g);
    s.gres.add([c, g.type, m], g.count);
    s.alloc.seed([c, g.type, m]);
    for (const p of parts) {
      s.pGres.add([c, p, g.type, m], g.count);
      s.pAlloc.seed([c, p, g.type, m]);
    }
    if (g.type !== 'gpu') continue;
    const lost = down ? Math.max(0, g.count - countOf(n.gresUsed, g.type, g.model)) : 0;
    s.unavail.add([c, m], lost);
    for (const p of parts) s.pUnavail.add([c, p, m], lost);
  }
  for (const g of n.gresUsed) {
    s.alloc.add([c, g.type, modelOf(g)], g.count);
    for (const p of parts) s.pAlloc.add([c, p, g.type, modelOf(g)], g.count);
  }
}

function nodeSide(c: string, nodes: readonly SlurmNode[]): NodeSide {
  const s: NodeSide = { gres: new Acc(), alloc: new Acc(), unavail: new Acc(), pGres: new Acc(), pAlloc: new Acc(), pUnavail: new Acc() };
  for (const n of nodes) addNode(s, c, n);
  return s;
}

/** Job-side accumulators, one pair (running, pending) per level. */
interface JobSide {
  all: [Acc, Acc];
  part: [Acc, Acc];
  user: [Acc, Acc] | undefined;
  account: [Acc, Acc] | undefined;
}

/** Maps a job to its user (account) label value, folded like the users collector; undefined when switched off. */
function folder(jobs: readonly SlurmJob[], on: boolean, keyOf: (j: SlurmJob) => string, limit: number): ((j: SlurmJob) => string) | undefined {
  if (!on) return undefined;
  const { map } = keepLargest(usageBy(jobs, keyOf), limit);
  return (j) => map(keyOf(j));
}

function seedJobSide(s: JobSide, nodes: NodeSide): void {
  for (const { values } of nodes.gres.samples()) for (const acc of s.all) acc.seed([...values]);
  for (const { values } of nodes.pGres.samples()) for (const acc of s.part) acc.seed([...values]);
}

function jobSide(ctx: CollectContext, jobs: readonly SlurmJob[], nodes: NodeSide): JobSide {
  const c = ctx.cluster;
  const l = ctx.limits;
  const pair = (): [Acc, Acc] => [new Acc(), new Acc()];
  const userOf = folder(jobs, l.perUser, (j) => j.user, l.maxUsers);
  const accountOf = folder(jobs, l.perAccount, (j) => j.account, l.maxAccounts);
  const s: JobSide = { all: pair(), part: pair(), user: userOf && pair(), account: accountOf && pair() };
  seedJobSide(s, nodes);
  for (const j of jobs) {
    if (!isActive(j) || j.gres.length === 0) continue;
    const k = j.state === 'running' ? 0 : 1;
    const parts = [...new Set(j.partitions)];
    for (const g of j.gres) {
      const tm = [g.type, modelOf(g)];
      s.all[k].add([c, ...tm], g.count);
      for (const p of parts) s.part[k].add([c, p, ...tm], g.count);
      if (s.user && userOf) s.user[k].add([c, userOf(j), ...tm], g.count);
      if (s.account && accountOf) s.account[k].add([c, accountOf(j), ...tm], g.count);
    }
  }
  return s;
}

export const gpusCollector: Collector = {
  name: 'gpus',
  description: 'GPUs and other GRES by type and model: configured, allocated and unavailable on the nodes of the cluster and of each partition; held by running and asked for by pending jobs per partition, user and account.',
  group: 'nodes',
  needs: ['nodes', 'jobs'],
  metrics: [CL_UNAVAIL, P_GRES, P_ALLOC, P_UNAVAIL, J_ALLOC, J_PEND, PJ_ALLOC, PJ_PEND, U_ALLOC, U_PEND, A_ALLOC, A_PEND],
  collect(ctx: CollectContext): MetricFamily[] {
    const { nodes, jobs } = ctx.data;
    if (!nodes || !jobs) return [];
    const n = nodeSide(ctx.cluster, nodes);
    const j = jobSide(ctx, jobs, n);
    const out: MetricFamily[] = [
      n.unavail.family(CL_UNAVAIL),
      n.pGres.family(P_GRES), n.pAlloc.family(P_ALLOC), n.pUnavail.family(P_UNAVAIL),
      j.all[0].family(J_ALLOC), j.all[1].family(J_PEND), j.part[0].family(PJ_ALLOC), j.part[1].family(PJ_PEND),
    ];
    if (j.user) out.push(j.user[0].family(U_ALLOC), j.user[1].family(U_PEND));
    if (j.account) out.push(j.account[0].family(A_ALLOC), j.account[1].family(A_PEND));
    return out;
  },
};
