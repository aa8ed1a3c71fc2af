// /slurm/{v}/shares (sshare -a -l), served since v0.0.39. Every version nests the list as
// {"shares": {"shares": [...], "total_shares": n}}; v0.0.40/41 print some doubles plainly (effective_usage,
// fairshare.factor/level) where v0.0.42+ use {set, infinite, number} structs, and they spell "not set" and
// "infinite" as the raw sentinels 4294967294 and 2^64.
import type { Anomalies, ShareEntry } from '../../model.ts';
import { isRecord, listOf, note, num, type Rec, str } from './common.ts';

/** The members shareEntry reads: the stream reader parses only these (the per-TRES lists are most of the bytes). */
export const SHARE_FIELDS: ReadonlySet<string> = new Set([
  'name', 'type', 'parent', 'partition', 'shares', 'shares_normalized', 'usage', 'usage_normalized', 'effective_usage', 'fairshare',
]);

// SLURMDB_FS_USE_PARENT: `Fairshare=parent`, which sshare prints as "parent" and gives no LevelFS.
const USE_PARENT = 0x7fffffff;

export function buildShares(doc: Rec, a: Anomalies): ShareEntry[] {
  return listOf(doc, 'shares', a, shareEntry);
}

// sshare tells a user row from an account row by its User column; the JSON says it with type USER vs ASSOCIATION.
function kindOf(type: unknown, a: Anomalies): ShareEntry['kind'] | undefined {
  const words = (Array.isArray(type) ? type : [type]).map((w) => str(w).toUpperCase());
  if (words.includes('USER')) return 'user';
  if (words.includes('ASSOCIATION') || words.includes('ACCOUNT')) return 'account';
  note(a, `share record type "${words.join(',')}" (skipped)`);
  return undefined;
}

/** One element of the shares list; undefined (and an anomaly) when it cannot be read. */
export function shareEntry(r: unknown, a: Anomalies): ShareEntry | undefined {
  if (!isRecord(r) || str(r.name) === '') {
    note(a, 'share record without a name (skipped)');
    return undefined;
  }
  const kind = kindOf(r.type, a);
  if (!kind) return undefined;
  const fs = isRecord(r.fairshare) ? r.fairshare : {};
  const raw = num(r.shares);
  const fromParent = raw === USE_PARENT;
  return {
    kind,
    name: str(r.name),
    account: str(r.parent),
    partition: str(r.partition),
    rawShares: fromParent ? undefined : raw,
    normalizedShares: num(r.shares_normalized),
    rawUsage: num(r.usage),
    normalizedUsage: num(r.usage_normalized),
    effectiveUsage: num(r.effective_usage),
    fairshareFactor: kind === 'user' ? num(fs.factor) : undefined,
    levelFairshare: fromParent ? undefined : levelFs(fs.level),
  };
}

// LevelFS is shares/usage, so an association that used nothing has an infinite one (sshare prints "inf").
function levelFs(v: unknown): number | undefined {
  if (isRecord(v) && v.infinite === true) return Infinity;
  if (typeof v === 'number' && v >= 2 ** 63) return Infinity;
  return num(v);
}
