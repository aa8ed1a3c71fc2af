// v0.0.40 (Slurm 23.11 data_parser, still served by 25.05): numbers as {set, infinite, number} structs, node and
// job states as arrays (["MIXED","PLANNED"], ["COMPLETED","COMPLETING"]), `free_mem`, features as arrays, and
// partitions with nested objects (nodes.configured, cpus.total, maximums.time, partition.state). Every later
// version up to v0.0.44 keeps these field names for what the exporter reads, so they reuse this shape.
// Slurm 23.11's data_parser dropped the partition flags, DEFAULT among them: unless an answer carries a flags
// list after all, whether a partition is the default is unknown, never guessed as false.
import { type ApiAdapter, type Rec, buildCluster, buildDiag, buildJob, buildNode, buildPartitions, isRecord, jobState, nodeState, num, strList } from './common.ts';
import { resourcePath } from '../../resources.ts';

const sub = (r: Rec, k: string): Rec => (isRecord(r[k]) ? r[k] : {});

export function dataParserAdapter(version: string): ApiAdapter {
  return {
    version,
    path: (kind) => resourcePath(kind, version),
    node: (raw, a) =>
      buildNode(raw, a, {
        state: (r, an) => nodeState(r.state, undefined, an),
        freeMemMb: (r) => num(r.free_mem),
      }),
    job: (raw, a) => buildJob(raw, a, (r, an) => jobState(r.job_state, an)),
    partitions: (doc, a) =>
      buildPartitions(doc, a, {
        state: (r) => sub(r, 'partition').state,
        nodes: (r) => sub(r, 'nodes').configured,
        totalCpus: (r) => sub(r, 'cpus').total,
        totalNodes: (r) => sub(r, 'nodes').total,
        isDefault: (r) => {
          const flags = r.flags ?? sub(r, 'partition').flags;
          return Array.isArray(flags) ? strList(flags).some((f) => f.toLowerCase() === 'default') : undefined;
        },
        maxTime: (r) => sub(r, 'maximums').time,
      }),
    diag: buildDiag,
    cluster: (doc, a) => buildCluster(doc, a, version),
  };
}

export const v0040: ApiAdapter = dataParserAdapter('v0.0.40');
