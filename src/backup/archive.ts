// The archive format: a ustar tar, gzip-compressed, whose first entry is manifest.json (every file with its
// size, mode and SHA-256). The reader extracts into a staging directory the caller owns and checks everything
// before the caller touches a real target, so a refused archive changes nothing an operator cares about.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { VERSION } from '../version.ts';
import type { BackupType, SourceFile } from './types.ts';
import { BACKUP_TYPES } from './types.ts';
import { ByteReader } from './byte-reader.ts';

export const MANIFEST_NAME = 'manifest.json';
const BLOCK = 512;
// ustar's 11 octal digits of size.
const MAX_SIZE = 8 ** 11 - 1;

export interface ManifestFile {
  path: string;
  size: number;
  mode: number;
  sha256: string;
  mtimeMs: number;
  origin?: string;
}

export interface Manifest {
  format: 1;
  type: BackupType;
  /** ISO 8601, UTC. */
  createdAt: string;
  host: string;
  exporterVersion: string;
  files: ManifestFile[];
}

/** A refused archive: which archive (and entry, when one is to blame) and why. */
export class ArchiveError extends Error {
  readonly archive: string;
  readonly entry: string | undefined;
  constructor(archive: string, reason: string, entry?: string) {
    super(entry === undefined ? `${archive}: ${reason}` : `${archive}: entry "${entry}": ${reason}`);
    this.name = 'ArchiveError';
    this.archive = archive;
    this.entry = entry;
  }
}

/** Why a path may not be in an archive, or undefined when it may. */
export function unsafePathReason(p: string): string | undefined {
  if (p === '') return 'empty path';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'absolute path';
  if (p.includes('\\')) return 'backslash in path';
  if (p.includes('\0')) return 'NUL in path';
  const parts = p.split('/');
  if (parts.includes('..')) return '".." in path';
  if (parts.some((s) => s === '' || s === '.')) return 'empty or "." path segment';
  return undefined;
}

// ---------------------------------------------------------------- writing

interface Spooled {
  entry: ManifestFile;
  file: string;
}

/** Copies each source file to the spool directory while hashing it: the manifest must precede the files. */
async function spool(files: AsyncIterable<SourceFile>, dir: string): Promise<Spooled[]> {
  const out: Spooled[] = [];
  const seen = new Set<string>();
  for await (const f of files) {
    const reason = unsafePathReason(f.path);
    if (reason) throw new Error(`source file "${f.path}": ${reason}`);
    if (seen.has(f.path)) throw new Error(`source file "${f.path}": given twice`);
    seen.add(f.path);
    const file = path.join(dir, String(out.length));
    const hash = createHash('sha256');
    let size = 0;
    const counted = async function* () {
      for await (const c of f.read()) {
        hash.update(c);
        size += c.byteLength;
        yield c;
      }
    };
    await pipeline(Readable.from(counted()), createWriteStream(file, { mode: 0o600 }));
    if (size > MAX_SIZE) throw new Error(`source file "${f.path}": ${size} bytes is more than an archive entry holds`);
    const entry: ManifestFile = { path: f.path, size, mode: f.mode & 0o7777, sha256: hash.digest('hex'), mtimeMs: Math.trunc(f.mtimeMs) };
    if (f.origin !== undefined) entry.origin = f.origin;
    out.push({ entry, file });
  }
  return out;
}

function octal(buf: Buffer, value: number, offset: number, width: number): void {
  buf.write(value.toString(8).padStart(width - 1, '0') + '\0', offset, width, 'ascii');
}

/** Splits a path into ustar's prefix and name fields, or throws when it does not fit. */
function splitName(p: string): [string, string] {
  if (Buffer.byteLength(p) <= 100) return ['', p];
  for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) {
    const prefix = p.slice(0, i);
    const name = p.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return [prefix, name];
  }
  throw new Error(`source file "${p}": path too long for the archive format (at most 255 bytes, names at most 100)`);
}

export function tarHeader(p: string, size: number, mode: number, mtimeMs: number, typeflag = '0', linkname = ''): Buffer {
  const h = Buffer.alloc(BLOCK);
  const [prefix, name] = splitName(p);
  h.write(name, 0, 100, 'utf8');
  octal(h, mode & 0o7777, 100, 8);
  octal(h, 0, 108, 8);
  octal(h, 0, 116, 8);
  octal(h, size, 124, 12);
  octal(h, Math.max(0, Math.floor(mtimeMs / 1000)), 136, 12);
  h.write('        ', 148, 8, 'ascii');
  h.write(typeflag, 156, 1, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0' + '00', 257, 8, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

async function* tarStream(manifestBytes: Buffer, spooled: Spooled[], createdMs: number): AsyncGenerator<Uint8Array> {
  yield tarHeader(MANIFEST_NAME, manifestBytes.length, 0o644, createdMs);
  yield manifestBytes;
  yield padding(manifestBytes.length);
  for (const s of spooled) {
    yield tarHeader(s.entry.path, s.entry.size, s.entry.mode, s.entry.mtimeMs);
    let n = 0;
    for await (const c of createReadStream(s.file) as AsyncIterable<Buffer>) {
      n += c.length;
      yield c;
    }
    if (n !== s.entry.size) throw new Error(`source file "${s.entry.path}" changed while the archive was written`);
    yield padding(s.entry.size);
  }
  yield Buffer.alloc(BLOCK * 2);
}

export interface BuiltArchive {
  manifest: Manifest;
  /** The .tar.gz bytes; may be read once. */
  body: AsyncIterable<Uint8Array>;
  /** Removes the spooled copies; call when done with body. */
  cleanup(): Promise<void>;
}

/** Collects the files (spooled to a private temporary directory) and returns the manifest and the archive bytes. */
export async function buildArchive(type: BackupType, files: AsyncIterable<SourceFile>, now = new Date()): Promise<BuiltArchive> {
  const dir = await mkdtemp(path.join(tmpdir(), 'slurm-exporter-backup-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const spooled = await spool(files, dir);
    const manifest: Manifest = {
      format: 1,
      type,
      createdAt: now.toISOString(),
      host: hostname(),
      exporterVersion: VERSION,
      files: spooled.map((s) => s.entry),
    };
    const bytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
    const gz = createGzip();
    const body = Readable.from(tarStream(bytes, spooled, now.getTime())).pipe(gz);
    return { manifest, body, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

// ---------------------------------------------------------------- reading

interface Header {
  path: string;
  size: number;
  mode: number;
  typeflag: string;
}

function field(h: Buffer, offset: number, width: number): string {
  const raw = h.subarray(offset, offset + width);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? width : end).toString('utf8');
}

function parseOctal(h: Buffer, offset: number, width: number): number {
  const text = field(h, offset, width).trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : NaN;
}

/** Parses a header block; returns a reason string when it is damaged. */
function parseHeader(h: Buffer): Header | string {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] as number);
  if (parseOctal(h, 148, 8) !== sum) return 'damaged tar header (checksum mismatch)';
  const prefix = field(h, 345, 155);
  const name = field(h, 0, 100);
  const size = parseOctal(h, 124, 12);
  const mode = parseOctal(h, 100, 8);
  if (!Number.isFinite(size) || !Number.isFinite(mode)) return 'damaged tar header (size or mode)';
  return { path: prefix ? `${prefix}/${name}` : name, size, mode, typeflag: field(h, 156, 1) || '0' };
}

const TYPE_NAMES: Record<string, string> = { '1': 'hard link', '2': 'symbolic link', '3': 'character device', '4': 'block device', '6': 'FIFO' };

function typeReason(typeflag: string): string | undefined {
  if (typeflag === '0' || typeflag === '5') return undefined;
  const known = TYPE_NAMES[typeflag];
  // Links are refused outright: restoring never needs one, and a link is how an archive escapes its target.
  if (typeflag === '1' || typeflag === '2') return `${known} entries are not allowed`;
  return known ? `${known} entries are not allowed` : `unknown entry type "${typeflag}"`;
}

function checkManifest(archive: string, value: unknown): Manifest {
  const m = value as Partial<Manifest> | null;
  const bad = (why: string) => new ArchiveError(archive, `manifest.json: ${why}`);
  if (!m || typeof m !== 'object') throw bad('not an object');
  if (m.format !== 1) throw bad(`unknown format ${String(m.format)}`);
  if (!BACKUP_TYPES.includes(m.type as BackupType)) throw bad(`unknown type ${String(m.type)}`);
  if (!Array.isArray(m.files)) throw bad('no file list');
  for (const f of m.files) {
    const ok = f && typeof f.path === 'string' && Number.isInteger(f.size) && Number.isInteger(f.mode) && /^[0-9a-f]{64}$/.test(String(f.sha256));
    if (!ok) throw bad('a file entry lacks path, size, mode or sha256');
    const reason = unsafePathReason(f.path);
    if (reason) throw new ArchiveError(archive, reason, f.path);
  }
  return m as Manifest;
}

export interface ExtractOptions {
  /** Name of the archive for messages (its key at the destination). */
  archive: string;
  /** Empty directory the files are written into; the caller removes it when a refusal is thrown. */
  staging: string;
  /** Only these archive paths are written (all are still checked). */
  only?: (path: string) => boolean;
}

async function readManifest(r: ByteReader, archive: string): Promise<Manifest> {
  const h = await r.take(BLOCK);
  if (h.length < BLOCK) throw new ArchiveError(archive, 'cut short: no manifest');
  const hdr = parseHeader(h);
  if (typeof hdr === 'string') throw new ArchiveError(archive, hdr, MANIFEST_NAME);
  if (hdr.path !== MANIFEST_NAME || hdr.typeflag !== '0') throw new ArchiveError(archive, 'the first entry is not manifest.json');
  if (hdr.size > 64 * 1024 * 1024) throw new ArchiveError(archive, 'manifest.json is implausibly large');
  const body = await r.take(hdr.size + padding(hdr.size).length);
  if (body.length < hdr.size + padding(hdr.size).length) throw new ArchiveError(archive, 'cut short', MANIFEST_NAME);
  try {
    return checkManifest(archive, JSON.parse(body.subarray(0, hdr.size).toString('utf8')));
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(archive, 'manifest.json is not valid JSON');
  }
}

async function extractEntry(r: ByteReader, hdr: Header, expect: ManifestFile, opts: ExtractOptions): Promise<void> {
  const hash = createHash('sha256');
  const write = opts.only ? opts.only(hdr.path) : true;
  const dest = path.join(opts.staging, ...hdr.path.split('/'));
  if (write) await mkdir(path.dirname(dest), { recursive: true });
  const fh = write ? await open(dest, 'wx', 0o600) : undefined;
  try {
    for (let left = hdr.size; left > 0; ) {
      const c = await r.take(Math.min(left, 1 << 16));
      if (c.length === 0) throw new ArchiveError(opts.archive, 'cut short', hdr.path);
      hash.update(c);
      if (fh) await fh.write(c);
      left -= c.length;
    }
  } finally {
    await fh?.close();
  }
  const pad = padding(hdr.size).length;
  if ((await r.take(pad)).length < pad) throw new ArchiveError(opts.archive, 'cut short', hdr.path);
  if (hash.digest('hex') !== expect.sha256) throw new ArchiveError(opts.archive, 'SHA-256 does not match the manifest', hdr.path);
}

async function extractEntries(r: ByteReader, manifest: Manifest, opts: ExtractOptions): Promise<void> {
  const expected = new Map(manifest.files.map((f) => [f.path, f]));
  const seen = new Set<string>();
  for (;;) {
    const h = await r.take(BLOCK);
    if (h.length < BLOCK) throw new ArchiveError(opts.archive, 'cut short: no end-of-archive marker');
    if (h.every((b) => b === 0)) break;
    const hdr = parseHeader(h);
    if (typeof hdr === 'string') throw new ArchiveError(opts.archive, hdr);
    const reason = unsafePathReason(hdr.path.replace(/\/$/, '')) ?? typeReason(hdr.typeflag);
    if (reason) throw new ArchiveError(opts.archive, reason, hdr.path);
    if (hdr.typeflag === '5') continue;
    const expect = expected.get(hdr.path);
    if (!expect) throw new ArchiveError(opts.archive, 'not listed in the manifest', hdr.path);
    if (seen.has(hdr.path)) throw new ArchiveError(opts.archive, 'appears twice', hdr.path);
    if (expect.size !== hdr.size || expect.mode !== (hdr.mode & 0o7777)) throw new ArchiveError(opts.archive, 'size or mode does not match the manifest', hdr.path);
    seen.add(hdr.path);
    await extractEntry(r, hdr, expect, opts);
  }
  const missing = manifest.files.find((f) => !seen.has(f.path));
  if (missing) throw new ArchiveError(opts.archive, 'listed in the manifest but not in the archive', missing.path);
}

// The gzip header is not covered by its CRC: a changed flag, time or OS byte would pass unnoticed, so the reader
// accepts only the exact header the writer emits (node's zlib: no flags, no time, OS 3).
const GZIP_HEADER = Buffer.from('1f8b0800000000000003', 'hex');

/** Checks the gzip header of the first bytes, then passes everything on. */
async function* checkedGzip(body: AsyncIterable<Uint8Array>, archive: string): AsyncGenerator<Uint8Array> {
  let head = Buffer.alloc(0);
  let checked = false;
  for await (const c of body) {
    if (checked) {
      yield c;
      continue;
    }
    head = Buffer.concat([head, c]);
    if (head.length < GZIP_HEADER.length) continue;
    if (!head.subarray(0, GZIP_HEADER.length).equals(GZIP_HEADER)) throw new ArchiveError(archive, 'not a backup archive (unexpected gzip header)');
    checked = true;
    yield head;
  }
  if (!checked) throw new ArchiveError(archive, 'cut short (shorter than a gzip header)');
}

/** Unpacks a .tar.gz into opts.staging after checking every entry; throws ArchiveError on any refusal. */
export async function extractArchive(body: AsyncIterable<Uint8Array>, opts: ExtractOptions): Promise<Manifest> {
  const gunzip = createGunzip();
  const src = Readable.from(checkedGzip(body, opts.archive));
  src.on('error', (err) => gunzip.destroy(err));
  const r = new ByteReader(src.pipe(gunzip));
  try {
    const manifest = await readManifest(r, opts.archive);
    await extractEntries(r, manifest, opts);
    // Reading to the end makes gunzip check its CRC and length trailer.
    while ((await r.take(1 << 16)).length > 0);
    return manifest;
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_BUF_ERROR') throw new ArchiveError(opts.archive, 'cut short (gzip stream ends early)');
    if (typeof code === 'string' && code.startsWith('Z_')) throw new ArchiveError(opts.archive, `damaged gzip data (${(err as Error).message})`);
    throw err;
  } finally {
    gunzip.destroy();
  }
}
