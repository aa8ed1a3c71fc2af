// `slurm-exporter backup schedule`, the long-running mode the backup alerts read: it serves /health and the
// backup metrics on backup.listenAddress from the start, and stops cleanly on SIGTERM.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, httpGet, waitFor } from '../support/exporter-process.ts';
import { freePort } from '../support/daemon.ts';
import { BACKUP_METRIC_NAMES } from '../../src/backup/metric-names.ts';

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
  after(async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

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
