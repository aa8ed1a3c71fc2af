// The backup metrics, served by `backup schedule` on /metrics and written by one-shot runs (--textfile) for
// node_exporter's textfile collector. Labels carry types and destination names only, never a path or a key.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { renderPage } from '../exposition/writer.ts';
import type { MetricDesc, MetricFamily } from '../exposition/types.ts';
import type { BackupType } from './types.ts';

const SRC = 'slurm-exporter backup';

export const BACKUP_METRICS = {
  jobs: { name: 'slurm_backup_jobs_completed_total', type: 'counter', help: 'Backup runs completed, by type and status (success: every required destination holds it and reads back; failure: otherwise).', labels: ['type', 'status'], source: SRC },
  size: { name: 'slurm_backup_size_bytes', type: 'gauge', help: 'Size of the newest backup of each type as stored (compressed, encrypted when a key is configured).', labels: ['type'], source: SRC },
  duration: { name: 'slurm_backup_duration_seconds', type: 'gauge', help: 'How long the newest backup run of each type took, collection and uploads included.', labels: ['type'], source: SRC },
  validationOk: { name: 'slurm_backup_validation_success_total', type: 'counter', help: 'Backup verifications that passed (checksums, trial restore, RPO, retention).', labels: [], source: SRC },
  validationFailed: { name: 'slurm_backup_validation_failures_total', type: 'counter', help: 'Backup verifications that found a problem.', labels: [], source: SRC },
  lastSuccess: { name: 'slurm_backup_last_success_timestamp_seconds', type: 'gauge', help: 'When a backup of each type was last stored and read back at each destination (Unix time).', labels: ['type', 'destination'], source: SRC },
  free: { name: 'slurm_backup_destination_free_bytes', type: 'gauge', help: 'Free bytes at each local destination (statfs); S3 destinations have no such figure.', labels: ['destination'], source: SRC },
} as const satisfies Record<string, MetricDesc>;

/** Counts and gauges of the backup runs of one process. */
export class BackupMetrics {
  private readonly jobs = new Map<string, number>();
  private readonly size = new Map<BackupType, number>();
  private readonly duration = new Map<BackupType, number>();
  private readonly lastSuccess = new Map<string, number>();
  private readonly free = new Map<string, number>();
  private validationOk = 0;
  private validationFailed = 0;

  recordRun(type: BackupType, ok: boolean, sizeBytes: number, durationMs: number, storedAt: readonly string[], atMs: number): void {
    const k = `${type}\0${ok ? 'success' : 'failure'}`;
    this.jobs.set(k, (this.jobs.get(k) ?? 0) + 1);
    // Both outcomes exist from the first run on, so increase() sees the first failure too.
    const other = `${type}\0${ok ? 'failure' : 'success'}`;
    if (!this.jobs.has(other)) this.jobs.set(other, 0);
    if (!ok) return;
    this.size.set(type, sizeBytes);
    this.duration.set(type, durationMs / 1000);
    for (const d of storedAt) this.lastSuccess.set(`${type}\0${d}`, atMs / 1000);
  }

  recordValidation(ok: boolean): void {
    if (ok) this.validationOk++;
    else this.validationFailed++;
  }

  recordFree(destination: string, bytes: number): void {
    this.free.set(destination, bytes);
  }

  families(): MetricFamily[] {
    const split = (m: Map<string, number>) => [...m].map(([k, value]) => ({ values: k.split('\0'), value }));
    return [
      { desc: BACKUP_METRICS.jobs, samples: split(this.jobs) },
      { desc: BACKUP_METRICS.size, samples: [...this.size].map(([t, value]) => ({ values: [t], value })) },
      { desc: BACKUP_METRICS.duration, samples: [...this.duration].map(([t, value]) => ({ values: [t], value })) },
      // Counters with no labels are always present, so rate() works from the first scrape.
      { desc: BACKUP_METRICS.validationOk, samples: [{ values: [], value: this.validationOk }] },
      { desc: BACKUP_METRICS.validationFailed, samples: [{ values: [], value: this.validationFailed }] },
      { desc: BACKUP_METRICS.lastSuccess, samples: split(this.lastSuccess) },
      { desc: BACKUP_METRICS.free, samples: [...this.free].map(([d, value]) => ({ values: [d], value })) },
    ];
  }

  render(): string {
    return renderPage(this.families(), 'text');
  }

  /**
   * Carries a previous textfile's figures into this run's: counters add up, so they only grow across one-shot
   * runs (each run rewrites the file), and what this run did not measure (a failed type's last success, the other
   * types) is kept instead of vanishing from the file.
   */
  absorb(previous: string): void {
    for (const line of previous.split('\n')) {
      const m = /^(slurm_backup_[a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
      if (!m) continue;
      const value = Number(m[3]);
      if (!Number.isFinite(value)) continue;
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      this.absorbSample(m[1]!, labels, value);
    }
  }

  private absorbSample(name: string, l: Record<string, string | undefined>, value: number): void {
    const keep = <K>(m: Map<K, number>, k: K) => {
      if (!m.has(k)) m.set(k, value);
    };
    if (name === BACKUP_METRICS.jobs.name && l.type && l.status) this.jobs.set(`${l.type}\0${l.status}`, (this.jobs.get(`${l.type}\0${l.status}`) ?? 0) + value);
    else if (name === BACKUP_METRICS.validationOk.name) this.validationOk += value;
    else if (name === BACKUP_METRICS.validationFailed.name) this.validationFailed += value;
    else if (name === BACKUP_METRICS.lastSuccess.name && l.type && l.destination) keep(this.lastSuccess, `${l.type}\0${l.destination}`);
    else if (name === BACKUP_METRICS.size.name && l.type) keep(this.size, l.type as BackupType);
    else if (name === BACKUP_METRICS.duration.name && l.type) keep(this.duration, l.type as BackupType);
    else if (name === BACKUP_METRICS.free.name && l.destination) keep(this.free, l.destination);
  }
}

/** Writes the metrics for node_exporter's textfile collector: a temporary file in the same directory, then rename. */
export async function writeTextfile(file: string, metrics: BackupMetrics): Promise<void> {
  const previous = await readFile(file, 'utf8').catch(() => '');
  metrics.absorb(previous);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(metrics.render());
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new Error(`--textfile ${file}: cannot write it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}
