// Archive encryption: round trips, key rotation, the key sources, the openssl export opened by the real openssl,
// and each refusal (wrong key, unknown header version, any flipped byte, cut short) leaving the target untouched.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CryptoError, decrypt, encrypt, exportOpenssl, keyId, keyRingOf, loadKeyRing, parseKey } from '../../src/backup/crypto.ts';
import { restoreArchive } from '../../src/backup/restore.ts';
import { archiveBytes, bytesOf, memFile, once, snapshot, targetWithFile, tempDir } from './backup-helpers.ts';

const NAME = 'configuration/configuration-backup-20260101-000000.tar.gz.enc';
const KEY = randomBytes(32);
const ring = keyRingOf(KEY);

async function sealed(chunk = 64): Promise<Buffer> {
  const plain = await archiveBytes('configuration', [memFile('etc/config.yaml', 'password: hunter2-not-in-clear\n'), memFile('etc/big.bin', randomBytes(300))]);
  return bytesOf(encrypt(once(plain), ring, chunk));
}

async function assertRefused(bytes: Buffer, reason: RegExp, r = ring): Promise<void> {
  const target = await targetWithFile();
  const before = await snapshot(target);
  await assert.rejects(restoreArchive(once(bytes), { archive: NAME, target, ring: r }), (err: Error) => {
    assert.ok(err instanceof CryptoError, `expected CryptoError, got ${err.name}: ${err.message}`);
    assert.ok(err.message.startsWith(NAME), err.message);
    assert.match(err.message, reason);
    return true;
  });
  assert.deepEqual(await snapshot(target), before);
}

describe('backup encryption', () => {
  it('round-trips in many chunks, and the ciphertext holds no plaintext', async () => {
    const enc = await sealed();
    assert.equal(enc.indexOf('hunter2'), -1);
    assert.equal(enc.indexOf('config.yaml'), -1);
    const target = await targetWithFile();
    await restoreArchive(once(enc), { archive: NAME, target, ring });
    assert.equal(await readFile(path.join(target, 'etc/config.yaml'), 'utf8'), 'password: hunter2-not-in-clear\n');
  });

  it('round-trips empty input and input of exactly one chunk', async () => {
    for (const size of [0, 64, 128]) {
      const plain = randomBytes(size);
      assert.deepEqual(await bytesOf(decrypt(encrypt(once(plain), ring, 64), ring, 'x')), plain);
    }
  });

  it('decrypts archives of an old key after a rotation, and encrypts with the new one', async () => {
    const old = await sealed();
    const NEW = randomBytes(32);
    const rotated = keyRingOf(NEW, [KEY]);
    const target = await targetWithFile();
    await restoreArchive(once(old), { archive: NAME, target, ring: rotated });
    const fresh = await bytesOf(encrypt(once(Buffer.from('x')), rotated));
    assert.ok(fresh.includes(Buffer.from(keyId(NEW))));
    await assert.rejects(bytesOf(decrypt(once(fresh), keyRingOf(KEY), 'new.enc')), /not in the key ring/);
  });

  it('reads the key as hex or base64 from the environment and as raw bytes from a file, with old keys from files', async () => {
    const dir = await tempDir('keys');
    const raw = path.join(dir, 'raw.key');
    await writeFile(raw, KEY, { mode: 0o600 });
    const b64 = randomBytes(32);
    const r = await loadKeyRing({ keyEnv: 'BK', oldKeyFiles: [raw] }, { BK: b64.toString('base64') });
    assert.equal(r?.current.id, keyId(b64));
    assert.ok(r?.all.has(keyId(KEY)));
    assert.equal((await loadKeyRing({ keyFile: raw }, {}))?.current.id, keyId(KEY));
    assert.equal(parseKey(Buffer.from(KEY.toString('hex') + '\n'), 'k', false).id, keyId(KEY));
    assert.equal(await loadKeyRing({ keyEnv: 'UNSET' }, {}), undefined);
  });

  it('names the source of a malformed key without showing the key', async () => {
    const bad = 'abcd'.repeat(10);
    await assert.rejects(loadKeyRing({ keyEnv: 'BK' }, { BK: bad }), (err: Error) => {
      assert.match(err.message, /environment variable BK: not a 32-byte key/);
      assert.ok(!err.message.includes(bad));
      return true;
    });
  });

  it('the openssl export opens with `openssl enc -d -aes-256-cbc -pbkdf2 -pass file:`', async () => {
    const dir = await tempDir('openssl');
    const plain = await archiveBytes('logs', [memFile('logs/exporter.log', 'line\n')]);
    const pass = path.join(dir, 'pass');
    await writeFile(pass, 'correct horse battery staple\n', { mode: 0o600 });
    const out = path.join(dir, 'export.tar.gz.aes');
    await writeFile(out, await bytesOf(exportOpenssl(once(plain), 'correct horse battery staple')));
    const opened = execFileSync('openssl', ['enc', '-d', '-aes-256-cbc', '-pbkdf2', '-in', out, '-pass', `file:${pass}`]);
    assert.deepEqual(opened, plain);
  });
});

describe('backup encryption refusals (target untouched)', () => {
  it('refuses a wrong key', async () => {
    await assertRefused(await sealed(), /encrypted with key [0-9a-f]{16}, which is not in the key ring/, keyRingOf(randomBytes(32)));
  });

  it('refuses a wrong key that claims the right key id', async () => {
    const forged = keyRingOf(randomBytes(32));
    // Same id, other bytes: authentication, not the id lookup, must catch it.
    const r = { current: { id: ring.current.id, key: forged.current.key }, all: new Map([[ring.current.id, { id: ring.current.id, key: forged.current.key }]]) };
    await assertRefused(await sealed(), /chunk 0 fails authentication/, r);
  });

  it('refuses an unknown header version', async () => {
    const enc = await sealed();
    enc[4] = 2;
    await assertRefused(enc, /unknown encryption format version 2/);
  });

  it('refuses a flipped byte anywhere', async () => {
    const enc = await sealed(256);
    for (let i = 0; i < enc.length; i++) {
      const bad = Buffer.from(enc);
      bad[i] = (bad[i] as number) ^ 0x04;
      const target = await targetWithFile();
      const before = await snapshot(target);
      await assert.rejects(restoreArchive(once(bad), { archive: NAME, target, ring }), CryptoError, `byte ${i}`);
      assert.deepEqual(await snapshot(target), before, `byte ${i}`);
    }
  });

  it('refuses an archive cut short at a chunk boundary (no final chunk)', async () => {
    const enc = await sealed(64);
    const headerLen = 4 + 2 + 16 + 16 + 4;
    const oneChunk = headerLen + 4 + 64 + 16;
    await assertRefused(enc.subarray(0, oneChunk), /cut short \(no final chunk\)/);
  });

  it('refuses an archive cut short inside a chunk', async () => {
    const enc = await sealed(64);
    await assertRefused(enc.subarray(0, enc.length - 5), /cut short in chunk/);
  });

  it('refuses data appended after the final chunk', async () => {
    await assertRefused(Buffer.concat([await sealed(), Buffer.from('x')]), /data after the final chunk/);
  });

  it('refuses an encrypted archive when no key is configured', async () => {
    const target = await targetWithFile();
    await assert.rejects(restoreArchive(once(await sealed()), { archive: NAME, target }), /but no backup key is configured/);
  });
});
