// `scontrol show reservations -o` → SlurmReservation[], filled as the REST reservations adapter does.
import type { Anomalies, SlurmReservation } from '../../model.ts';
import { note } from '../../rest/adapters/common.ts';
import { expandHostlist } from '../../rest/adapters/hostlist.ts';
import { flags as reservationFlags } from '../../rest/adapters/reservations.ts';
import { type KvRecord, numberOf, parseRecords, rawOf, requireKeys, textOf, timeOf } from './records.ts';

const COMMAND = 'scontrol show reservations';

function nodesOf(r: KvRecord, name: string, a: Anomalies): string[] {
  try {
    return expandHostlist(textOf(r, 'Nodes'));
  } catch (e) {
    note(a, `reservation ${name} node list: ${(e as Error).message}`);
    return [];
  }
}

function reservation(r: KvRecord, a: Anomalies): SlurmReservation {
  requireKeys(r, ['ReservationName', 'StartTime', 'EndTime']);
  const name = rawOf(r, 'ReservationName');
  const nodes = nodesOf(r, name, a);
  return {
    name,
    nodes,
    nodeCount: numberOf(r, 'NodeCnt') ?? nodes.length,
    coreCount: numberOf(r, 'CoreCnt') ?? 0,
    startTime: timeOf(r, 'StartTime'),
    endTime: timeOf(r, 'EndTime'),
    flags: reservationFlags(textOf(r, 'Flags'), a),
    partition: textOf(r, 'PartitionName'),
    users: textOf(r, 'Users'),
    accounts: textOf(r, 'Accounts'),
  };
}

/** `scontrol show reservations -o` stdout (or `No reservations in the system`) → reservations. */
export function parseScontrolReservations(text: string, a: Anomalies): SlurmReservation[] {
  return parseRecords(text, COMMAND).map((r) => reservation(r, a));
}
