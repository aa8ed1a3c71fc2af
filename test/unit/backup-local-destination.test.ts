// The local directory destination: round trip, listing, deletion, free space, and atomicity (a failed write
// leaves neither a partial object nor a temporary file, and never replaces the previous object).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { LocalDestination } from '../../src/backup/destinations/local.ts';
import { DestinationError } from '../../src/backup/types.ts';
import { bytesOf, once, tempDir } from './backup-helpers.ts';

const signal = new AbortController().signal;
const KEY = 'configuration/configuration-backup-20260101-000000.tar.gz';

async function* failing(): AsyncGenerator<Uint8Array> {
  yield Buffer.from('half of an archive');
  throw new Error('source went away');
}

describe('local destination', () => {
  it('stores, lists, reads back and deletes an object', async () => {
    const d = new LocalDestination('primary', await tempDir('dest'));
    let progress = 0;
    await d.put(KEY, once(Buffer.from('archive')), 7, signal, (n) => (progress = n));
    assert.equal(progress, 7);
    const listed = await d.list('configuration/', signal);
    assert.deepEqual(listed.map((o) => [o.key, o.size]), [[KEY, 7]]);
    assert.deepEqual(await d.list('logs/', signal), []);
    assert.equal((await bytesOf(await d.get(KEY, signal))).toString(), 'archive');
    await d.delete(KEY, signal);
    assert.deepEqual(await d.list('', signal), []);
  });

  it('a write that fails half-way leaves the previous object and no temporary file', async () => {
    const root = await tempDir('dest');
    const d = new LocalDestination('primary', root);
    await d.put(KEY, once(Buffer.from('old')), 3, signal);
    await assert.rejects(d.put(KEY, failing(), 100, signal), DestinationError);
    assert.equal((await bytesOf(await d.get(KEY, signal))).toString(), 'old');
    assert.deepEqual(await readdir(path.join(root, 'configuration')), [path.basename(KEY)]);
  });

  it('a write of the wrong size is refused and leaves nothing', async () => {
    const root = await tempDir('dest');
    const d = new LocalDestination('primary', root);
    await assert.rejects(d.put(KEY, once(Buffer.from('abc')), 4, signal), /primary .*: writing .*: wrote 3 bytes, expected 4/);
    assert.deepEqual(await readdir(path.join(root, 'configuration')), []);
  });

  it('reports a missing object as missing and an absent directory as unreachable', async () => {
    const root = await tempDir('dest');
    const d = new LocalDestination('secondary', root);
    await assert.rejects(d.get('logs/nope.tar.gz', signal), (e: DestinationError) => e.kind === 'missing' && /secondary/.test(e.message));
    await rm(root, { recursive: true });
    await assert.rejects(d.list('', signal), (e: DestinationError) => e.kind === 'unreachable');
    await assert.rejects(d.put(KEY, once(Buffer.from('x')), 1, signal), (e: DestinationError) => e.kind === 'unreachable');
  });

  it('refuses keys that would leave its directory', async () => {
    const d = new LocalDestination('primary', await tempDir('dest'));
    await assert.rejects(d.put('../escape', once(Buffer.from('x')), 1, signal), /key "\.\.\/escape": "\.\." in path/);
  });

  it('reports free bytes from statfs', async () => {
    const d = new LocalDestination('primary', await tempDir('dest'));
    const free = await d.freeBytes(signal);
    assert.ok(typeof free === 'number' && free > 0);
  });
});
