// /slurm/{v}/reservations (scontrol show reservation). Same fields in v0.0.38..v0.0.44; start_time and
// end_time are plain numbers in v0.0.38 and {set, infinite, number} structs from v0.0.40.
import type { Anomalies, SlurmReservation } from '../../model.ts';
import { isRecord, listOf, note, num, num0, type Rec, str } from './common.ts';
import { expandHostlist } from './hostlist.ts';

/** Reservation flags Slurm (up to 25.11) can print, lower case. Others pass through and are reported. */
const KNOWN_FLAGS: ReadonlySet<string> = new Set([
  'maint', 'no_maint', 'daily', 'no_daily', 'weekly', 'no_weekly', 'ignore_jobs', 'no_ignore_jobs', 'any_nodes',
  'no_any_nodes', 'static', 'no_static', 'part_nodes', 'no_part_nodes', 'overlap', 'spec_nodes', 'time_float',
  'replace', 'all_nodes', 'purge_comp', 'weekday', 'no_weekday', 'weekend', 'no_weekend', 'flex', 'no_flex',
  'duration_plus', 'duration_minus', 'no_hold_jobs_after_end', 'replace_down', 'no_purge_comp', 'magnetic',
  'no_magnetic', 'skip', 'hourly', 'no_hourly', 'user_delete', 'no_user_delete', 'force_start', 'reoccurring',
  'tres_per_node', 'first_cores', 'license_only', 'no_license_only', 'static_nodes',
]);

export function buildReservations(doc: Rec, a: Anomalies): SlurmReservation[] {
  return listOf(doc, 'reservations', a, reservation);
}

function reservation(r: unknown, a: Anomalies): SlurmReservation | undefined {
  if (!isRecord(r) || str(r.name) === '') {
    note(a, 'reservation record without a name (skipped)');
    return undefined;
  }
  const name = str(r.name);
  const nodes = nodeList(name, str(r.node_list), a);
  return {
    name,
    nodes,
    nodeCount: num(r.node_count) ?? nodes.length,
    coreCount: num0(r.core_count),
    startTime: num0(r.start_time),
    endTime: num0(r.end_time),
    flags: flags(r.flags, a),
    partition: str(r.partition),
    users: str(r.users),
    accounts: str(r.accounts),
  };
}

function nodeList(name: string, hostlist: string, a: Anomalies): string[] {
  try {
    return expandHostlist(hostlist);
  } catch (e) {
    note(a, `reservation ${name} node list: ${(e as Error).message}`);
    return [];
  }
}

// Flags come as an array in every captured version; a comma-separated string is read the same way.
export function flags(v: unknown, a: Anomalies): string[] {
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : [];
  const out: string[] = [];
  for (const w of list) {
    const f = str(w).trim().toLowerCase();
    if (f === '' || out.includes(f)) continue;
    if (!KNOWN_FLAGS.has(f)) note(a, `reservation flag "${f}"`);
    out.push(f);
  }
  return out;
}
