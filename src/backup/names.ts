// Archive names: `<type>/<type>-backup-YYYYMMDD-HHMMSS.tar.gz[.enc]` (UTC), with a `.sha256` companion holding
// the SHA-256 of the stored bytes, so a reader checks what it fetched before it unpacks anything.
import { BACKUP_TYPES, type BackupType } from './types.ts';

export const CHECKSUM_SUFFIX = '.sha256';

export interface ArchiveName {
  key: string;
  type: BackupType;
  /** ms since the epoch, from the name. */
  timeMs: number;
  encrypted: boolean;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function archiveKey(type: BackupType, at: Date, encrypted: boolean): string {
  const stamp = `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}-${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
  return `${type}/${type}-backup-${stamp}.tar.gz${encrypted ? '.enc' : ''}`;
}

const NAME_RE = /^([a-z]+)\/([a-z]+)-backup-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})\.tar\.gz(\.enc)?$/;

/** The parts of an archive key, or undefined for anything else (checksums, foreign files). */
export function parseArchiveKey(key: string): ArchiveName | undefined {
  const m = NAME_RE.exec(key);
  if (!m || m[1] !== m[2] || !BACKUP_TYPES.includes(m[1] as BackupType)) return undefined;
  const n = m.slice(3, 9).map(Number) as [number, number, number, number, number, number];
  return { key, type: m[1] as BackupType, timeMs: Date.UTC(n[0], n[1] - 1, n[2], n[3], n[4], n[5]), encrypted: m[9] !== undefined };
}
