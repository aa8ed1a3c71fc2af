// Archive encryption: AES-256-GCM in chunks, so an archive of any size streams and every chunk is authenticated
// before a byte of it is used. Format (version 1):
//   header: "SXBK" | version (1) | key id length (1) | key id (ASCII) | salt (16) | chunk size (uint32 BE)
//   chunks: length (uint32 BE) | ciphertext | GCM tag (16)
// Each archive gets its own key (HKDF of the key-ring key with the random salt), so the nonce can be a counter;
// the nonce's last byte flags the final chunk, so a stream cut at a chunk boundary is detected, and the header is
// the additional data of every chunk, so changing the key id or version fails authentication too.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ByteReader } from './byte-reader.ts';

export const MAGIC = Buffer.from('SXBK', 'ascii');
export const FORMAT_VERSION = 1;
const SALT_LEN = 16;
const TAG_LEN = 16;
const DEFAULT_CHUNK = 1 << 20;
const MAX_CHUNK = 16 << 20;

export class CryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CryptoError';
  }
}

export interface BackupKey {
  /** Derived from the key (a fingerprint), so nobody configures ids and a rotation cannot mix them up. */
  id: string;
  key: Buffer;
}

/** The current key encrypts; every key decrypts what it encrypted, so old archives still open after a rotation. */
export interface KeyRing {
  current: BackupKey;
  all: ReadonlyMap<string, BackupKey>;
}

export function keyId(key: Buffer): string {
  return createHash('sha256').update('slurm-exporter backup key id\0').update(key).digest('hex').slice(0, 16);
}

/** A 32-byte key written as 64 hex digits, as base64, or (files only) as 32 raw bytes; `where` names it in messages. */
export function parseKey(data: Buffer, where: string, allowRaw: boolean): BackupKey {
  const text = data.toString('latin1').trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(text)) key = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/]{43}=?$/.test(text) || /^[A-Za-z0-9_-]{43}$/.test(text)) key = Buffer.from(text, 'base64');
  else if (allowRaw && data.length === 32) key = Buffer.from(data);
  if (key?.length !== 32) throw new CryptoError(`${where}: not a 32-byte key (expected 64 hex digits, base64 of 32 bytes${allowRaw ? ', or 32 raw bytes' : ''})`);
  return { id: keyId(key), key };
}

export interface KeySources {
  /** Name of the environment variable holding the current key. */
  keyEnv?: string;
  /** File holding the current key (used when keyEnv is unset or empty). */
  keyFile?: string;
  /** Files holding earlier keys, for archives written before a rotation. */
  oldKeyFiles?: readonly string[];
}

async function keyFromFile(file: string): Promise<BackupKey> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    throw new CryptoError(`backup key file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseKey(data, `backup key file ${file}`, true);
}

/** Loads the key ring, or undefined when no key is configured (archives are then written unencrypted). */
export async function loadKeyRing(src: KeySources, env: NodeJS.ProcessEnv): Promise<KeyRing | undefined> {
  const fromEnv = src.keyEnv ? env[src.keyEnv] : undefined;
  let current: BackupKey | undefined;
  if (fromEnv) current = parseKey(Buffer.from(fromEnv), `environment variable ${src.keyEnv}`, false);
  else if (src.keyFile) current = await keyFromFile(src.keyFile);
  if (!current) return undefined;
  const all = new Map<string, BackupKey>([[current.id, current]]);
  for (const f of src.oldKeyFiles ?? []) {
    const k = await keyFromFile(f);
    if (!all.has(k.id)) all.set(k.id, k);
  }
  return { current, all };
}

export function keyRingOf(current: Buffer, old: readonly Buffer[] = []): KeyRing {
  const c = { id: keyId(current), key: current };
  const all = new Map<string, BackupKey>([[c.id, c]]);
  for (const k of old) all.set(keyId(k), { id: keyId(k), key: k });
  return { current: c, all };
}

function fileKey(key: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', key, salt, 'slurm-exporter backup v1', 32));
}

function nonce(counter: number, final: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(counter), 0);
  n[11] = final ? 1 : 0;
  return n;
}

function header(id: string, salt: Buffer, chunkSize: number): Buffer {
  const idBytes = Buffer.from(id, 'ascii');
  const size = Buffer.alloc(4);
  size.writeUInt32BE(chunkSize);
  return Buffer.concat([MAGIC, Buffer.from([FORMAT_VERSION, idBytes.length]), idBytes, salt, size]);
}

function sealChunk(key: Buffer, aad: Buffer, counter: number, final: boolean, plain: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce(counter, final));
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plain), c.final()]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body, c.getAuthTag()]);
}

/** Re-chunks a stream into pieces of exactly `size` bytes (the last may be shorter). */
async function* rechunk(src: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let buf = Buffer.alloc(0);
  for await (const c of src) {
    buf = buf.length ? Buffer.concat([buf, c]) : Buffer.from(c);
    while (buf.length >= size) {
      yield buf.subarray(0, size);
      buf = buf.subarray(size);
    }
  }
  yield buf;
}

/** Encrypts with the ring's current key. */
export async function* encrypt(plain: AsyncIterable<Uint8Array>, ring: KeyRing, chunkSize = DEFAULT_CHUNK): AsyncGenerator<Uint8Array> {
  const salt = randomBytes(SALT_LEN);
  const aad = header(ring.current.id, salt, chunkSize);
  const key = fileKey(ring.current.key, salt);
  yield aad;
  let counter = 0;
  let pending: Buffer | undefined;
  // One chunk of look-ahead: the final flag must be set on the last chunk, known only once the input ends.
  for await (const piece of rechunk(plain, chunkSize)) {
    if (pending !== undefined) yield sealChunk(key, aad, counter++, false, pending);
    pending = piece;
  }
  yield sealChunk(key, aad, counter, true, pending ?? Buffer.alloc(0));
}

interface Opened {
  aad: Buffer;
  key: Buffer;
  chunkSize: number;
}

async function readHeader(r: ByteReader, ring: KeyRing | undefined, archive: string): Promise<Opened> {
  const fixed = await r.take(6);
  if (fixed.length < 6 || !fixed.subarray(0, 4).equals(MAGIC)) throw new CryptoError(`${archive}: not an encrypted backup archive (no SXBK header)`);
  if (fixed[4] !== FORMAT_VERSION) throw new CryptoError(`${archive}: unknown encryption format version ${fixed[4]} (this exporter reads version ${FORMAT_VERSION})`);
  const idLen = fixed[5] as number;
  const rest = await r.take(idLen + SALT_LEN + 4);
  if (rest.length < idLen + SALT_LEN + 4) throw new CryptoError(`${archive}: cut short in the encryption header`);
  const id = rest.subarray(0, idLen).toString('ascii');
  const chunkSize = rest.readUInt32BE(idLen + SALT_LEN);
  if (chunkSize === 0 || chunkSize > MAX_CHUNK) throw new CryptoError(`${archive}: damaged encryption header (chunk size ${chunkSize})`);
  if (!ring) throw new CryptoError(`${archive}: encrypted with key ${id}, but no backup key is configured`);
  const k = ring.all.get(id);
  if (!k) throw new CryptoError(`${archive}: encrypted with key ${id}, which is not in the key ring (wrong key, or an old key file is missing)`);
  return { aad: Buffer.concat([fixed, rest]), key: fileKey(k.key, rest.subarray(idLen, idLen + SALT_LEN)), chunkSize };
}

function openChunk(o: Opened, counter: number, final: boolean, body: Buffer, tag: Buffer): Buffer | undefined {
  const d = createDecipheriv('aes-256-gcm', o.key, nonce(counter, final));
  d.setAAD(o.aad);
  d.setAuthTag(tag);
  try {
    return Buffer.concat([d.update(body), d.final()]);
  } catch {
    return undefined;
  }
}

/** Decrypts; yields each chunk only once it is authenticated; throws CryptoError naming the archive and the reason. */
export async function* decrypt(cipher: AsyncIterable<Uint8Array>, ring: KeyRing | undefined, archive: string): AsyncGenerator<Uint8Array> {
  const r = new ByteReader(cipher);
  const o = await readHeader(r, ring, archive);
  for (let counter = 0; ; counter++) {
    const len = await r.take(4);
    if (len.length < 4) throw new CryptoError(`${archive}: cut short (no final chunk)`);
    const n = len.readUInt32BE();
    if (n > o.chunkSize) throw new CryptoError(`${archive}: damaged at chunk ${counter} (length ${n})`);
    const body = await r.take(n + TAG_LEN);
    if (body.length < n + TAG_LEN) throw new CryptoError(`${archive}: cut short in chunk ${counter}`);
    const ct = body.subarray(0, n);
    const tag = body.subarray(n);
    // The final flag is not stored: a chunk authenticates as final or as not final, never both.
    const more = openChunk(o, counter, false, ct, tag);
    const plain = more ?? openChunk(o, counter, true, ct, tag);
    if (!plain) throw new CryptoError(`${archive}: chunk ${counter} fails authentication (a changed byte, or the wrong key)`);
    yield plain;
    if (!more) {
      if ((await r.take(1)).length > 0) throw new CryptoError(`${archive}: data after the final chunk`);
      return;
    }
  }
}

/** Whether the bytes start like an encrypted archive. */
export function isEncrypted(first: Uint8Array): boolean {
  return Buffer.from(first.subarray(0, 4)).equals(MAGIC);
}

/**
 * The format of `openssl enc -aes-256-cbc -pbkdf2` (salted, PBKDF2-HMAC-SHA256, 10000 iterations), for the manual
 * procedure without this tool. It has no integrity check: a changed byte decrypts to garbage without an error.
 */
export async function* exportOpenssl(plain: AsyncIterable<Uint8Array>, passphrase: string): AsyncGenerator<Uint8Array> {
  const { pbkdf2Sync } = await import('node:crypto');
  const salt = randomBytes(8);
  const km = pbkdf2Sync(Buffer.from(passphrase, 'utf8'), salt, 10000, 48, 'sha256');
  const c = createCipheriv('aes-256-cbc', km.subarray(0, 32), km.subarray(32, 48));
  yield Buffer.concat([Buffer.from('Salted__', 'ascii'), salt]);
  for await (const piece of plain) yield c.update(piece);
  yield c.final();
}

export const OPENSSL_WARNING =
  'warning: the openssl export (AES-256-CBC) has no integrity check: a damaged or altered file decrypts to garbage without an error; keep the SHA-256 next to it';
