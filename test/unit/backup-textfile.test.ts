// One-shot runs rewrite their --textfile each time: the counters in it must only grow across runs (so increase()
// and the backup alerts see every failure), and a failed run must keep the previous success time.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BackupMetrics, writeTextfile } from '../../src/backup/metrics.ts';

it('counters add up across one-shot runs; a failure keeps the last success time', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'backup-textfile-'));
  const file = path.join(dir, 'backup.prom');
  try {
    const run = async (ok: boolean, at: number) => {
      const m = new BackupMetrics();
      m.recordRun('configuration', ok, 1000, 200, ok ? ['primary'] : [], at);
      m.recordValidation(ok);
      await writeTextfile(file, m);
      return readFileSync(file, 'utf8');
    };
    const first = await run(true, 1_800_000_000_000);
    assert.match(first, /^slurm_backup_jobs_completed_total\{type="configuration",status="success"\} 1$/m);
    assert.match(first, /^slurm_backup_jobs_completed_total\{type="configuration",status="failure"\} 0$/m, 'a zero series, so the first failure is an increase');
    const second = await run(false, 1_800_000_600_000);
    assert.match(second, /^slurm_backup_jobs_completed_total\{type="configuration",status="success"\} 1$/m);
    assert.match(second, /^slurm_backup_jobs_completed_total\{type="configuration",status="failure"\} 1$/m);
    assert.match(second, /^slurm_backup_last_success_timestamp_seconds\{type="configuration",destination="primary"\} 1800000000$/m, 'kept from the run that succeeded');
    const third = await run(false, 1_800_001_200_000);
    assert.match(third, /^slurm_backup_jobs_completed_total\{type="configuration",status="failure"\} 2$/m);
    assert.match(third, /^slurm_backup_validation_success_total 1$/m);
    assert.match(third, /^slurm_backup_validation_failures_total 2$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
