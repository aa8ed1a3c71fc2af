// v0.0.38 (Slurm 22.05): node state is a lower-case base word plus a separate `state_flags` list, `free_memory`,
// features as a comma string; job_state is one word; partitions are flat with a `flags` list holding "default";
// ping has `ping` instead of `pinged`. Numbers are plain (NO_VAL/INFINITE sentinels are filtered in common.ts).
import type { Anomalies } from '../../model.ts';
import {
  type ApiAdapter,
  type Rec,
  buildCluster,
  buildDiag,
  buildJob,
  buildNode,
  buildPartitions,
  jobState,
  nodeState,
  num,
  strList,
} from './common.ts';
import { resourcePath } from '../../resources.ts';

const VERSION = 'v0.0.38';

export const v0038: ApiAdapter = {
  version: VERSION,
  path: (kind) => resourcePath(kind, VERSION),
  node: (raw, a) =>
    buildNode(raw, a, {
      state: (r: Rec, an: Anomalies) => nodeState(r.state, r.state_flags, an),
      freeMemMb: (r: Rec) => num(r.free_memory),
    }),
  job: (raw, a) => buildJob(raw, a, (r, an) => jobState(r.job_state, an)),
  partitions: (doc, a) =>
    buildPartitions(doc, a, {
      state: (r) => r.state,
      nodes: (r) => r.nodes,
      totalCpus: (r) => r.total_cpus,
      totalNodes: (r) => r.total_nodes,
      isDefault: (r) => strList(r.flags).some((f) => f.toLowerCase() === 'default'),
      maxTime: (r) => r.max_time_limit,
    }),
  diag: buildDiag,
  cluster: (doc, a) => buildCluster(doc, a, VERSION),
};
