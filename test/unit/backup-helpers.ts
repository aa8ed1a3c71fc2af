// Shared by the backup tests: in-memory source files, byte collection, and a snapshot of a directory tree so a
// test can assert a refused restore left its target exactly as it was.
import { mkdtemp, readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildArchive } from '../../src/backup/archive.ts';
import type { BackupType, SourceFile } from '../../src/backup/types.ts';

export function memFile(p: string, content: string | Buffer, mode = 0o644, origin?: string): SourceFile {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  const f: SourceFile = {
    path: p,
    mode,
    size: bytes.length,
    mtimeMs: Date.UTC(2026, 0, 1),
    read: async function* () {
      yield bytes;
    },
  };
  if (origin !== undefined) f.origin = origin;
  return f;
}

export async function* iter<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const i of items) yield i;
}

export async function bytesOf(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of src) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

export async function* once(b: Buffer): AsyncGenerator<Uint8Array> {
  yield b;
}

export async function archiveBytes(type: BackupType, files: SourceFile[]): Promise<Buffer> {
  const a = await buildArchive(type, iter(files));
  try {
    return await bytesOf(a.body);
  } finally {
    await a.cleanup();
  }
}

export async function tempDir(name: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `backup-test-${name}-`));
}

/** A target directory with one existing file, as an operator's would have. */
export async function targetWithFile(): Promise<string> {
  const dir = await tempDir('target');
  await mkdir(path.join(dir, 'etc'), { recursive: true });
  await writeFile(path.join(dir, 'etc', 'config.yaml'), 'existing: true\n');
  return dir;
}

/** Every path under dir with its size, mode and content, for before/after comparisons. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (e.isDirectory()) {
        out[rel + '/'] = 'dir';
        await walk(p);
      } else {
        const s = await stat(p);
        out[rel] = `${s.mode.toString(8)} ${(await readFile(p)).toString('base64')}`;
      }
    }
  };
  await walk(dir);
  return out;
}
