// `slurm-exporter backup ...` in process: exit codes 0/1/2, --help with examples, the textfile, the
// schedule's tick, and no key, token or password in any output, metric or unencrypted archive.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { runBackupCli } from '../../src/backup/cli.ts';
import { parseCron } from '../../src/backup/cron.ts';
import { BACKUP_METRICS } from '../../src/backup/metrics.ts';
import { BACKUP_METRIC_LABELS, BACKUP_METRIC_NAMES } from '../../src/backup/metric-names.ts';
import { createScheduler } from '../../src/backup/schedule.ts';
import { BACKUP_TYPES, type BackupType } from '../../src/backup/types.ts';
import { tempDir } from './backup-helpers.ts';
import { fakeJwt } from '../support/fake-jwt.ts';

const KEY = randomBytes(32);
// Built at run time (test/support/fake-jwt.ts): no token-shaped literal in the repository.
const TOKEN = fakeJwt({ sun: 'x' }, 'signature-value');
const PRIVATE_KEY_MARK = 'PRIVATE-KEY-BODY-7f3a';
/** Each secret in the forms it could leak in. */
const FORBIDDEN = [KEY.toString('hex'), KEY.toString('base64'), TOKEN, PRIVATE_KEY_MARK];

function assertNoSecret(text: string, what: string): void {
  for (const s of FORBIDDEN) assert.ok(!text.includes(s), `${what} contains a secret (${s.slice(0, 6)}…)`);
}

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

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const out = capture();
  const err = capture();
  const code = await runBackupCli(args, { out: out.stream, err: err.stream, env });
  return { code, out: out.text(), err: err.text() };
}

async function site(encrypted: boolean): Promise<{ dir: string; config: string; env: NodeJS.ProcessEnv }> {
  const dir = await tempDir('site');
  await mkdir(path.join(dir, 'backups'));
  await writeFile(path.join(dir, 'tls.crt'), 'CERTIFICATE\n');
  await writeFile(path.join(dir, 'tls.key'), `-----BEGIN PRIVATE KEY-----\n${PRIVATE_KEY_MARK}\n`, { mode: 0o600 });
  await writeFile(path.join(dir, 'web.yaml'), 'tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\nbasic_auth_users:\n  prom: $2y$10$abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij12\n');
  const config = path.join(dir, 'config.yaml');
  await writeFile(
    config,
    [
      'slurm:',
      '  url: http://ctl:6820',
      `  token: ${TOKEN}`,
      'server:',
      `  webConfigFile: ${path.join(dir, 'web.yaml')}`,
      'backup:',
      '  logs: { enabled: false }',
      `  primary: { path: ${path.join(dir, 'backups')} }`,
      '  encryption: { keyEnv: TEST_BACKUP_KEY }',
      '',
    ].join('\n'),
  );
  return { dir, config, env: encrypted ? { TEST_BACKUP_KEY: KEY.toString('base64') } : {} };
}

describe('backup command line', () => {
  it('--help of each subcommand shows examples and exits 0', async () => {
    for (const sub of ['create', 'list', 'verify', 'restore', 'prune', 'export', 'schedule']) {
      const r = await run([sub, '--help']);
      assert.equal(r.code, 0, sub);
      assert.match(r.out, /Examples:\n {2}\$ slurm-exporter backup /, sub);
    }
  });

  it('exits 2 on a usage or configuration mistake, naming it', async () => {
    const s = await site(true);
    assert.equal((await run(['create', '--config.file', s.config, '--type', 'everything'], s.env)).code, 2);
    const r = await run(['create', '--type', 'everything', '--config.file', s.config], s.env);
    assert.match(r.err, /--type: "everything" is not one of configuration, monitoring, deployment, certificates, logs/);
    const none = await run(['list']);
    assert.equal(none.code, 2);
    assert.match(none.err, /no backup destination configured: set backup\.primary\.path/);
    assert.equal((await run(['frobnicate'])).code, 2);
  });

  it('create, list, verify and restore with an encrypted archive: exit 0, and no secret in any output or metric', async () => {
    const s = await site(true);
    const textfile = path.join(s.dir, 'backup.prom');
    const outputs: string[] = [];
    const step = async (args: string[], code = 0) => {
      const r = await run([...args, '--config.file', s.config], s.env);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.err}`);
      outputs.push(r.out, r.err);
      return r;
    };
    const created = await step(['create', '--textfile', textfile]);
    assert.match(created.out, /^ok {2}configuration\/configuration-backup-\d{8}-\d{6}\.tar\.gz\.enc/m);
    assert.match(created.out, /^ok {2}certificates\//m);
    const metrics = await readFile(textfile, 'utf8');
    assert.match(metrics, /slurm_backup_jobs_completed_total\{type="configuration",status="success"\} 1/);
    assert.match(metrics, /slurm_backup_last_success_timestamp_seconds\{type="certificates",destination="primary"\} \d/);
    assert.match(metrics, /slurm_backup_destination_free_bytes\{destination="primary"\} \d/);
    await step(['list']);
    await step(['verify']);
    const target = path.join(s.dir, 'restored');
    await step(['restore', '--type', 'certificates', '--target', target]);
    assert.match(await readFile(path.join(target, 'certificates/tls.key'), 'utf8'), new RegExp(PRIVATE_KEY_MARK));
    for (const o of [...outputs, metrics]) assertNoSecret(o, 'command output');
  });

  it('an unencrypted archive has no token, password hash or private key', async () => {
    const s = await site(false);
    const r = await run(['create', '--config.file', s.config], s.env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /no backup key configured/);
    assert.match(r.err, /tls\.key left out: secrets go only into an encrypted archive/);
    for (const type of ['configuration', 'certificates']) {
      const dir = path.join(s.dir, 'backups', type);
      for (const f of (await readdir(dir)).filter((n) => n.endsWith('.tar.gz'))) {
        const tar = gunzipSync(await readFile(path.join(dir, f))).toString('latin1');
        assertNoSecret(tar, `${type} archive`);
        assert.ok(!tar.includes('$2y$10$'), 'bcrypt hash in the archive');
      }
    }
    assertNoSecret(r.out + r.err, 'output');
  });

  it('verify exits 1 when a type has no backup', async () => {
    const s = await site(true);
    const r = await run(['verify', '--type', 'configuration', '--config.file', s.config], s.env);
    assert.equal(r.code, 1);
    assert.match(r.out, /FAILED {2}configuration: no configuration backup at primary/);
  });
});

describe('backup metrics', () => {
  it('are the names and labels the alerts and the dashboard use', () => {
    const served = Object.values(BACKUP_METRICS);
    assert.deepEqual(served.map((d) => d.name).sort(), [...BACKUP_METRIC_NAMES].sort());
    for (const d of served) assert.deepEqual(d.labels, BACKUP_METRIC_LABELS[d.name], d.name);
  });
});

describe('backup schedule', () => {
  it('runs each type whose schedule matches the minute, and never two runs of one type at once', async () => {
    const schedules = Object.fromEntries(BACKUP_TYPES.map((t) => [t, parseCron(t === 'logs' ? '0 3 * * *' : '0 */6 * * *')])) as Record<BackupType, ReturnType<typeof parseCron>>;
    const ran: string[] = [];
    let release: () => void = () => undefined;
    const logs: string[] = [];
    const s = createScheduler({
      types: ['configuration', 'logs'],
      schedules,
      log: (m) => logs.push(m),
      run: (t) => {
        ran.push(t);
        // Only the first configuration run hangs until released.
        return t === 'configuration' && ran.length === 1 ? new Promise<void>((r) => (release = r)) : Promise.resolve();
      },
    });
    const first = s.tick(new Date(2026, 0, 1, 0, 0));
    await s.tick(new Date(2026, 0, 1, 3, 0));
    await s.tick(new Date(2026, 0, 1, 0, 0));
    assert.deepEqual(ran, ['configuration', 'logs']);
    assert.match(logs[0] ?? '', /configuration: the previous run is still going/);
    release();
    await first;
    await s.tick(new Date(2026, 0, 1, 6, 0));
    assert.deepEqual(ran, ['configuration', 'logs', 'configuration']);
  });

  it('runs the verification on its own schedule (--verify-schedule), and every type then the verification at once (--run-now)', async () => {
    const schedules = Object.fromEntries(BACKUP_TYPES.map((t) => [t, parseCron('0 */6 * * *')])) as Record<BackupType, ReturnType<typeof parseCron>>;
    const ran: string[] = [];
    let release: () => void = () => undefined;
    const logs: string[] = [];
    const s = createScheduler({
      types: ['configuration', 'certificates'],
      schedules,
      log: (m) => logs.push(m),
      run: async (t) => {
        ran.push(t);
      },
      verify: {
        schedule: parseCron('30 4 * * *'),
        run: () => {
          ran.push('verify');
          // The first verification hangs until released.
          return ran.filter((x) => x === 'verify').length === 1 ? new Promise<void>((r) => (release = r)) : Promise.resolve();
        },
      },
    });
    await s.tick(new Date(2026, 0, 1, 4, 0));
    assert.deepEqual(ran, [], 'nothing is due at 04:00');
    const first = s.tick(new Date(2026, 0, 1, 4, 30));
    await s.tick(new Date(2026, 0, 2, 4, 30));
    assert.deepEqual(ran, ['verify'], 'a verification still going is not doubled');
    assert.match(logs[0] ?? '', /verify: the previous run is still going/);
    release();
    await first;
    await s.runAll();
    assert.deepEqual(ran, ['verify', 'configuration', 'certificates', 'verify'], '--run-now: every enabled type, then one verification');
  });
});
