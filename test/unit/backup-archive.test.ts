// The archive format and its reader's refusals: each refusal is its own test, names the archive and the reason,
// and leaves the restore target exactly as it was.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ArchiveError, MANIFEST_NAME, tarHeader, type Manifest } from '../../src/backup/archive.ts';
import { restoreArchive } from '../../src/backup/restore.ts';
import { VERSION } from '../../src/version.ts';
import { archiveBytes, memFile, once, snapshot, targetWithFile } from './backup-helpers.ts';

const NAME = 'configuration/configuration-backup-20260101-000000.tar.gz';

async function good(): Promise<Buffer> {
  return archiveBytes('configuration', [memFile('etc/config.yaml', 'slurm:\n  url: http://x\n', 0o640), memFile('etc/web.yaml', 'tls: {}\n')]);
}

/** Restores into a fresh target and asserts the refusal's reason and that the target did not change. */
async function assertRefused(bytes: Buffer, reason: RegExp): Promise<void> {
  const target = await targetWithFile();
  const before = await snapshot(target);
  await assert.rejects(restoreArchive(once(bytes), { archive: NAME, target }), (err: Error) => {
    assert.ok(err instanceof ArchiveError, `expected ArchiveError, got ${err.name}: ${err.message}`);
    assert.ok(err.message.startsWith(NAME), err.message);
    assert.match(err.message, reason);
    return true;
  });
  assert.deepEqual(await snapshot(target), before);
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A hand-made tar (for entries the writer never makes), with a manifest listing `listed`. */
function handTar(listed: Manifest['files'], entries: Buffer[]): Buffer {
  const m: Manifest = { format: 1, type: 'configuration', createdAt: '2026-01-01T00:00:00.000Z', host: 'h', exporterVersion: VERSION, files: listed };
  const mb = Buffer.from(JSON.stringify(m));
  return gzipSync(Buffer.concat([tarHeader(MANIFEST_NAME, mb.length, 0o644, 0), mb, pad(mb.length), ...entries, Buffer.alloc(1024)]));
}

function fileEntry(p: string, content: Buffer, typeflag = '0', linkname = ''): Buffer {
  return Buffer.concat([tarHeader(p, content.length, 0o644, 0, typeflag, linkname), content, pad(content.length)]);
}

/** tarHeader refuses nothing about the path, so hand-made headers can carry what the writer would refuse. */
function listed(p: string, content: Buffer) {
  return { path: p, size: content.length, mode: 0o644, sha256: sha(content), mtimeMs: 0 };
}

describe('backup archive format', () => {
  it('puts manifest.json first, listing every file with path, size, mode, SHA-256, type, time, host and version', async () => {
    const tar = gunzipSync(await good());
    assert.equal(tar.subarray(0, 13).toString(), MANIFEST_NAME);
    const size = parseInt(tar.subarray(124, 136).toString().replace(/\0/g, ''), 8);
    const m = JSON.parse(tar.subarray(512, 512 + size).toString()) as Manifest;
    assert.equal(m.type, 'configuration');
    assert.equal(m.exporterVersion, VERSION);
    assert.ok(m.host.length > 0);
    assert.ok(!Number.isNaN(Date.parse(m.createdAt)));
    assert.deepEqual(
      m.files.map((f) => [f.path, f.size, f.mode, f.sha256]),
      [
        ['etc/config.yaml', 23, 0o640, sha(Buffer.from('slurm:\n  url: http://x\n'))],
        ['etc/web.yaml', 8, 0o644, sha(Buffer.from('tls: {}\n'))],
      ],
    );
  });

  it('round-trips: restore writes the same bytes and modes into the target', async () => {
    const target = await targetWithFile();
    const r = await restoreArchive(once(await good()), { archive: NAME, target });
    assert.equal(await readFile(path.join(target, 'etc/web.yaml'), 'utf8'), 'tls: {}\n');
    assert.equal(await readFile(path.join(target, 'etc/config.yaml'), 'utf8'), 'slurm:\n  url: http://x\n');
    assert.deepEqual(
      r.items.map((i) => [i.path, i.action]),
      [
        ['etc/config.yaml', 'replace'],
        ['etc/web.yaml', 'create'],
      ],
    );
  });

  it('the writer refuses a source path with ".." or an absolute path', async () => {
    await assert.rejects(archiveBytes('logs', [memFile('../etc/passwd', 'x')]), /"\.\.\/etc\/passwd": "\.\." in path/);
    await assert.rejects(archiveBytes('logs', [memFile('/etc/passwd', 'x')]), /absolute path/);
  });
});

describe('backup archive refusals (target untouched)', () => {
  it('refuses an archive cut short', async () => {
    const b = await good();
    await assertRefused(b.subarray(0, b.length - 20), /cut short/);
  });

  it('refuses an archive cut short inside the tar (gzip stream complete)', async () => {
    const tar = gunzipSync(await good());
    await assertRefused(gzipSync(tar.subarray(0, 1024 + 512 + 10)), /cut short/);
  });

  it('refuses one flipped byte anywhere in the compressed archive', async () => {
    const b = await good();
    const sha256 = sha(b);
    // Every position: the gzip header, the deflate data and the CRC/length trailer.
    for (let i = 0; i < b.length; i++) {
      const bad = Buffer.from(b);
      bad[i] = (bad[i] as number) ^ 0x01;
      const target = await targetWithFile();
      const before = await snapshot(target);
      await assert.rejects(restoreArchive(once(bad), { archive: NAME, target, sha256 }), ArchiveError, `byte ${i}`);
      assert.deepEqual(await snapshot(target), before, `byte ${i}`);
    }
  });

  it('refuses one flipped byte in a file (checksum against the manifest)', async () => {
    const tar = gunzipSync(await good());
    const at = tar.indexOf('url: http');
    tar[at] = (tar[at] as number) ^ 0x20;
    await assertRefused(gzipSync(tar), /entry "etc\/config\.yaml": SHA-256 does not match the manifest/);
  });

  it('refuses a manifest that does not list a file the archive holds', async () => {
    const c = Buffer.from('x');
    await assertRefused(handTar([], [fileEntry('etc/extra', c)]), /entry "etc\/extra": not listed in the manifest/);
  });

  it('refuses a manifest that lists a file the archive lacks', async () => {
    await assertRefused(handTar([listed('etc/gone', Buffer.from('x'))], []), /entry "etc\/gone": listed in the manifest but not in the archive/);
  });

  it('refuses a manifest whose size or mode differs from the entry', async () => {
    const c = Buffer.from('abc');
    await assertRefused(handTar([{ ...listed('etc/a', c), mode: 0o600 }], [fileEntry('etc/a', c)]), /size or mode does not match/);
  });

  it('refuses an absolute path', async () => {
    const c = Buffer.from('x');
    await assertRefused(handTar([], [fileEntry('/etc/passwd', c)]), /entry "\/etc\/passwd": absolute path/);
  });

  it('refuses ".." in a path', async () => {
    const c = Buffer.from('x');
    await assertRefused(handTar([], [fileEntry('etc/../../escape', c)]), /entry "etc\/\.\.\/\.\.\/escape": "\.\." in path/);
  });

  it('refuses an absolute path listed in the manifest', async () => {
    const c = Buffer.from('x');
    await assertRefused(handTar([listed('/etc/passwd', c)], []), /entry "\/etc\/passwd": absolute path/);
  });

  it('refuses a symbolic link pointing out of the target', async () => {
    await assertRefused(handTar([], [fileEntry('etc/link', Buffer.alloc(0), '2', '/etc/shadow')]), /entry "etc\/link": symbolic link entries are not allowed/);
  });

  it('refuses a hard link', async () => {
    await assertRefused(handTar([], [fileEntry('etc/hard', Buffer.alloc(0), '1', '../../etc/shadow')]), /entry "etc\/hard": hard link entries are not allowed/);
  });

  it('refuses an unknown entry type', async () => {
    await assertRefused(handTar([], [fileEntry('etc/odd', Buffer.alloc(0), 'Z')]), /entry "etc\/odd": unknown entry type "Z"/);
  });

  it('refuses a device entry', async () => {
    await assertRefused(handTar([], [fileEntry('etc/dev', Buffer.alloc(0), '3')]), /character device entries are not allowed/);
  });

  it('refuses an archive whose first entry is not the manifest', async () => {
    const c = Buffer.from('x');
    await assertRefused(gzipSync(Buffer.concat([fileEntry('etc/a', c), Buffer.alloc(1024)])), /the first entry is not manifest\.json/);
  });
});
