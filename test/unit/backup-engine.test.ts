// create / verify / prune / restore against two local destinations: a backup is done only when every
// required copy reads back; verify checks the RPO and retention and reads the secondary when the primary is
// gone; prune keeps each type's retention per destination; restore plans, rolls back and restores one file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { keyRingOf } from '../../src/backup/crypto.ts';
import { LocalDestination } from '../../src/backup/destinations/local.ts';
import { createBackup, listArchives, pruneBackups, verifyBackups, type Target, type TypePolicy } from '../../src/backup/engine.ts';
import { restoreArchive } from '../../src/backup/restore.ts';
import { configurationSource } from '../../src/backup/sources/files.ts';
import { BACKUP_TYPES, DestinationError, type BackupSource, type BackupType, type Destination } from '../../src/backup/types.ts';
import { bytesOf, iter, memFile, snapshot, tempDir } from './backup-helpers.ts';

const signal = new AbortController().signal;
const log = () => undefined;
const ring = keyRingOf(randomBytes(32));
const HOUR = 3600_000;
const DAY = 24 * HOUR;

function source(type: BackupType, files = [memFile('etc/a.yaml', 'a: 1\n')]): BackupSource {
  return { type, describe: () => 'test files', collect: () => iter(files) };
}

const policies = Object.fromEntries(BACKUP_TYPES.map((t) => [t, { enabled: t === 'configuration', schedule: '0 */6 * * *', retentionMs: 90 * DAY }])) as Record<BackupType, TypePolicy>;

async function two(): Promise<{ targets: Target[]; roots: string[] }> {
  const roots = [await tempDir('primary'), await tempDir('secondary')];
  return { roots, targets: [new LocalDestination('primary', roots[0] as string), new LocalDestination('secondary', roots[1] as string)].map((dest) => ({ dest, required: true })) };
}

/** A destination whose writes fail, for the "not done" cases. */
function broken(name: string): Destination {
  const no = () => Promise.reject(new DestinationError('unreachable', name, `${name}: connection refused`));
  return { name, describe: () => name, put: no, get: no, list: no, delete: no };
}

describe('backup create', () => {
  it('stores the archive and its checksum at every destination and reads each back', async () => {
    const { targets } = await two();
    const r = await createBackup({ source: source('configuration'), targets, ring, signal, log, now: new Date(Date.UTC(2026, 0, 2, 6)) });
    assert.equal(r.done, true);
    assert.equal(r.key, 'configuration/configuration-backup-20260102-060000.tar.gz.enc');
    for (const t of targets) {
      assert.deepEqual((await listArchives(t.dest, signal)).map((a) => a.key), [r.key]);
      assert.match((await bytesOf(await t.dest.get(r.key + '.sha256', signal))).toString(), new RegExp(`^${r.sha256}  `));
    }
  });

  it('is not done when a required destination fails, and is when only an optional one does', async () => {
    const { targets } = await two();
    const required = await createBackup({ source: source('logs'), targets: [targets[0] as Target, { dest: broken('secondary'), required: true }], ring, signal, log });
    assert.equal(required.done, false);
    assert.match(required.copies[1]?.error ?? '', /secondary: connection refused/);
    const optional = await createBackup({ source: source('logs'), targets: [targets[0] as Target, { dest: broken('secondary'), required: false }], ring, signal, log });
    assert.equal(optional.done, true);
  });

  it('leaves the TLS private key and the token out of an unencrypted archive, and keeps them in an encrypted one', async () => {
    const dir = await tempDir('cfg');
    const config = path.join(dir, 'config.yaml');
    await writeFile(config, 'slurm:\n  url: http://ctl:6820\n  token: TOKEN-VALUE-123\n');
    const { targets } = await two();
    const plain = await createBackup({ source: configurationSource({ configFile: config }), targets, ring: undefined, signal, log });
    const bytes = await bytesOf(await (targets[0] as Target).dest.get(plain.key, signal));
    const { gunzipSync } = await import('node:zlib');
    const tar = gunzipSync(bytes).toString('latin1');
    assert.ok(!tar.includes('TOKEN-VALUE-123'));
    assert.ok(tar.includes('<redacted>'));
    const enc = await createBackup({ source: configurationSource({ configFile: config }), targets, ring, signal, log });
    const out = await tempDir('out');
    await restoreArchive(await (targets[0] as Target).dest.get(enc.key, signal), { archive: enc.key, ring, target: out });
    assert.match(await readFile(path.join(out, 'config/config.yaml'), 'utf8'), /TOKEN-VALUE-123/);
  });
});

describe('backup verify', () => {
  it('passes a fresh backup and fails one older than its schedule allows (RPO)', async () => {
    const { targets } = await two();
    const now = new Date(Date.UTC(2026, 0, 10, 12));
    await createBackup({ source: source('configuration'), targets, ring, signal, log, now: new Date(now.getTime() - 2 * HOUR) });
    const fresh = await verifyBackups({ targets, ring, policies, signal, now });
    assert.deepEqual(fresh.verdicts.map((v) => v.problems), [[]]);
    const late = await verifyBackups({ targets, ring, policies, signal, now: new Date(now.getTime() + 6 * HOUR) });
    assert.match(late.verdicts[0]?.problems[0] ?? '', /is 8\.0 h old; the schedule "0 \*\/6 \* \* \*" allows 7\.0 h \(RPO missed\)/);
  });

  it('reports retention not kept when an archive outlives it', async () => {
    const { targets } = await two();
    const now = new Date(Date.UTC(2026, 5, 1));
    await createBackup({ source: source('configuration'), targets, ring, signal, log, now: new Date(now.getTime() - 100 * DAY) });
    await createBackup({ source: source('configuration'), targets, ring, signal, log, now: new Date(now.getTime() - HOUR) });
    const r = await verifyBackups({ targets, ring, policies, signal, now });
    assert.match(r.verdicts[0]?.problems.join('\n') ?? '', /retention not kept at primary: .* is 100\.0 days old, retention is 90\.0 days/);
  });

  it('reads from the secondary when the primary is unreachable, and says so', async () => {
    const { targets, roots } = await two();
    await createBackup({ source: source('configuration'), targets, ring, signal, log });
    await rm(roots[0] as string, { recursive: true });
    const r = await verifyBackups({ targets, ring, policies, signal });
    assert.equal(r.choice.target.dest.name, 'secondary');
    assert.match(r.choice.fallbackReason ?? '', /primary unreachable/);
    assert.deepEqual(r.verdicts.map((v) => [v.destination, v.problems]), [['secondary', []]]);
  });

  it('fails a backup whose stored bytes differ from the recorded checksum', async () => {
    const { targets, roots } = await two();
    const c = await createBackup({ source: source('configuration'), targets, ring: undefined, signal, log });
    // A recorded checksum that no longer matches: the archive was replaced or changed after it was written.
    await writeFile(path.join(roots[0] as string, c.key + '.sha256'), `${'0'.repeat(64)}  x\n`);
    const r = await verifyBackups({ targets, ring, policies, signal });
    assert.match(r.verdicts[0]?.problems.join('\n') ?? '', /SHA-256 of the archive does not match/);
  });
});

describe('backup prune', () => {
  it('deletes what is older than the retention, always keeps the newest, and honours a per-destination retention', async () => {
    const { targets } = await two();
    const now = new Date(Date.UTC(2026, 5, 1));
    for (const ageDays of [120, 60, 10]) await createBackup({ source: source('configuration'), targets, ring, signal, log, now: new Date(now.getTime() - ageDays * DAY) });
    await createBackup({ source: source('logs'), targets, ring, signal, log, now: new Date(now.getTime() - 30 * DAY) });
    const perDest: Target[] = [targets[0] as Target, { ...(targets[1] as Target), retentionMs: { configuration: 30 * DAY } }];
    const dry = await pruneBackups(perDest, policies, signal, now, true);
    assert.deepEqual(dry.map((r) => r.deleted.length), [1, 2]);
    const r = await pruneBackups(perDest, { ...policies, logs: { ...policies.logs, retentionMs: 7 * DAY } }, signal, now);
    const old = 'configuration/configuration-backup-20260201-000000.tar.gz.enc';
    const mid = 'configuration/configuration-backup-20260402-000000.tar.gz.enc';
    assert.deepEqual(r.map((x) => x.deleted), [[old], [mid, old]]);
    // The only logs backup is 30 days old, past its 7 days, and stays: it is the newest.
    assert.equal((await listArchives((targets[0] as Target).dest, signal, 'logs')).length, 1);
    assert.equal((await listArchives((targets[1] as Target).dest, signal, 'configuration')).length, 1);
    assert.deepEqual(await (targets[0] as Target).dest.list('configuration/configuration-backup-20260201', signal), []);
  });
});

describe('backup restore', () => {
  async function stored(): Promise<{ t: Target; key: string; target: string }> {
    const { targets } = await two();
    const r = await createBackup({ source: source('configuration', [memFile('etc/a.yaml', 'a: new\n'), memFile('etc/b.yaml', 'b: new\n'), memFile('etc/c.yaml', 'c: same\n')]), targets, ring, signal, log });
    const target = await tempDir('restore');
    await mkdir(path.join(target, 'etc'));
    await writeFile(path.join(target, 'etc/a.yaml'), 'a: old\n');
    await writeFile(path.join(target, 'etc/c.yaml'), 'c: same\n');
    return { t: targets[0] as Target, key: r.key, target };
  }

  it('--dry-run lists create, replace and unchanged file by file and changes nothing', async () => {
    const { t, key, target } = await stored();
    const before = await snapshot(target);
    const r = await restoreArchive(await t.dest.get(key, signal), { archive: key, ring, target, dryRun: true });
    assert.deepEqual(r.items.map((i) => [i.path, i.action]), [['etc/a.yaml', 'replace'], ['etc/b.yaml', 'create'], ['etc/c.yaml', 'unchanged']]);
    assert.deepEqual(await snapshot(target), before);
  });

  it('keeps what it replaces in the rollback folder', async () => {
    const { t, key, target } = await stored();
    const rollbackDir = path.join(await tempDir('rollback'), 'r');
    const r = await restoreArchive(await t.dest.get(key, signal), { archive: key, ring, target, rollbackDir });
    assert.equal(r.rollbackDir, rollbackDir);
    assert.equal(await readFile(path.join(target, 'etc/a.yaml'), 'utf8'), 'a: new\n');
    assert.equal(await readFile(path.join(rollbackDir, 'etc/a.yaml'), 'utf8'), 'a: old\n');
    assert.deepEqual(await snapshot(rollbackDir), { 'etc/': 'dir', 'etc/a.yaml': (await snapshot(rollbackDir))['etc/a.yaml'] as string });
  });

  it('restores one file only', async () => {
    const { t, key, target } = await stored();
    await restoreArchive(await t.dest.get(key, signal), { archive: key, ring, target, only: 'etc/b.yaml' });
    assert.equal(await readFile(path.join(target, 'etc/b.yaml'), 'utf8'), 'b: new\n');
    assert.equal(await readFile(path.join(target, 'etc/a.yaml'), 'utf8'), 'a: old\n');
    await assert.rejects(restoreArchive(await t.dest.get(key, signal), { archive: key, ring, target, only: 'etc/nope' }), /has no file "etc\/nope"/);
  });

  it('restores to where the files came from without --target', async () => {
    const dir = await tempDir('origin');
    const file = path.join(dir, 'web.yaml');
    await writeFile(file, 'headers: {}\n');
    const { targets } = await two();
    const r = await createBackup({ source: configurationSource({ webConfigFile: file }), targets, ring, signal, log });
    await writeFile(file, 'broken');
    await restoreArchive(await (targets[0] as Target).dest.get(r.key, signal), { archive: r.key, ring, rollbackDir: path.join(dir, 'rollback') });
    assert.equal(await readFile(file, 'utf8'), 'headers: {}\n');
    assert.equal(await readFile(path.join(dir, 'rollback/web/web.yaml'), 'utf8'), 'broken');
  });
});
