// `scontrol show nodes -o` (add -d for GresUsed) → SlurmNode[], filled as the REST adapters fill it (buildNode):
// memory in bytes from MB, CPULoad as printed (REST's load*100 divided back), lower-case state and flags.
import type { Anomalies, GresCount, SlurmNode } from '../../model.ts';
import { mbToBytes, nodeState, note, tresGres } from '../../rest/adapters/common.ts';
import { parseGres } from '../../rest/adapters/gres.ts';
import { type KvRecord, listOfKey, numberOf, parseRecords, rawOf, requireKeys, textOf } from './records.ts';
import { localTime } from './values.ts';

const COMMAND = 'scontrol show nodes';

/** Node states as scontrol prints them (`MIXED+DRAIN`, `DOWN+NOT_RESPONDING`, `IDLE*`) → lower-case words. */
export function stateWords(s: string): string[] {
  return s
    .split('+')
    .map((w) => w.replace(/[^A-Za-z0-9_]+$/, '').toLowerCase())
    .filter((w) => w !== '');
}

/** `lab: bad DIMM [root@2026-11-24T07:10:01]` → the reason and the unix time it was set (0 when not given). */
export function splitReason(reason: string): { reason: string; at: number } {
  const m = /^(.*?)\s*\[[^\]@]*@([^\]]+)\]$/.exec(reason);
  if (!m) return { reason, at: 0 };
  return { reason: m[1] as string, at: localTime(m[2]) ?? 0 };
}

/**
 * GresUsed is printed only with -d. Without it, AllocTRES (`gres/gpu=1`) gives the counts; the model is the
 * node's own when its Gres names a single model of that type, as gres_used would name it.
 */
function gresUsedOf(r: KvRecord, gres: GresCount[], bad: (item: string) => void): GresCount[] {
  if (r.fields.has('GresUsed')) return parseGres(textOf(r, 'GresUsed'), bad);
  return tresGres(textOf(r, 'AllocTRES')).map((g) => {
    const models = gres.filter((c) => c.type === g.type);
    return g.model === '' && models.length === 1 ? { ...g, model: (models[0] as GresCount).model } : g;
  });
}

function node(r: KvRecord, a: Anomalies): SlurmNode {
  requireKeys(r, ['NodeName', 'State', 'CPUTot']);
  const { state, flags } = nodeState(stateWords(textOf(r, 'State')), undefined, a);
  const bad = (item: string) => note(a, `node gres "${item}"`);
  const gres = parseGres(textOf(r, 'Gres'), bad);
  const { reason, at } = splitReason(textOf(r, 'Reason'));
  return {
    name: rawOf(r, 'NodeName'),
    state,
    flags,
    partitions: listOfKey(r, 'Partitions'),
    cpus: numberOf(r, 'CPUTot') ?? 0,
    allocCpus: numberOf(r, 'CPUAlloc') ?? 0,
    memoryBytes: mbToBytes(numberOf(r, 'RealMemory')) ?? 0,
    allocMemoryBytes: mbToBytes(numberOf(r, 'AllocMem')) ?? 0,
    freeMemoryBytes: mbToBytes(numberOf(r, 'FreeMem')),
    cpuLoad: numberOf(r, 'CPULoad'),
    gres,
    gresUsed: gresUsedOf(r, gres, bad),
    reason,
    reasonChangedAt: at,
    features: listOfKey(r, 'AvailableFeatures'),
  };
}

/** `scontrol show nodes -o` (or without -o) stdout → nodes; throws SlurmFetchError('parse') on malformed output. */
export function parseScontrolNodes(text: string, a: Anomalies): SlurmNode[] {
  return parseRecords(text, COMMAND).map((r) => node(r, a));
}
