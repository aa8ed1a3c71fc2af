// What the backup commands do, apart from parsing flags and printing: create (to every destination, then read
// each copy back), list, verify (checksums, a trial restore, RPO and retention) and prune.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { buildArchive, type Manifest } from './archive.ts';
import { longestGapMs, parseCron } from './cron.ts';
import { encrypt, type KeyRing } from './crypto.ts';
import { archiveKey, CHECKSUM_SUFFIX, parseArchiveKey, type ArchiveName } from './names.ts';
import { verifyArchive } from './restore.ts';
import { BACKUP_TYPES, DestinationError, type BackupSource, type BackupType, type Destination } from './types.ts';

/** A configured destination. */
export interface Target {
  dest: Destination;
  required: boolean;
  /** Per-type retention at this destination, overriding the type's. */
  retentionMs?: Partial<Record<BackupType, number>>;
}

export interface TypePolicy {
  enabled: boolean;
  schedule: string;
  retentionMs: number;
}

export type Log = (msg: string, fields?: Record<string, unknown>) => void;

export interface Progress {
  (phase: string, bytes: number, total: number): void;
}

export interface StoredCopy {
  destination: string;
  ok: boolean;
  error?: string;
}

export interface CreateResult {
  type: BackupType;
  key: string;
  sha256: string;
  size: number;
  durationMs: number;
  manifest: Manifest;
  copies: StoredCopy[];
  /** Every required destination holds it and its checksum read back. */
  done: boolean;
}

export interface CreateOptions {
  source: BackupSource;
  targets: readonly Target[];
  ring: KeyRing | undefined;
  signal: AbortSignal;
  log: Log;
  now?: Date;
  progress?: Progress;
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function sha256Stream(body: AsyncIterable<Uint8Array>): Promise<string> {
  const h = createHash('sha256');
  for await (const c of body) h.update(c);
  return h.digest('hex');
}

/** Writes the final bytes once to a temporary file: their size and checksum are needed before any upload. */
async function spoolFinal(body: AsyncIterable<Uint8Array>, file: string): Promise<{ size: number; sha256: string }> {
  const h = createHash('sha256');
  let size = 0;
  const count = async function* () {
    for await (const c of body) {
      h.update(c);
      size += c.byteLength;
      yield c;
    }
  };
  await pipeline(Readable.from(count()), createWriteStream(file, { mode: 0o600 }));
  return { size, sha256: h.digest('hex') };
}

async function storeCopy(t: Target, key: string, file: string, size: number, sha256: string, o: CreateOptions): Promise<StoredCopy> {
  const name = t.dest.name;
  try {
    await t.dest.put(key, createReadStream(file), size, o.signal, (n) => o.progress?.(`upload to ${name}`, n, size));
    const line = Buffer.from(`${sha256}  ${path.posix.basename(key)}\n`);
    await t.dest.put(key + CHECKSUM_SUFFIX, Readable.from([line]), line.length, o.signal);
    const back = await sha256Stream(await t.dest.get(key, o.signal, (n) => o.progress?.(`read back from ${name}`, n, size)));
    if (back !== sha256) return { destination: name, ok: false, error: `${name}: ${key} reads back with another SHA-256 (${back}, wrote ${sha256})` };
    return { destination: name, ok: true };
  } catch (err) {
    return { destination: name, ok: false, error: errText(err) };
  }
}

/** Creates one backup and stores it at every destination. */
export async function createBackup(o: CreateOptions): Promise<CreateResult> {
  const started = Date.now();
  const now = o.now ?? new Date();
  const type = o.source.type;
  const key = archiveKey(type, now, o.ring !== undefined);
  const work = await mkdtemp(path.join(tmpdir(), 'slurm-exporter-create-'));
  const built = await buildArchive(type, o.source.collect({ signal: o.signal, log: o.log, encrypted: o.ring !== undefined }), now);
  try {
    const file = path.join(work, 'archive');
    const body = o.ring ? encrypt(built.body, o.ring) : built.body;
    const { size, sha256 } = await spoolFinal(body, file);
    const copies: StoredCopy[] = [];
    for (const t of o.targets) copies.push(await storeCopy(t, key, file, size, sha256, o));
    const done = o.targets.length > 0 && o.targets.every((t, i) => !t.required || copies[i]?.ok === true);
    return { type, key, sha256, size, durationMs: Date.now() - started, manifest: built.manifest, copies, done };
  } finally {
    await built.cleanup();
    await rm(work, { recursive: true, force: true });
  }
}

/** The archives at a destination, newest first, optionally of one type. */
export async function listArchives(dest: Destination, signal: AbortSignal, type?: BackupType): Promise<(ArchiveName & { size: number })[]> {
  const objects = await dest.list(type ? `${type}/` : '', signal);
  const out: (ArchiveName & { size: number })[] = [];
  for (const o of objects) {
    const n = parseArchiveKey(o.key);
    if (n) out.push({ ...n, size: o.size });
  }
  return out.sort((a, b) => b.timeMs - a.timeMs);
}

/** The recorded SHA-256 of an archive, or undefined when it has none. */
export async function recordedChecksum(dest: Destination, key: string, signal: AbortSignal): Promise<string | undefined> {
  try {
    const parts: Buffer[] = [];
    for await (const c of await dest.get(key + CHECKSUM_SUFFIX, signal)) parts.push(Buffer.from(c));
    const text = Buffer.concat(parts).toString('utf8');
    return /^[0-9a-f]{64}/.exec(text.trim())?.[0];
  } catch (err) {
    if (err instanceof DestinationError && err.kind === 'missing') return undefined;
    throw err;
  }
}

export interface ReadChoice {
  target: Target;
  /** Set when the primary could not be read and the secondary is used instead. */
  fallbackReason?: string;
}

/** The first destination that answers a listing: the primary, else the secondary (saying why). */
export async function readableTarget(targets: readonly Target[], signal: AbortSignal): Promise<ReadChoice> {
  const problems: string[] = [];
  for (const t of targets) {
    try {
      await t.dest.list('', signal);
      return problems.length ? { target: t, fallbackReason: problems.join('; ') } : { target: t };
    } catch (err) {
      if (!(err instanceof DestinationError) || err.kind === 'missing') throw err;
      problems.push(`${t.dest.name} unreachable (${err.message})`);
    }
  }
  throw new Error(`no destination can be read: ${problems.join('; ') || 'none configured'}`);
}

const gapCache = new Map<string, number>();

/** The longest time the schedule leaves between two backups: the age the newest backup may have (the RPO). */
export function allowedAgeMs(schedule: string): number {
  let gap = gapCache.get(schedule);
  if (gap === undefined) {
    gap = longestGapMs(parseCron(schedule));
    gapCache.set(schedule, gap);
  }
  // The run itself takes time; an hour of slack keeps a slow backup from failing the check.
  return gap + Math.min(3600_000, gap / 4);
}

export interface TypeVerdict {
  type: BackupType;
  destination: string;
  newest?: string;
  ageMs?: number;
  allowedAgeMs: number;
  /** Problems found; empty when the type passes. */
  problems: string[];
  files?: number;
}

export interface VerifyOptions {
  targets: readonly Target[];
  ring: KeyRing | undefined;
  policies: Record<BackupType, TypePolicy>;
  signal: AbortSignal;
  now?: Date;
  types?: readonly BackupType[];
}

async function verifyType(type: BackupType, choice: ReadChoice, policy: TypePolicy, o: VerifyOptions): Promise<TypeVerdict> {
  const now = (o.now ?? new Date()).getTime();
  const d = choice.target.dest;
  const verdict: TypeVerdict = { type, destination: d.name, allowedAgeMs: allowedAgeMs(policy.schedule), problems: [] };
  const archives = await listArchives(d, o.signal, type);
  const newest = archives[0];
  if (!newest) {
    verdict.problems.push(`no ${type} backup at ${d.name}`);
    return verdict;
  }
  verdict.newest = newest.key;
  verdict.ageMs = now - newest.timeMs;
  if (verdict.ageMs > verdict.allowedAgeMs) {
    verdict.problems.push(`newest ${type} backup ${newest.key} is ${hours(verdict.ageMs)} old; the schedule "${policy.schedule}" allows ${hours(verdict.allowedAgeMs)} (RPO missed)`);
  }
  const oldest = archives[archives.length - 1] as ArchiveName;
  const retention = choice.target.retentionMs?.[type] ?? policy.retentionMs;
  if (archives.length > 1 && now - oldest.timeMs > retention + verdict.allowedAgeMs) {
    verdict.problems.push(`retention not kept at ${d.name}: ${oldest.key} is ${hours(now - oldest.timeMs)} old, retention is ${hours(retention)} (run backup prune)`);
  }
  try {
    const sha = await recordedChecksum(d, newest.key, o.signal);
    if (sha === undefined) verdict.problems.push(`${d.name}: ${newest.key} has no ${CHECKSUM_SUFFIX} next to it`);
    const m = await verifyArchive(await d.get(newest.key, o.signal), newest.key, o.ring, sha);
    verdict.files = m.files.length;
  } catch (err) {
    verdict.problems.push(errText(err));
  }
  return verdict;
}

function hours(ms: number): string {
  return ms >= 48 * 3600_000 ? `${(ms / 86400_000).toFixed(1)} days` : `${(ms / 3600_000).toFixed(1)} h`;
}

/** Verifies the newest backup of each enabled type at the first readable destination. */
export async function verifyBackups(o: VerifyOptions): Promise<{ choice: ReadChoice; verdicts: TypeVerdict[] }> {
  const choice = await readableTarget(o.targets, o.signal);
  const types = o.types ?? BACKUP_TYPES.filter((t) => o.policies[t].enabled);
  const verdicts: TypeVerdict[] = [];
  for (const t of types) verdicts.push(await verifyType(t, choice, o.policies[t], o));
  return { choice, verdicts };
}

export interface PruneResult {
  destination: string;
  deleted: string[];
  kept: number;
  error?: string;
}

/** Deletes archives older than their retention at every destination; the newest of each type always stays. */
export async function pruneBackups(targets: readonly Target[], policies: Record<BackupType, TypePolicy>, signal: AbortSignal, now = new Date(), dryRun = false): Promise<PruneResult[]> {
  const out: PruneResult[] = [];
  for (const t of targets) {
    const r: PruneResult = { destination: t.dest.name, deleted: [], kept: 0 };
    try {
      for (const type of BACKUP_TYPES) {
        const retention = t.retentionMs?.[type] ?? policies[type].retentionMs;
        const [newest, ...rest] = await listArchives(t.dest, signal, type);
        if (newest) r.kept++;
        for (const a of rest) {
          if (now.getTime() - a.timeMs <= retention) {
            r.kept++;
            continue;
          }
          if (!dryRun) {
            await t.dest.delete(a.key, signal);
            await t.dest.delete(a.key + CHECKSUM_SUFFIX, signal).catch(() => undefined);
          }
          r.deleted.push(a.key);
        }
      }
    } catch (err) {
      r.error = errText(err);
    }
    out.push(r);
  }
  return out;
}
