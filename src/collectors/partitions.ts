// Per-partition node states, resources and job counts. A node can be in several partitions and a pending
// job can name several: both are counted in each, so partition figures do not add up to cluster figures.
import type { Collector, CollectContext } from './collector.ts';
import type { MetricDesc, MetricFamily } from '../exposition/types.ts';
import type { SlurmNode } from '../slurm/model.ts';
import { Acc, JOB_BASE_STATES, NODE_BASE_STATES, gresOfType } from './labels.ts';

const OVERLAP = 'A node in several partitions is counted in each, so partition figures do not add up to cluster figures.';

const P_INFO: MetricDesc = {
  name: 'slurm_partition_state_info',
  type: 'gauge',
  help: 'Always 1, one series per partition: its state (up, down, drain, inactive, lower case) and whether it is the default partition ("true", "false", or "unknown" where slurmrestd does not say: API v0.0.40 and later report no partition flags).',
  labels: ['cluster', 'partition', 'state', 'default'],
  source: 'partitions: partitions[].partition.state, .flags DEFAULT (v0.0.38: state, flags)',
};
const P_CONFIGURED: MetricDesc = {
  name: 'slurm_partition_configured_nodes',
  type: 'gauge',
  help: 'Nodes configured in the partition (its node list), including nodes the nodes endpoint does not list (FUTURE nodes on Slurm 22.05).',
  labels: ['cluster', 'partition'],
  source: 'partitions: partitions[].nodes.configured (expanded hostlist)',
};
const P_NODES: MetricDesc = {
  name: 'slurm_partition_nodes',
  type: 'gauge',
  help: `Nodes of the partition by base state (lower case; flags are in slurm_partition_nodes_with_flag). Only nodes the nodes endpoint lists are counted. ${OVERLAP}`,
  labels: ['cluster', 'partition', 'state'],
  source: 'partitions: node list, joined with nodes: nodes[].state',
};
const P_NODES_FLAG: MetricDesc = {
  name: 'slurm_partition_nodes_with_flag',
  type: 'gauge',
  help: `Nodes of the partition that carry a state flag (drain, not_responding, ...); only flags some node has. ${OVERLAP}`,
  labels: ['cluster', 'partition', 'flag'],
  source: 'partitions: node list, joined with nodes: nodes[].state flags',
};
const P_CPUS: MetricDesc = {
  name: 'slurm_partition_cpus',
  type: 'gauge',
  help: `CPUs of the partition's listed nodes. ${OVERLAP}`,
  labels: ['cluster', 'partition'],
  source: 'partitions: node list, joined with nodes: nodes[].cpus',
};
const P_CPUS_ALLOC: MetricDesc = {
  name: 'slurm_partition_cpus_allocated',
  type: 'gauge',
  help: `CPUs allocated on the partition's nodes, by jobs of any partition (what the nodes report). For CPUs of this partition's own jobs see slurm_partition_jobs_cpus_allocated. ${OVERLAP}`,
  labels: ['cluster', 'partition'],
  source: 'partitions: node list, joined with nodes: nodes[].alloc_cpus',
};
const P_MEM: MetricDesc = {
  name: 'slurm_partition_memory_bytes',
  type: 'gauge',
  help: `Configured memory of the partition's listed nodes, bytes. ${OVERLAP}`,
  labels: ['cluster', 'partition'],
  source: 'partitions: node list, joined with nodes: nodes[].real_memory (MB, converted)',
};
const P_MEM_ALLOC: MetricDesc = {
  name: 'slurm_partition_memory_allocated_bytes',
  type: 'gauge',
  help: `Memory allocated on the partition's nodes, by jobs of any partition, bytes. ${OVERLAP}`,
  labels: ['cluster', 'partition'],
  source: 'partitions: node list, joined with nodes: nodes[].alloc_memory (MB, converted)',
};
const P_GPUS: MetricDesc = {
  name: 'slurm_partition_gpus',
  type: 'gauge',
  help: `GPUs (GRES type gpu, every model) on the partition's listed nodes. ${OVERLAP}`,
  labels: ['cluster', 'partition'],
  source: 'partitions: node list, joined with nodes: nodes[].gres',
};
const P_GPUS_ALLOC: MetricDesc = {
  name: 'slurm_partition_gpus_allocated',
  type: 'gauge',
  help: `GPUs allocated on the partition's nodes, by jobs of any partition. ${OVERLAP}`,
  labels: ['cluster', 'partition'],
  source: 'partitions: node list, joined with nodes: nodes[].gres_used',
};
const P_JOBS: MetricDesc = {
  name: 'slurm_partition_jobs',
  type: 'gauge',
  help: 'Job records by partition and base state (lower case). A job that names several partitions (a pending job submitted to "cpu,preempt") is counted in each, so the sum over partitions can exceed slurm_jobs.',
  labels: ['cluster', 'partition', 'state'],
  source: 'jobs: jobs[].partition (split at ","), jobs[].job_state',
};
const P_MAX_TIME: MetricDesc = {
  name: 'slurm_partition_max_time_seconds',
  type: 'gauge',
  help: 'Longest time limit a job may ask for in the partition, seconds; absent when unlimited.',
  labels: ['cluster', 'partition'],
  source: 'partitions: partitions[].maximums.time (minutes, converted)',
};


export const partitionsCollector: Collector = {
  name: 'partitions',
  description: 'Per-partition node states, CPUs, memory, GPUs and job counts (nodes and jobs in several partitions count in each).',
  group: 'partitions',
  needs: ['partitions', 'nodes', 'jobs'],
  metrics: [P_INFO, P_CONFIGURED, P_NODES, P_NODES_FLAG, P_CPUS, P_CPUS_ALLOC, P_MEM, P_MEM_ALLOC, P_GPUS, P_GPUS_ALLOC, P_JOBS, P_MAX_TIME],
  collect(ctx: CollectContext): MetricFamily[] {
    const { partitions, nodes, jobs } = ctx.data;
    if (!partitions || !nodes || !jobs) return [];
    const c = ctx.cluster;
    const byName = new Map<string, SlurmNode>();
    for (const n of nodes) byName.set(n.name, n);

    const info: MetricFamily = { desc: P_INFO, samples: [] };
    const configured: MetricFamily = { desc: P_CONFIGURED, samples: [] };
    const maxTime: MetricFamily = { desc: P_MAX_TIME, samples: [] };
    const nodeStates = new Acc();
    const nodeFlags = new Acc();
    const cpus = new Acc();
    const cpusAlloc = new Acc();
    const mem = new Acc();
    const memAlloc = new Acc();
    const gpus = new Acc();
    const gpusAlloc = new Acc();
    const jobStates = new Acc();

    for (const p of partitions) {
      const v = [c, p.name];
      info.samples.push({ values: [c, p.name, p.state, p.isDefault === undefined ? 'unknown' : String(p.isDefault)], value: 1 });
      const members = [...new Set(p.nodes)];
      configured.samples.push({ values: v, value: Math.max(members.length, p.totalNodes) });
      if (p.maxTimeSeconds !== undefined) maxTime.samples.push({ values: v, value: p.maxTimeSeconds });
      for (const s of NODE_BASE_STATES) nodeStates.seed([c, p.name, s]);
      for (const s of JOB_BASE_STATES) jobStates.seed([c, p.name, s]);
      for (const acc of [cpus, cpusAlloc, mem, memAlloc, gpus, gpusAlloc]) acc.seed(v);
      for (const name of members) {
        const n = byName.get(name);
        if (!n) continue;
        nodeStates.add([c, p.name, n.state]);
        for (const f of new Set(n.flags)) nodeFlags.add([c, p.name, f]);
        cpus.add(v, n.cpus);
        cpusAlloc.add(v, n.allocCpus);
        mem.add(v, n.memoryBytes);
        memAlloc.add(v, n.allocMemoryBytes);
        gpus.add(v, gresOfType(n.gres, 'gpu'));
        gpusAlloc.add(v, gresOfType(n.gresUsed, 'gpu'));
      }
    }
    // Jobs naming a partition the partitions answer lacks (just removed) still count, under that name.
    for (const j of jobs) {
      for (const p of new Set(j.partitions)) jobStates.add([c, p, j.state]);
    }

    return [
      info,
      configured,
      nodeStates.family(P_NODES),
      nodeFlags.family(P_NODES_FLAG),
      cpus.family(P_CPUS),
      cpusAlloc.family(P_CPUS_ALLOC),
      mem.family(P_MEM),
      memAlloc.family(P_MEM_ALLOC),
      gpus.family(P_GPUS),
      gpusAlloc.family(P_GPUS_ALLOC),
      jobStates.family(P_JOBS),
      maxTime,
    ];
  },
};
