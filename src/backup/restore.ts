// Restore: the archive is decrypted and unpacked into a private staging directory and checked whole (every
// checksum, the manifest, every path and entry type) before anything at the target is touched; then each file is
// written next to its destination and renamed over it, and what it replaces is copied to a rollback folder first.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, rename, rm, stat, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ArchiveError, extractArchive, type Manifest, type ManifestFile } from './archive.ts';
import { decrypt, type KeyRing } from './crypto.ts';

export type RestoreAction = 'create' | 'replace' | 'unchanged';

export interface RestoreItem {
  path: string;
  dest: string;
  action: RestoreAction;
}

export interface RestoreOptions {
  /** The archive's name (key), for messages; `.enc` means encrypted. */
  archive: string;
  /** Directory to restore into; without it each file goes back to where it came from (its origin). */
  target?: string;
  ring?: KeyRing;
  /** Restore only this archive path. */
  only?: string;
  dryRun?: boolean;
  /** SHA-256 of the stored archive (its `.sha256` companion): catches changes that leave the contents intact. */
  sha256?: string;
  /** Where replaced files are kept; default `<target or />.../slurm-exporter-rollback-<time>` under the temp dir. */
  rollbackDir?: string;
}

export interface RestoreResult {
  manifest: Manifest;
  items: RestoreItem[];
  /** Set when files were replaced. */
  rollbackDir?: string;
}

/** The plain .tar.gz bytes of a stored archive. */
export function plainBody(body: AsyncIterable<Uint8Array>, archive: string, ring: KeyRing | undefined): AsyncIterable<Uint8Array> {
  return archive.endsWith('.enc') ? decrypt(body, ring, archive) : body;
}

/**
 * Passes the bytes on and, at their end, compares their SHA-256 with the expected one. Deflate has bits that do
 * not change the output, so only the whole file's checksum catches every changed byte of an unencrypted archive.
 */
export async function* checkedBody(body: AsyncIterable<Uint8Array>, archive: string, sha256: string | undefined): AsyncGenerator<Uint8Array> {
  const h = createHash('sha256');
  for await (const c of body) {
    h.update(c);
    yield c;
  }
  if (sha256 !== undefined && h.digest('hex') !== sha256) throw new ArchiveError(archive, 'SHA-256 of the archive does not match the one recorded with it (changed or damaged)');
}

async function sha256Of(file: string): Promise<string | undefined> {
  try {
    const h = createHash('sha256');
    for await (const c of createReadStream(file) as AsyncIterable<Buffer>) h.update(c);
    return h.digest('hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function destOf(f: ManifestFile, opts: RestoreOptions): string {
  if (opts.target) return path.join(opts.target, ...f.path.split('/'));
  if (f.origin && path.isAbsolute(f.origin)) return f.origin;
  throw new Error(`${opts.archive}: "${f.path}" has no recorded origin; restore it with --target <directory>`);
}

async function plan(manifest: Manifest, opts: RestoreOptions): Promise<RestoreItem[]> {
  const files = manifest.files.filter((f) => opts.only === undefined || f.path === opts.only);
  if (opts.only !== undefined && files.length === 0) throw new Error(`${opts.archive}: has no file "${opts.only}"`);
  const items: RestoreItem[] = [];
  for (const f of files) {
    const dest = destOf(f, opts);
    const current = await sha256Of(dest);
    items.push({ path: f.path, dest, action: current === undefined ? 'create' : current === f.sha256 ? 'unchanged' : 'replace' });
  }
  return items;
}

/** Writes src over dest atomically: a temporary file in dest's directory, fsync, rename, fsync of the directory. */
export async function atomicCopy(src: string, dest: string, mode: number): Promise<void> {
  const dir = path.dirname(dest);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(dest)}.restore-${randomBytes(4).toString('hex')}`);
  try {
    await copyFile(src, tmp);
    await chmod(tmp, mode);
    const fh = await open(tmp, 'r+');
    await fh.sync().finally(() => fh.close());
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const dh = await open(dir, 'r');
  await dh.sync().catch(() => undefined).finally(() => dh.close());
}

async function apply(items: RestoreItem[], manifest: Manifest, staging: string, rollbackDir: string): Promise<boolean> {
  let replaced = false;
  const byPath = new Map(manifest.files.map((f) => [f.path, f]));
  for (const it of items) {
    if (it.action === 'unchanged') continue;
    if (it.action === 'replace') {
      const keep = path.join(rollbackDir, ...it.path.split('/'));
      await mkdir(path.dirname(keep), { recursive: true });
      await copyFile(it.dest, keep);
      replaced = true;
    }
    await atomicCopy(path.join(staging, ...it.path.split('/')), it.dest, (byPath.get(it.path) as ManifestFile).mode);
  }
  return replaced;
}

/** Restores (or, with dryRun, only plans) an archive; throws ArchiveError/CryptoError with the target unchanged. */
export async function restoreArchive(body: AsyncIterable<Uint8Array>, opts: RestoreOptions): Promise<RestoreResult> {
  const staging = await mkdtemp(path.join(tmpdir(), 'slurm-exporter-restore-'));
  try {
    const only = opts.only;
    const manifest = await extractArchive(plainBody(checkedBody(body, opts.archive, opts.sha256), opts.archive, opts.ring), {
      archive: opts.archive,
      staging,
      only: only === undefined ? undefined : (p) => p === only,
    });
    const items = await plan(manifest, opts);
    if (opts.dryRun) return { manifest, items };
    const rollbackDir = opts.rollbackDir ?? path.join(tmpdir(), `slurm-exporter-rollback-${new Date().toISOString().replace(/[:.]/g, '')}`);
    const replaced = await apply(items, manifest, staging, rollbackDir);
    return replaced ? { manifest, items, rollbackDir } : { manifest, items };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Checks an archive whole (decrypt, every checksum, unpack into a temporary directory) without restoring it. */
export async function verifyArchive(body: AsyncIterable<Uint8Array>, archive: string, ring: KeyRing | undefined, sha256?: string): Promise<Manifest> {
  const staging = await mkdtemp(path.join(tmpdir(), 'slurm-exporter-verify-'));
  try {
    return await extractArchive(plainBody(checkedBody(body, archive, sha256), archive, ring), { archive, staging });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
