// A local directory (a mounted volume, an NFS share, the chart's PersistentVolumeClaim) as a destination.
// Writes go to a temporary file in the same directory, are fsynced and renamed into place, and the directory is
// fsynced, so after a crash an object is either complete or absent.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { unsafePathReason } from '../archive.ts';
import { DestinationError, type Destination, type StoredObject } from '../types.ts';

const TEMP_MARK = '.partial-';

export class LocalDestination implements Destination {
  readonly name: string;
  readonly root: string;

  constructor(name: string, root: string) {
    this.name = name;
    this.root = path.resolve(root);
  }

  describe(): string {
    return `local directory ${this.root}`;
  }

  private file(key: string): string {
    const reason = unsafePathReason(key);
    if (reason) throw new DestinationError('io', this.name, `${this.name}: key "${key}": ${reason}`);
    return path.join(this.root, ...key.split('/'));
  }

  private fail(err: unknown, key: string, what: string): DestinationError {
    const code = (err as NodeJS.ErrnoException).code;
    const where = `${this.name} (${this.root}): ${what} ${key}`;
    if (code === 'ENOENT') return new DestinationError('missing', this.name, `${where}: no such object`, { cause: err });
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new DestinationError('denied', this.name, `${where}: permission denied (${code})`, { cause: err });
    return new DestinationError('io', this.name, `${where}: ${code ?? (err as Error).message}`, { cause: err });
  }

  async put(key: string, body: AsyncIterable<Uint8Array>, size: number, signal: AbortSignal, onProgress?: (bytes: number) => void): Promise<void> {
    const dest = this.file(key);
    const dir = path.dirname(dest);
    const tmp = path.join(dir, `${TEMP_MARK}${path.basename(dest)}.${randomBytes(4).toString('hex')}`);
    try {
      await this.reachable();
      await mkdir(dir, { recursive: true });
      let written = 0;
      const count = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          written += chunk.length;
          onProgress?.(written);
          cb(null, chunk);
        },
      });
      await pipeline(Readable.from(body), count, createWriteStream(tmp, { mode: 0o600, flags: 'wx' }), { signal });
      if (size >= 0 && written !== size) throw new Error(`wrote ${written} bytes, expected ${size}`);
      const fh = await open(tmp, 'r+');
      await fh.sync().finally(() => fh.close());
      await rename(tmp, dest);
      await syncDir(dir);
    } catch (err) {
      await rm(tmp, { force: true });
      if (err instanceof DestinationError) throw err;
      throw this.fail(err, key, 'writing');
    }
  }

  /** The root must exist: a missing mount is "unreachable", not an empty directory to create. */
  private async reachable(): Promise<void> {
    try {
      if (!(await stat(this.root)).isDirectory()) throw new Error('not a directory');
    } catch (err) {
      throw new DestinationError('unreachable', this.name, `${this.name}: ${this.root} is not reachable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
    }
  }

  async get(key: string, signal: AbortSignal, onProgress?: (bytes: number) => void): Promise<AsyncIterable<Uint8Array>> {
    const file = this.file(key);
    await this.reachable();
    try {
      await stat(file);
    } catch (err) {
      throw this.fail(err, key, 'reading');
    }
    const fail = (err: unknown) => this.fail(err, key, 'reading');
    return (async function* () {
      let read = 0;
      try {
        for await (const c of createReadStream(file, { signal }) as AsyncIterable<Buffer>) {
          read += c.length;
          onProgress?.(read);
          yield c;
        }
      } catch (err) {
        throw fail(err);
      }
    })();
  }

  async list(prefix: string, signal: AbortSignal): Promise<StoredObject[]> {
    await this.reachable();
    const out: StoredObject[] = [];
    const walk = async (dir: string): Promise<void> => {
      signal.throwIfAborted();
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw this.fail(err, path.relative(this.root, dir), 'listing');
      }
      for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.isFile() && !e.name.startsWith(TEMP_MARK)) {
          const key = path.relative(this.root, p).split(path.sep).join('/');
          if (!key.startsWith(prefix)) continue;
          const s = await stat(p);
          out.push({ key, size: s.size, mtimeMs: s.mtimeMs });
        }
      }
    };
    await walk(this.root);
    return out;
  }

  async delete(key: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await this.reachable();
    try {
      await rm(this.file(key));
    } catch (err) {
      if (err instanceof DestinationError) throw err;
      throw this.fail(err, key, 'deleting');
    }
  }

  async freeBytes(signal: AbortSignal): Promise<number | undefined> {
    signal.throwIfAborted();
    await this.reachable();
    const s = await statfs(this.root);
    return s.bavail * s.bsize;
  }
}

async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  // Some filesystems (and platforms) refuse fsync on a directory; the rename is then as durable as they allow.
  await dh.sync().catch(() => undefined).finally(() => dh.close());
}
