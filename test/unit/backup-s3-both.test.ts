// S3 as BOTH destinations: two s3rver instances run in process on port 0 (the S3 stand-in of backup-s3.test.ts),
// one holding the primary bucket and one the secondary. Through the engine and through `backup ...` in process:
// create stores the archive and its checksum in both buckets and reads each back, list shows it at both, verify
// passes at the primary, restore reads back the files that were backed up. Then the primary's endpoint is closed
// (connection refused, as an S3 outage looks): verify and restore read from the secondary and say so.
// s3rver does not check request signatures (see backup-s3.test.ts): this proves the engine over the S3 protocol
// and the fallback, not AWS signing.
import { S3rver, type S3rverInstance } from '../support/s3rver.ts';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runBackupCli } from '../../src/backup/cli.ts';
import { keyRingOf } from '../../src/backup/crypto.ts';
import { S3Destination } from '../../src/backup/destinations/s3.ts';
import { createBackup, listArchives, readableTarget, recordedChecksum, verifyBackups, type Target, type TypePolicy } from '../../src/backup/engine.ts';
import { restoreArchive } from '../../src/backup/restore.ts';
import { configurationSource } from '../../src/backup/sources/files.ts';
import { BACKUP_TYPES, type BackupType } from '../../src/backup/types.ts';
import { bytesOf } from './backup-helpers.ts';

const signal = new AbortController().signal;
const log = () => undefined;
const KEY = randomBytes(32);
const ring = keyRingOf(KEY);
const DAY = 24 * 3600_000;
const BUCKETS = { primary: 'primary-backups', secondary: 'secondary-backups' } as const;
const SECRET = 'sEcReT-of-the-test-9b2e';
const CONFIG_TEXT = 'slurm:\n  url: http://ctl:6820\ncollectors:\n  jobs: { interval: 45s }\n';

const dir = mkdtempSync(path.join(tmpdir(), 's3-both-test-'));
const servers: Partial<Record<'primary' | 'secondary', S3rverInstance>> = {};
const endpoints = { primary: '', secondary: '' };
const exporterConfig = path.join(dir, 'exporter.yaml');
const cliConfig = path.join(dir, 'backup.yaml');
const keyFile = path.join(dir, 'backup.key');

function s3(name: 'primary' | 'secondary'): S3Destination {
  writeFileSync(path.join(dir, 'id'), 'S3RVER\n');
  writeFileSync(path.join(dir, 'secret'), `${SECRET}\n`);
  return new S3Destination({
    name,
    bucket: BUCKETS[name],
    prefix: 'slurm-exporter/prod',
    region: 'us-east-1',
    endpoint: endpoints[name],
    forcePathStyle: true,
    credentialFiles: { accessKeyIdFile: path.join(dir, 'id'), secretAccessKeyFile: path.join(dir, 'secret') },
    maxAttempts: 1,
    connectTimeoutMs: 2000,
  });
}

const targets = (): Target[] => [
  { dest: s3('primary'), required: true },
  { dest: s3('secondary'), required: true },
];
const policies = Object.fromEntries(BACKUP_TYPES.map((t) => [t, { enabled: t === 'configuration', schedule: '0 */6 * * *', retentionMs: 90 * DAY }])) as Record<BackupType, TypePolicy>;

function capture(): { stream: Writable; text: () => string } {
  const parts: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, cb) {
      parts.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(parts).toString('utf8') };
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = capture();
  const err = capture();
  const code = await runBackupCli([...args, '--config.file', cliConfig], { out: out.stream, err: err.stream, env: process.env });
  return { code, out: out.text(), err: err.text() };
}

before(async () => {
  for (const name of ['primary', 'secondary'] as const) {
    const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: path.join(dir, `store-${name}`), configureBuckets: [{ name: BUCKETS[name] }] });
    endpoints[name] = `http://127.0.0.1:${(await server.run()).port}`;
    servers[name] = server;
  }
  writeFileSync(exporterConfig, CONFIG_TEXT);
  writeFileSync(keyFile, KEY.toString('hex'), { mode: 0o600 });
  // The commands build their S3 clients from the configuration and the SDK's default credential chain.
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = SECRET;
  const dest = (name: 'primary' | 'secondary') => [`  ${name}:`, '    s3:', `      bucket: ${BUCKETS[name]}`, '      prefix: slurm-exporter/cli', `      endpoint: ${endpoints[name]}`, '      region: us-east-1', '      forcePathStyle: true'];
  writeFileSync(
    cliConfig,
    ['backup:', '  deployment: { enabled: false }', '  certificates: { enabled: false }', '  logs: { enabled: false }', ...dest('primary'), ...dest('secondary'), '  encryption:', `    keyFile: ${keyFile}`, '  paths:', `    configFile: ${exporterConfig}`, ''].join('\n'),
  );
});

after(async () => {
  for (const s of Object.values(servers)) await s.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('S3 primary and S3 secondary, both up', () => {
  let key = '';

  it('create stores the archive and its checksum in both buckets and reads each back; list shows it at both', async () => {
    const t = targets();
    const r = await createBackup({ source: configurationSource({ configFile: exporterConfig }), targets: t, ring, signal, log });
    assert.equal(r.done, true, JSON.stringify(r.copies));
    assert.deepEqual(
      r.copies.map((c) => [c.destination, c.ok]),
      [
        ['primary', true],
        ['secondary', true],
      ],
    );
    assert.match(r.key, /^configuration\/configuration-backup-\d{8}-\d{6}\.tar\.gz\.enc$/);
    key = r.key;
    for (const x of t) {
      assert.deepEqual((await listArchives(x.dest, signal)).map((a) => a.key), [r.key], `${x.dest.name} lists it`);
      assert.equal(await recordedChecksum(x.dest, r.key, signal), r.sha256, `${x.dest.name} holds its checksum`);
      assert.equal((await bytesOf(await x.dest.get(r.key, signal))).length, r.size, `${x.dest.name} holds every byte`);
    }
  });

  it('verify passes at the primary, with no fallback', async () => {
    const { choice, verdicts } = await verifyBackups({ targets: targets(), ring, policies, signal });
    assert.equal(choice.target.dest.name, 'primary');
    assert.equal(choice.fallbackReason, undefined);
    assert.deepEqual(
      verdicts.map((v) => [v.type, v.destination, v.newest, v.problems]),
      [['configuration', 'primary', key, []]],
    );
  });

  it('restore from the primary reads back the file that was backed up, checksum checked', async () => {
    const choice = await readableTarget(targets(), signal);
    assert.equal(choice.target.dest.name, 'primary');
    const out = mkdtempSync(path.join(dir, 'restore-primary-'));
    const sha256 = await recordedChecksum(choice.target.dest, key, signal);
    const r = await restoreArchive(await choice.target.dest.get(key, signal), { archive: key, ring, target: out, ...(sha256 ? { sha256 } : {}) });
    assert.deepEqual(r.items.map((i) => i.action), ['create']);
    assert.equal(await readFile(path.join(out, 'config/exporter.yaml'), 'utf8'), CONFIG_TEXT);
  });

  it('the commands: backup create, list, verify and restore with both destinations on S3', async () => {
    const created = await cli(['create']);
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /^ok {2}configuration\/\S+ .*stored at primary, secondary$/m);
    const listed = await cli(['list', '--output', 'json']);
    assert.equal(listed.code, 0, listed.err);
    const rows = JSON.parse(listed.out) as { destination: string; key: string }[];
    assert.deepEqual(rows.map((x) => x.destination), ['primary', 'secondary']);
    assert.equal(rows[0]?.key, rows[1]?.key);
    const verified = await cli(['verify']);
    assert.equal(verified.code, 0, verified.out + verified.err);
    assert.match(verified.out, /^ok {6}configuration: \S+ .* at primary$/m);
    assert.doesNotMatch(verified.err, /reading from/);
    const out = mkdtempSync(path.join(dir, 'restore-cli-primary-'));
    const restored = await cli(['restore', '--type', 'configuration', '--target', out]);
    assert.equal(restored.code, 0, restored.err);
    assert.equal(await readFile(path.join(out, 'config/exporter.yaml'), 'utf8'), CONFIG_TEXT);
    assert.ok(!(created.out + created.err + listed.out + verified.out + restored.out + restored.err).includes(SECRET), 'no secret in any output');
  });
});

describe('S3 primary unreachable, S3 secondary up', () => {
  let key = '';
  before(async () => {
    key = (await listArchives(s3('secondary'), signal, 'configuration'))[0]?.key ?? '';
    assert.ok(key, 'the secondary holds a backup from the tests above');
    await servers.primary?.close();
    delete servers.primary;
  });

  it('verify reads from the secondary, says why, and passes there', async () => {
    const { choice, verdicts } = await verifyBackups({ targets: targets(), ring, policies, signal });
    assert.equal(choice.target.dest.name, 'secondary');
    assert.match(choice.fallbackReason ?? '', /^primary unreachable \(.*cannot reach the endpoint \(ECONNREFUSED\)/);
    assert.deepEqual(
      verdicts.map((v) => [v.type, v.destination, v.newest, v.problems]),
      [['configuration', 'secondary', key, []]],
    );
  });

  it('restore reads from the secondary and gets the same file back', async () => {
    const choice = await readableTarget(targets(), signal);
    assert.equal(choice.target.dest.name, 'secondary');
    assert.match(choice.fallbackReason ?? '', /primary unreachable/);
    const out = mkdtempSync(path.join(dir, 'restore-secondary-'));
    const sha256 = await recordedChecksum(choice.target.dest, key, signal);
    assert.ok(sha256, 'the secondary holds the checksum');
    await restoreArchive(await choice.target.dest.get(key, signal), { archive: key, ring, target: out, sha256 });
    assert.equal(await readFile(path.join(out, 'config/exporter.yaml'), 'utf8'), CONFIG_TEXT);
  });

  it('a new backup is not done while the required primary is down, though the secondary holds it', async () => {
    const r = await createBackup({ source: configurationSource({ configFile: exporterConfig }), targets: targets(), ring, signal, log });
    assert.equal(r.done, false);
    const [p, s] = r.copies;
    assert.equal(p?.ok, false);
    assert.match(p?.error ?? '', /ECONNREFUSED/);
    assert.equal(s?.ok, true);
  });

  it('the commands: backup verify and restore say they read from the secondary, and succeed', async () => {
    const verified = await cli(['verify']);
    assert.equal(verified.code, 0, verified.out + verified.err);
    assert.match(verified.err, /reading from secondary: primary unreachable/);
    assert.match(verified.out, /^ok {6}configuration: \S+ .* at secondary$/m);
    const out = mkdtempSync(path.join(dir, 'restore-cli-secondary-'));
    const restored = await cli(['restore', '--type', 'configuration', '--target', out]);
    assert.equal(restored.code, 0, restored.err);
    assert.match(restored.err, /reading from secondary: primary unreachable/);
    assert.equal(await readFile(path.join(out, 'config/exporter.yaml'), 'utf8'), CONFIG_TEXT);
  });
});
