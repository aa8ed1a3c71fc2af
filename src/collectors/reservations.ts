// Advance reservations (scontrol show reservation), joined with the nodes snapshot so an alert can see a
// maintenance reservation about to start on nodes that still run jobs:
//   slurm_reservation_start_timestamp_seconds - time() < 3600
//   and on(cluster, reservation) slurm_reservation_nodes_in_use > 0
//   and on(cluster, reservation) slurm_reservation_info{flags=~"(.*,)?maint(,.*)?"}
import type { Collector, CollectContext } from './collector.ts';
import type { MetricDesc, MetricFamily } from '../exposition/types.ts';
import type { SlurmNode, SlurmReservation } from '../slurm/model.ts';
import { Acc, NODE_BASE_STATES, joinSorted } from './labels.ts';

const L = ['cluster', 'reservation'] as const;
const SRC = 'reservations: reservations[]';

function gauge(name: string, help: string, source: string, labels: readonly string[] = L): MetricDesc {
  return { name, type: 'gauge', help, labels, source };
}

const R_INFO = gauge(
  'slurm_reservation_info',
  'Always 1, one series per reservation: its flags (lower case, sorted, comma-separated: maint, ignore_jobs, spec_nodes, ...) and partition ("" when none), as scontrol show reservation prints them.',
  `${SRC}.flags, .partition`,
  ['cluster', 'reservation', 'flags', 'partition'],
);
const R_NODES = gauge('slurm_reservation_nodes', 'Nodes in the reservation (NodeCnt).', `${SRC}.node_count`);
const R_CORES = gauge('slurm_reservation_cores', 'Cores in the reservation (CoreCnt).', `${SRC}.core_count`);
const R_START = gauge('slurm_reservation_start_timestamp_seconds', 'When the reservation starts (StartTime), unix seconds.', `${SRC}.start_time`);
const R_END = gauge('slurm_reservation_end_timestamp_seconds', 'When the reservation ends (EndTime), unix seconds.', `${SRC}.end_time`);
const R_ACTIVE = gauge(
  'slurm_reservation_active',
  '1 while the reservation is in effect (StartTime <= now < EndTime; scontrol\'s State=ACTIVE), else 0.',
  `${SRC}.start_time, .end_time, against the snapshot time`,
);
const R_NODE_STATES = gauge(
  'slurm_reservation_nodes_by_state',
  'Nodes of the reservation by base state (idle, mixed, allocated, down, ...; lower case), every state present at 0. Only nodes the nodes endpoint lists are counted.',
  `${SRC}.node_list (expanded), joined with nodes: nodes[].state`,
  ['cluster', 'reservation', 'state'],
);
const R_IN_USE = gauge(
  'slurm_reservation_nodes_in_use',
  'Nodes of the reservation on which jobs hold CPUs now (allocated CPUs > 0), by jobs inside or outside the reservation. Above 0 shortly before a maint reservation starts means jobs will still be running when it begins.',
  `${SRC}.node_list (expanded), joined with nodes: nodes[].alloc_cpus`,
);

function isActive(r: SlurmReservation, now: number): boolean {
  return r.startTime <= now && (r.endTime === 0 || now < r.endTime);
}

/** Per-reservation node states and busy nodes, from the nodes snapshot. */
function nodeFigures(c: string, r: SlurmReservation, byName: ReadonlyMap<string, SlurmNode>, states: Acc, inUse: Acc): void {
  for (const s of NODE_BASE_STATES) states.seed([c, r.name, s]);
  inUse.seed([c, r.name]);
  for (const name of new Set(r.nodes)) {
    const n = byName.get(name);
    if (!n) continue;
    states.add([c, r.name, n.state]);
    if (n.allocCpus > 0) inUse.add([c, r.name]);
  }
}

export const reservationsCollector: Collector = {
  name: 'reservations',
  description: 'Advance reservations (scontrol show reservation): size, times, whether active, flags, and the state and use of their nodes.',
  group: 'reservations',
  needs: ['reservations', 'nodes'],
  metrics: [R_INFO, R_NODES, R_CORES, R_START, R_END, R_ACTIVE, R_NODE_STATES, R_IN_USE],
  collect(ctx: CollectContext): MetricFamily[] {
    const { reservations, nodes } = ctx.data;
    if (!reservations || !nodes) return [];
    const c = ctx.cluster;
    const byName = new Map<string, SlurmNode>();
    for (const n of nodes) byName.set(n.name, n);
    const fams = [R_INFO, R_NODES, R_CORES, R_START, R_END, R_ACTIVE].map((desc): MetricFamily => ({ desc, samples: [] }));
    const [info, count, cores, start, end, active] = fams as [MetricFamily, MetricFamily, MetricFamily, MetricFamily, MetricFamily, MetricFamily];
    const states = new Acc();
    const inUse = new Acc();
    const seen = new Set<string>();
    for (const r of reservations) {
      if (seen.has(r.name)) {
        ctx.anomaly(`reservation "${r.name}" listed twice`);
        continue;
      }
      seen.add(r.name);
      const v = [c, r.name];
      info.samples.push({ values: [c, r.name, joinSorted(r.flags), r.partition], value: 1 });
      count.samples.push({ values: v, value: r.nodeCount });
      cores.samples.push({ values: v, value: r.coreCount });
      if (r.startTime > 0) start.samples.push({ values: v, value: r.startTime });
      if (r.endTime > 0) end.samples.push({ values: v, value: r.endTime });
      active.samples.push({ values: v, value: isActive(r, ctx.now) ? 1 : 0 });
      nodeFigures(c, r, byName, states, inUse);
    }
    return [...fams, states.family(R_NODE_STATES), inUse.family(R_IN_USE)];
  },
};
