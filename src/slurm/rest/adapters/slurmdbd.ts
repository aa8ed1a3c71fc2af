// /slurmdb/{v}/diag (sacctmgr show stats): slurmdbd's RPC statistics. The same shape in v0.0.38..v0.0.44:
// statistics.RPCs[] {rpc, count, time {average, total}} and statistics.users[] {user, count, time}, times in
// microseconds (average * count = total in every capture).
import type { Anomalies, DbdPing, SlurmdbdStats } from '../../model.ts';
import { type Rec, isRecord, note, num, num0, str, usToSeconds } from './common.ts';

export function buildDbdStats(doc: Rec, a: Anomalies): SlurmdbdStats {
  const s = doc.statistics;
  if (!isRecord(s)) {
    note(a, 'slurmdbd diag answer without statistics');
    return { statsResetTime: undefined, rpcByType: [], rpcByUser: [] };
  }
  const start = num(s.time_start);
  return {
    statsResetTime: start === undefined || start === 0 ? undefined : start,
    rpcByType: rows(s.RPCs ?? s.rpcs, 'rpc', 'slurmdbd RPC', a).map(({ key, count, totalTimeSeconds }) => ({ name: key, count, totalTimeSeconds })),
    rpcByUser: rows(s.users, 'user', 'slurmdbd user', a).map(({ key, count, totalTimeSeconds }) => ({ user: key, count, totalTimeSeconds })),
  };
}

interface Row {
  key: string;
  count: number;
  totalTimeSeconds: number;
}

function rows(v: unknown, keyField: string, what: string, a: Anomalies): Row[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    note(a, `${what} statistics are not a list`);
    return [];
  }
  const out: Row[] = [];
  for (const r of v) {
    const key = isRecord(r) ? str(r[keyField]) : '';
    if (!isRecord(r) || key === '') {
      note(a, `${what} record without a ${keyField} (skipped)`);
      continue;
    }
    out.push({ key, count: num0(r.count), totalTimeSeconds: totalMicros(r) / 1e6 });
  }
  return out;
}

// time.total is the documented place; a flat total_time (slurmctld's /diag spelling) is read as a fallback.
function totalMicros(r: Rec): number {
  const t = r.time;
  if (isRecord(t)) return num0(t.total);
  return num0(r.total_time ?? t);
}

/** /slurmdb/{v}/ping: one entry per slurmdbd (primary, backup), latency in microseconds. */
export function buildDbdPing(doc: Rec, a: Anomalies): DbdPing[] {
  if (!Array.isArray(doc.pings)) {
    note(a, 'slurmdbd ping answer without a pings array');
    return [];
  }
  const out: DbdPing[] = [];
  for (const p of doc.pings) {
    if (!isRecord(p) || typeof p.hostname !== 'string') {
      note(a, 'slurmdbd ping entry without a hostname (skipped)');
      continue;
    }
    out.push({ hostname: p.hostname, responding: p.responding === true, latencySeconds: usToSeconds(p.latency) });
  }
  return out;
}
