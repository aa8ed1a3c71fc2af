// The names of the backup metrics (src/backup/metrics.ts serves and writes them), in one place for everything that
// reads them without the backup code: the alert rules' test (test/e2e/monitoring-rules.test.ts), the dashboard
// generator (scripts/gen-dashboards.ts) and its tests. They come from `slurm-exporter backup schedule`'s /metrics
// or from one-shot runs' --textfile output, not from the exporter's own /metrics, so docs/metrics.md does not
// list them; docs/backup.md does.

export const BACKUP_METRIC_NAMES = [
  'slurm_backup_jobs_completed_total',
  'slurm_backup_size_bytes',
  'slurm_backup_duration_seconds',
  'slurm_backup_validation_success_total',
  'slurm_backup_validation_failures_total',
  'slurm_backup_last_success_timestamp_seconds',
  'slurm_backup_destination_free_bytes',
] as const;

export type BackupMetricName = (typeof BACKUP_METRIC_NAMES)[number];

/** The labels of each backup metric (besides the job and instance of whatever scrapes them). */
export const BACKUP_METRIC_LABELS: Readonly<Record<BackupMetricName, readonly string[]>> = {
  slurm_backup_jobs_completed_total: ['type', 'status'],
  slurm_backup_size_bytes: ['type'],
  slurm_backup_duration_seconds: ['type'],
  slurm_backup_validation_success_total: [],
  slurm_backup_validation_failures_total: [],
  slurm_backup_last_success_timestamp_seconds: ['type', 'destination'],
  slurm_backup_destination_free_bytes: ['destination'],
};

/** The default schedules of the backup types (cron), and how often each runs at most, in seconds. */
export const BACKUP_DEFAULT_SCHEDULES = {
  configuration: { cron: '0 */6 * * *', periodSeconds: 6 * 3600 },
  monitoring: { cron: '0 2 * * *', periodSeconds: 24 * 3600 },
  deployment: { cron: '0 */12 * * *', periodSeconds: 12 * 3600 },
  certificates: { cron: '0 1 * * 0', periodSeconds: 7 * 24 * 3600 },
  logs: { cron: '0 3 * * *', periodSeconds: 24 * 3600 },
} as const;
