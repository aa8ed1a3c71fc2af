// `sinfo -h -N -O <SINFO_FORMAT>` → SlurmNode[], for a Slurm without `sinfo --json`. -N prints a node once per
// partition it is in: rows are merged by node name, collecting the partitions. Filled as buildNode fills a REST
// node; what sinfo cannot say (a reason's time without Timestamp) is 0/undefined as there.
import type { Anomalies, SlurmNode } from '../../model.ts';
import { mbToBytes, nodeState, note } from '../../rest/adapters/common.ts';
import { parseGres } from '../../rest/adapters/gres.ts';
import { type DelimitedRow, formatOf, parseDelimited } from './delimited.ts';
import { stateWords } from './nodes.ts';
import { clean, commaList, fail, localTime, number } from './values.ts';

const COMMAND = 'sinfo';

/** The -O fields the parser reads, in the order the source must ask for them. */
export const SINFO_FIELDS: readonly string[] = [
  'NodeList', 'StateComplete', 'CPUsState', 'Memory', 'AllocMem', 'FreeMem', 'CPUsLoad', 'Partition', 'Gres',
  'GresUsed', 'Features', 'Timestamp', 'Reason',
];

/** The argument of -O: every field with the `:|` suffix, so node names over 20 characters are not cut. */
export const SINFO_FORMAT: string = formatOf(SINFO_FIELDS);

function num(row: DelimitedRow, field: string): number | undefined {
  const n = number(row.get(field));
  if (Number.isNaN(n)) fail(COMMAND, row.line, `${field} "${row.get(field)}" is not a number`);
  return n;
}

/** CPUsState `allocated/idle/other/total`. */
function cpus(row: DelimitedRow): { alloc: number; total: number } {
  const m = /^(\d+)\/(\d+)\/(\d+)\/(\d+)$/.exec(row.get('CPUsState'));
  if (!m) fail(COMMAND, row.line, `CPUsState "${row.get('CPUsState')}" is not allocated/idle/other/total`);
  return { alloc: Number(m[1]), total: Number(m[4]) };
}

/**
 * sinfo counts the idle CPUs of a draining node as "other" and then calls it allocated (`allocated+drain`, 1/0/3/4)
 * where slurmctld, scontrol and REST say MIXED: a node with some but not all CPUs allocated is mixed.
 */
function baseState(state: string, c: { alloc: number; total: number }): string {
  return state === 'allocated' && c.alloc > 0 && c.alloc < c.total ? 'mixed' : state;
}

function node(row: DelimitedRow, a: Anomalies): SlurmNode {
  const name = row.get('NodeList');
  if (name === '' || row.get('StateComplete') === '') fail(COMMAND, row.line, 'line without a NodeList or StateComplete');
  const c = cpus(row);
  const st = nodeState(stateWords(row.get('StateComplete')), undefined, a);
  const bad = (item: string) => note(a, `node gres "${item}"`);
  const reason = clean(row.get('Reason'));
  const at = localTime(row.get('Timestamp'));
  if (at === undefined) fail(COMMAND, row.line, `Timestamp "${row.get('Timestamp')}" is not a timestamp (is SLURM_TIME_FORMAT set?)`);
  return {
    name,
    state: baseState(st.state, c),
    flags: st.flags,
    // The default partition is printed with a trailing `*`.
    partitions: commaList(row.get('Partition')).map((p) => p.replace(/\*$/, '')),
    cpus: c.total,
    allocCpus: c.alloc,
    memoryBytes: mbToBytes(num(row, 'Memory')) ?? 0,
    allocMemoryBytes: mbToBytes(num(row, 'AllocMem')) ?? 0,
    freeMemoryBytes: mbToBytes(num(row, 'FreeMem')),
    cpuLoad: num(row, 'CPUsLoad'),
    gres: parseGres(row.get('Gres'), bad),
    gresUsed: parseGres(row.get('GresUsed'), bad),
    reason,
    reasonChangedAt: reason === '' ? 0 : at,
    features: commaList(row.get('Features')),
  };
}

/**
 * sinfo -N stdout → one node per name, partitions merged. `fields` is the -O list the output was made with
 * (SINFO_FIELDS unless testing another); `terminated` says every field had the `|` suffix.
 */
export function parseSinfoNodes(text: string, a: Anomalies, fields: readonly string[] = SINFO_FIELDS, terminated = true): SlurmNode[] {
  const byName = new Map<string, SlurmNode>();
  for (const row of parseDelimited(text, COMMAND, { fields, terminated, absorb: 'Reason' })) {
    const n = node(row, a);
    const seen = byName.get(n.name);
    if (!seen) byName.set(n.name, n);
    else for (const p of n.partitions) if (!seen.partitions.includes(p)) seen.partitions.push(p);
  }
  return [...byName.values()];
}
