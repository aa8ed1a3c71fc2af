// `slurm-exporter backup schedule`, the long-running mode the backup alerts read: it serves /health and the
// backup metrics on backup.listenAddress from the start, and stops cleanly on SIGTERM; --run-now and
// --verify-schedule back up and verify at start-up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, httpGet, waitFor } from '../support/exporter-process.ts';
import { freePort } from '../support/daemon.ts';
import { BACKUP_METRIC_NAMES } from '../../src/backup/metric-names.ts';

/** SIGTERM to the schedule process (if still running), then its directory goes. */
async function stopAndClean(proc: ChildProcess, dir: string): Promise<void> {
  if (proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}

describe('backup schedule', () => {
  let dir: string;
  let proc: ChildProcess;
  let url: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'backup-schedule-'));
    mkdirSync(path.join(dir, 'store'));
    writeFileSync(path.join(dir, 'key'), randomBytes(32).toString('hex'), { mode: 0o600 });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const cfg = path.join(dir, 'backup.yaml');
    writeFileSync(cfg, ['backup:', `  listenAddress: 127.0.0.1:${port}`, '  primary:', `    path: ${path.join(dir, 'store')}`, '  encryption:', `    keyFile: ${path.join(dir, 'key')}`, '  paths:', `    configFile: ${cfg}`, ''].join('\n'));
    proc = spawn(BIN, ['backup', 'schedule', '--config.file', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitFor('/health', async () => (await httpGet(`${url}/health`).catch(() => undefined))?.status === 200, 20_000);
  });
  after(() => stopAndClean(proc, dir));

  it('serves the backup metrics the alerts and the dashboard read, and nothing secret', async () => {
    const r = await httpGet(`${url}/metrics`);
    assert.equal(r.status, 200);
    for (const name of ['slurm_backup_validation_success_total', 'slurm_backup_validation_failures_total']) assert.match(r.text, new RegExp(`^${name} 0$`, 'm'));
    for (const line of r.text.split('\n').filter((l) => l.startsWith('# TYPE '))) {
      const name = line.split(' ')[2]!;
      assert.ok((BACKUP_METRIC_NAMES as readonly string[]).includes(name), `${name} is a declared backup metric`);
    }
    assert.doesNotMatch(r.text, /key|token|password/i);
  });

  it('exits 0 on SIGTERM', async () => {
    const code = await new Promise<number | null>((resolve) => {
      proc.once('exit', (c) => resolve(c));
      proc.kill('SIGTERM');
    });
    assert.equal(code, 0);
  });
});

// --run-now backs up every enabled type at start-up instead of at the first scheduled minute, and
// --verify-schedule verifies in the same process: the served metrics show a stored, read-back backup, the free
// space of the local destination and a passed verification within seconds, and the archive is on disk.
describe('backup schedule --run-now --verify-schedule', () => {
  let dir: string;
  let proc: ChildProcess;
  let url: string;
  const stderr: string[] = [];
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'backup-schedule-now-'));
    mkdirSync(path.join(dir, 'store'));
    writeFileSync(path.join(dir, 'key'), randomBytes(32).toString('hex'), { mode: 0o600 });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const cfg = path.join(dir, 'backup.yaml');
    // Schedules that never come during the test (1 January, 00:00): only --run-now can have run them.
    writeFileSync(
      cfg,
      ['backup:', `  listenAddress: 127.0.0.1:${port}`, '  configuration: { schedule: "0 0 1 1 *" }', '  deployment: { enabled: false }', '  certificates: { enabled: false }', '  logs: { enabled: false }', '  primary:', `    path: ${path.join(dir, 'store')}`, '  encryption:', `    keyFile: ${path.join(dir, 'key')}`, '  paths:', `    configFile: ${cfg}`, ''].join('\n'),
    );
    proc = spawn(BIN, ['backup', 'schedule', '--config.file', cfg, '--run-now', '--verify-schedule', '0 0 1 1 *'], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stderr?.on('data', (b: Buffer) => stderr.push(b.toString()));
    await waitFor('/health', async () => (await httpGet(`${url}/health`).catch(() => undefined))?.status === 200 || (proc.exitCode !== null && assert.fail(stderr.join(''))), 20_000);
  });
  after(() => stopAndClean(proc, dir));

  it('serves a successful run, the free space and a passed verification within seconds, and stores the archive', async () => {
    const page = await waitFor(
      'the start-up run and verification in /metrics',
      async () => {
        const t = (await httpGet(`${url}/metrics`)).text;
        return /^slurm_backup_validation_success_total 1$/m.test(t) ? t : undefined;
      },
      20_000,
    );
    assert.match(page, /^slurm_backup_jobs_completed_total\{type="configuration",status="success"\} 1$/m);
    assert.match(page, /^slurm_backup_jobs_completed_total\{type="configuration",status="failure"\} 0$/m);
    assert.match(page, /^slurm_backup_validation_failures_total 0$/m);
    const last = /^slurm_backup_last_success_timestamp_seconds\{type="configuration",destination="primary"\} (\S+)$/m.exec(page);
    assert.ok(last, page);
    assert.ok(Math.abs(Number(last[1]) - Date.now() / 1000) < 60, 'stored just now');
    assert.match(page, /^slurm_backup_size_bytes\{type="configuration"\} [1-9]\d*$/m);
    assert.match(page, /^slurm_backup_duration_seconds\{type="configuration"\} \S+$/m);
    assert.match(page, /^slurm_backup_destination_free_bytes\{destination="primary"\} [1-9]\d*$/m);
    assert.doesNotMatch(page, /type="(deployment|certificates|logs)"/, 'disabled types do not run');
    const archives = readdirSync(path.join(dir, 'store', 'configuration'));
    assert.equal(archives.filter((f) => /^configuration-backup-\d{8}-\d{6}\.tar\.gz\.enc$/.test(f)).length, 1, archives.join(', '));
    assert.match(stderr.join(''), /--run-now: the start-up run is done/);
  });

  it('refuses a bad --verify-schedule with exit code 2', async () => {
    const bad = spawn(BIN, ['backup', 'schedule', '--config.file', path.join(dir, 'backup.yaml'), '--verify-schedule', 'daily'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    bad.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((r) => bad.once('exit', r));
    assert.equal(code, 2);
    assert.match(err, /--verify-schedule: "daily": a schedule has 5 fields/);
  });
});
