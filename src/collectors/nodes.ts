// Node states, flags and resources: cluster totals always, per-node series when limits.perNode is on.
import type { Collector, CollectContext } from './collector.ts';
import type { MetricDesc, MetricFamily, Sample } from '../exposition/types.ts';
import type { SlurmNode } from '../slurm/model.ts';
import { Acc, modelOf, NODE_BASE_STATES, NODE_FLAGS_COMMON, cut, gresOfType, joinSorted } from './labels.ts';

const SRC_STATE = 'nodes: nodes[].state (v0.0.39+: array, base state first; v0.0.38: state + state_flags)';

const NODES: MetricDesc = {
  name: 'slurm_nodes',
  type: 'gauge',
  help: 'Nodes by base state (lower case, as Slurm names it: idle, mixed, allocated, down, error, future, unknown, or any newer state). The sum over state is the number of nodes the API lists; flags such as drain are in slurm_nodes_with_flag. Slurm 22.05 does not list FUTURE nodes.',
  labels: ['cluster', 'state'],
  source: SRC_STATE,
  note: 'Other exporters call this slurm_cluster_nodes_total; a gauge must not end in _total, so it is slurm_nodes{state}. An alert on absent(slurm_cluster_nodes_total) becomes absent(slurm_nodes); sum(slurm_nodes) is the node count.',
};

const WITH_FLAG: MetricDesc = {
  name: 'slurm_nodes_with_flag',
  type: 'gauge',
  help: 'Nodes that carry a state flag (drain, not_responding, maintenance, reserved, planned, powered_down, ...), lower case. A node with several flags counts once under each, so this does not sum to the node count.',
  labels: ['cluster', 'flag'],
  source: SRC_STATE,
};

const DRAINED: MetricDesc = {
  name: 'slurm_nodes_drained',
  type: 'gauge',
  help: 'Nodes that are drained: the drain flag on a node that runs nothing (base state idle, down, or anything but mixed/allocated, and no completing flag). Such a node takes no new jobs and is ready for maintenance.',
  labels: ['cluster'],
  source: SRC_STATE,
};

const DRAINING: MetricDesc = {
  name: 'slurm_nodes_draining',
  type: 'gauge',
  help: 'Nodes that are draining: the drain flag on a node that still runs jobs (base state mixed or allocated, or the completing flag). They become drained when their jobs end.',
  labels: ['cluster'],
  source: SRC_STATE,
};

const CPUS: MetricDesc = {
  name: 'slurm_cpus',
  type: 'gauge',
  help: 'CPUs of all listed nodes, whatever their state.',
  labels: ['cluster'],
  source: 'nodes: sum of nodes[].cpus',
};
const CPUS_ALLOC: MetricDesc = {
  name: 'slurm_cpus_allocated',
  type: 'gauge',
  help: 'CPUs allocated to jobs on all nodes.',
  labels: ['cluster'],
  source: 'nodes: sum of nodes[].alloc_cpus',
};
const CPUS_IDLE: MetricDesc = {
  name: 'slurm_cpus_idle',
  type: 'gauge',
  help: 'Unallocated CPUs on nodes that can take jobs (not down, error, future or unknown, no drain, fail or not_responding flag). slurm_cpus = allocated + idle + unavailable, as sinfo\'s CPUS(A/I/O/T).',
  labels: ['cluster'],
  source: 'nodes: cpus - alloc_cpus, by state',
};
const CPUS_UNAVAILABLE: MetricDesc = {
  name: 'slurm_cpus_unavailable',
  type: 'gauge',
  help: 'Unallocated CPUs on nodes that cannot take jobs (down, error, future, unknown, or a drain, fail or not_responding flag): sinfo\'s "other" CPUs.',
  labels: ['cluster'],
  source: 'nodes: cpus - alloc_cpus, by state',
};
const MEM: MetricDesc = {
  name: 'slurm_memory_bytes',
  type: 'gauge',
  help: 'Configured memory (RealMemory) of all listed nodes, bytes.',
  labels: ['cluster'],
  source: 'nodes: sum of nodes[].real_memory (MB, converted)',
};
const MEM_ALLOC: MetricDesc = {
  name: 'slurm_memory_allocated_bytes',
  type: 'gauge',
  help: 'Memory allocated to jobs on all nodes, bytes.',
  labels: ['cluster'],
  source: 'nodes: sum of nodes[].alloc_memory (MB, converted)',
};
const GPUS: MetricDesc = {
  name: 'slurm_gpus',
  type: 'gauge',
  help: 'GPUs (GRES of type gpu, every model) configured on all listed nodes. Per model in slurm_gres{type="gpu"}.',
  labels: ['cluster'],
  source: 'nodes: nodes[].gres (gpu:<model>:<count>)',
};
const GPUS_ALLOC: MetricDesc = {
  name: 'slurm_gpus_allocated',
  type: 'gauge',
  help: 'GPUs allocated to jobs on all nodes.',
  labels: ['cluster'],
  source: 'nodes: nodes[].gres_used (gpu:<model>:<count>(IDX:..))',
};
const GRES: MetricDesc = {
  name: 'slurm_gres',
  type: 'gauge',
  help: 'Generic resources configured on all listed nodes, by GRES type (gpu, shard, mps, ...) and model ("unspecified" when Slurm names none).',
  labels: ['cluster', 'type', 'model'],
  source: 'nodes: nodes[].gres',
};
const GRES_ALLOC: MetricDesc = {
  name: 'slurm_gres_allocated',
  type: 'gauge',
  help: 'Generic resources allocated to jobs on all nodes, by GRES type and model.',
  labels: ['cluster', 'type', 'model'],
  source: 'nodes: nodes[].gres_used',
};

const PER_NODE_NOTE = 'Per node: only when limits.perNode is on.';
const N_CPUS: MetricDesc = {
  name: 'slurm_node_cpus',
  type: 'gauge',
  help: 'CPUs of the node.',
  labels: ['cluster', 'node'],
  source: 'nodes: nodes[].cpus',
  note: PER_NODE_NOTE,
};
const N_CPUS_ALLOC: MetricDesc = {
  name: 'slurm_node_cpus_allocated',
  type: 'gauge',
  help: 'CPUs of the node allocated to jobs.',
  labels: ['cluster', 'node'],
  source: 'nodes: nodes[].alloc_cpus',
  note: PER_NODE_NOTE,
};
const N_MEM: MetricDesc = {
  name: 'slurm_node_memory_bytes',
  type: 'gauge',
  help: 'Configured memory (RealMemory) of the node, bytes.',
  labels: ['cluster', 'node'],
  source: 'nodes: nodes[].real_memory (MB, converted)',
  note: PER_NODE_NOTE + ' Slurm 25.11\'s own OpenMetrics exports the same figure in megabytes under a _bytes name; this one is bytes.',
};
const N_MEM_ALLOC: MetricDesc = {
  name: 'slurm_node_memory_allocated_bytes',
  type: 'gauge',
  help: 'Memory of the node allocated to jobs, bytes.',
  labels: ['cluster', 'node'],
  source: 'nodes: nodes[].alloc_memory (MB, converted)',
  note: PER_NODE_NOTE,
};
const N_MEM_FREE: MetricDesc = {
  name: 'slurm_node_memory_free_bytes',
  type: 'gauge',
  help: 'Free memory the node\'s operating system reports to slurmd, bytes. Absent when Slurm does not report it (no slurmd).',
  labels: ['cluster', 'node'],
  source: 'nodes: nodes[].free_mem (MB, converted)',
  note: PER_NODE_NOTE,
};
const N_LOAD: MetricDesc = {
  name: 'slurm_node_cpu_load',
  type: 'gauge',
  help: 'CPU load average of the node (Slurm reports load x 100; this is the load). Absent when not reported.',
  labels: ['cluster', 'node'],
  source: 'nodes: nodes[].cpu_load / 100',
  note: PER_NODE_NOTE,
};
const N_GRES: MetricDesc = {
  name: 'slurm_node_gres',
  type: 'gauge',
  help: 'Generic resources configured on the node, by GRES type and model.',
  labels: ['cluster', 'node', 'type', 'model'],
  source: 'nodes: nodes[].gres',
  note: PER_NODE_NOTE,
};
const N_GRES_ALLOC: MetricDesc = {
  name: 'slurm_node_gres_allocated',
  type: 'gauge',
  help: 'Generic resources of the node allocated to jobs, by GRES type and model (0 for every configured one not in use).',
  labels: ['cluster', 'node', 'type', 'model'],
  source: 'nodes: nodes[].gres_used',
  note: PER_NODE_NOTE,
};
const N_STATE: MetricDesc = {
  name: 'slurm_node_state_info',
  type: 'gauge',
  help: 'Always 1, one series per node: its base state and its state flags, lower case, sorted and joined by "," ("" when none). Match a flag with flags=~"(.*,)?drain(,.*)?".',
  labels: ['cluster', 'node', 'state', 'flags'],
  source: SRC_STATE,
  note: PER_NODE_NOTE + ' One series per node (not one per possible state) keeps cardinality at the node count.',
};
const N_REASON: MetricDesc = {
  name: 'slurm_node_reason_info',
  type: 'gauge',
  help: 'Always 1, only for nodes with a reason (why an administrator or Slurm drained or downed them); the text is cut to limits.maxReasonLength characters.',
  labels: ['cluster', 'node', 'reason'],
  source: 'nodes: nodes[].reason',
  note: PER_NODE_NOTE + ' Not emitted when limits.maxReasonLength is 0.',
};
const N_REASON_SINCE: MetricDesc = {
  name: 'slurm_node_reason_since_timestamp_seconds',
  type: 'gauge',
  help: 'When the node\'s reason was set, unix seconds; only for nodes with a reason and a known time. Kept out of the reason series so its labels do not churn.',
  labels: ['cluster', 'node'],
  source: 'nodes: nodes[].reason_changed_at',
  note: PER_NODE_NOTE,
};
const N_FEATURES: MetricDesc = {
  name: 'slurm_node_features_info',
  type: 'gauge',
  help: 'Always 1, only for nodes with features: the node\'s available features, sorted and joined by ",".',
  labels: ['cluster', 'node', 'features'],
  source: 'nodes: nodes[].features',
  note: PER_NODE_NOTE,
};

/** Base states that mean a node runs jobs; the drain flag on them means draining, not drained. */
const BUSY_STATES = new Set(['mixed', 'allocated']);
const UNAVAILABLE_STATES = new Set(['down', 'error', 'future', 'unknown']);
const UNAVAILABLE_FLAGS = ['drain', 'fail', 'not_responding'];

export function isDraining(n: SlurmNode): boolean {
  return n.flags.includes('drain') && (BUSY_STATES.has(n.state) || n.flags.includes('completing'));
}

export function isDrained(n: SlurmNode): boolean {
  return n.flags.includes('drain') && !isDraining(n);
}

export function canTakeJobs(n: SlurmNode): boolean {
  return !UNAVAILABLE_STATES.has(n.state) && !UNAVAILABLE_FLAGS.some((f) => n.flags.includes(f));
}

export const nodesCollector: Collector = {
  name: 'nodes',
  description: 'Node counts by state and flag, CPU/memory/GPU/GRES totals; per-node state, resources and reasons when limits.perNode is on.',
  group: 'nodes',
  needs: ['nodes'],
  metrics: [
    NODES, WITH_FLAG, DRAINED, DRAINING, CPUS, CPUS_ALLOC, CPUS_IDLE, CPUS_UNAVAILABLE, MEM, MEM_ALLOC, GPUS, GPUS_ALLOC,
    GRES, GRES_ALLOC, N_CPUS, N_CPUS_ALLOC, N_MEM, N_MEM_ALLOC, N_MEM_FREE, N_LOAD, N_GRES, N_GRES_ALLOC, N_STATE,
    N_REASON, N_REASON_SINCE, N_FEATURES,
  ],
  collect(ctx: CollectContext): MetricFamily[] {
    const nodes = ctx.data.nodes;
    if (!nodes) return [];
    const c = ctx.cluster;

    const byState = new Acc();
    for (const s of NODE_BASE_STATES) byState.seed([c, s]);
    const byFlag = new Acc();
    for (const f of NODE_FLAGS_COMMON) byFlag.seed([c, f]);
    const gres = new Acc();
    const gresAlloc = new Acc();
    let drained = 0;
    let draining = 0;
    let cpus = 0;
    let cpusAlloc = 0;
    let cpusIdle = 0;
    let cpusUnavail = 0;
    let mem = 0;
    let memAlloc = 0;
    let gpus = 0;
    let gpusAlloc = 0;

    for (const n of nodes) {
      byState.add([c, n.state]);
      for (const f of new Set(n.flags)) byFlag.add([c, f]);
      if (isDraining(n)) draining++;
      else if (isDrained(n)) drained++;
      cpus += n.cpus;
      cpusAlloc += n.allocCpus;
      const free = Math.max(0, n.cpus - n.allocCpus);
      if (canTakeJobs(n)) cpusIdle += free;
      else cpusUnavail += free;
      mem += n.memoryBytes;
      memAlloc += n.allocMemoryBytes;
      for (const g of n.gres) {
        gres.add([c, g.type, modelOf(g)], g.count);
        gresAlloc.seed([c, g.type, modelOf(g)]);
      }
      for (const g of n.gresUsed) gresAlloc.add([c, g.type, modelOf(g)], g.count);
      gpus += gresOfType(n.gres, 'gpu');
      gpusAlloc += gresOfType(n.gresUsed, 'gpu');
    }

    const one = (v: number): Sample[] => [{ values: [c], value: v }];
    const out: MetricFamily[] = [
      byState.family(NODES),
      byFlag.family(WITH_FLAG),
      { desc: DRAINED, samples: one(drained) },
      { desc: DRAINING, samples: one(draining) },
      { desc: CPUS, samples: one(cpus) },
      { desc: CPUS_ALLOC, samples: one(cpusAlloc) },
      { desc: CPUS_IDLE, samples: one(cpusIdle) },
      { desc: CPUS_UNAVAILABLE, samples: one(cpusUnavail) },
      { desc: MEM, samples: one(mem) },
      { desc: MEM_ALLOC, samples: one(memAlloc) },
      { desc: GPUS, samples: one(gpus) },
      { desc: GPUS_ALLOC, samples: one(gpusAlloc) },
      gres.family(GRES),
      gresAlloc.family(GRES_ALLOC),
    ];
    if (ctx.limits.perNode) out.push(...perNode(ctx, nodes));
    return out;
  },
};

function perNode(ctx: CollectContext, nodes: readonly SlurmNode[]): MetricFamily[] {
  const c = ctx.cluster;
  const maxReason = ctx.limits.maxReasonLength;
  const f = (desc: MetricDesc): MetricFamily => ({ desc, samples: [] });
  const cpus = f(N_CPUS);
  const cpusAlloc = f(N_CPUS_ALLOC);
  const mem = f(N_MEM);
  const memAlloc = f(N_MEM_ALLOC);
  const memFree = f(N_MEM_FREE);
  const load = f(N_LOAD);
  const state = f(N_STATE);
  const reason = f(N_REASON);
  const since = f(N_REASON_SINCE);
  const features = f(N_FEATURES);
  const gres = new Acc();
  const gresAlloc = new Acc();
  for (const n of nodes) {
    const v = [c, n.name];
    cpus.samples.push({ values: v, value: n.cpus });
    cpusAlloc.samples.push({ values: v, value: n.allocCpus });
    mem.samples.push({ values: v, value: n.memoryBytes });
    memAlloc.samples.push({ values: v, value: n.allocMemoryBytes });
    if (n.freeMemoryBytes !== undefined) memFree.samples.push({ values: v, value: n.freeMemoryBytes });
    if (n.cpuLoad !== undefined) load.samples.push({ values: v, value: n.cpuLoad });
    state.samples.push({ values: [c, n.name, n.state, joinSorted(n.flags)], value: 1 });
    if (n.reason !== '') {
      if (maxReason > 0) reason.samples.push({ values: [c, n.name, cut(n.reason, maxReason)], value: 1 });
      if (n.reasonChangedAt > 0) since.samples.push({ values: v, value: n.reasonChangedAt });
    }
    if (n.features.length > 0) features.samples.push({ values: [c, n.name, joinSorted(n.features)], value: 1 });
    for (const g of n.gres) {
      gres.add([c, n.name, g.type, modelOf(g)], g.count);
      gresAlloc.seed([c, n.name, g.type, modelOf(g)]);
    }
    for (const g of n.gresUsed) gresAlloc.add([c, n.name, g.type, modelOf(g)], g.count);
  }
  return [cpus, cpusAlloc, mem, memAlloc, memFree, load, gres.family(N_GRES), gresAlloc.family(N_GRES_ALLOC), state, reason, since, features];
}
