// `scontrol show partitions -o` → SlurmPartition[], filled as the REST adapters' buildPartitions does.
import type { Anomalies, SlurmPartition } from '../../model.ts';
import { note } from '../../rest/adapters/common.ts';
import { expandHostlist } from '../../rest/adapters/hostlist.ts';
import { PARTITION_STATES } from '../../states.ts';
import { type KvRecord, durationOf, numberOf, parseRecords, rawOf, requireKeys, textOf } from './records.ts';

const COMMAND = 'scontrol show partitions';
const KNOWN = new Set(PARTITION_STATES);

function nodesOf(r: KvRecord, name: string, a: Anomalies): string[] {
  try {
    return expandHostlist(textOf(r, 'Nodes'));
  } catch (e) {
    note(a, `partition ${name} node list: ${(e as Error).message}`);
    return [];
  }
}

// scontrol always prints Default=YES|NO, so unlike v0.0.40+ the answer is known; undefined only if absent.
function isDefault(r: KvRecord): boolean | undefined {
  const v = textOf(r, 'Default').toUpperCase();
  return v === '' ? undefined : v === 'YES';
}

function partition(r: KvRecord, a: Anomalies): SlurmPartition {
  requireKeys(r, ['PartitionName', 'State']);
  const name = rawOf(r, 'PartitionName');
  const state = textOf(r, 'State').toLowerCase() || 'unknown';
  if (!KNOWN.has(state)) note(a, `partition state "${state}"`);
  const nodes = nodesOf(r, name, a);
  return {
    name,
    state,
    nodes,
    totalCpus: numberOf(r, 'TotalCPUs') ?? 0,
    totalNodes: numberOf(r, 'TotalNodes') ?? nodes.length,
    isDefault: isDefault(r),
    maxTimeSeconds: durationOf(r, 'MaxTime'),
  };
}

/** `scontrol show partitions -o` stdout → partitions; throws SlurmFetchError('parse') on malformed output. */
export function parseScontrolPartitions(text: string, a: Anomalies): SlurmPartition[] {
  return parseRecords(text, COMMAND).map((r) => partition(r, a));
}
