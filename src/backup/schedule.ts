// `backup schedule`: one long-running process instead of one CronJob per type. Each minute it starts the types
// whose cron schedule matches (one run per type at a time; a run still going when its next slot comes is not
// doubled), prunes after each run, and serves /metrics and /health. --verify-schedule adds `backup verify` on a
// schedule of its own, counted in the same metrics; --run-now backs up every enabled type once at start-up (and
// verifies once when --verify-schedule is given) instead of waiting for the first scheduled minute.
import { createServer, type Server } from 'node:http';
import type { ExporterConfig } from '../config/types.ts';
import { cronMatches, parseCron, type CronSchedule } from './cron.ts';
import { createBackup, pruneBackups, verifyBackups, type Target } from './engine.ts';
import type { KeyRing } from './crypto.ts';
import { BackupMetrics } from './metrics.ts';
import { buildTargets, keyRing, policies, sourceFor, UsageError } from './setup.ts';
import { BACKUP_TYPES, type BackupType } from './types.ts';

export interface Scheduler {
  /** Runs the types (and the verification) due in the minute of `at`; resolves when they are done. */
  tick(at: Date): Promise<void>;
  /** Every type once, whatever the time (--run-now), then the verification when there is one. */
  runAll(): Promise<void>;
  readonly metrics: BackupMetrics;
}

export interface SchedulerDeps {
  types: readonly BackupType[];
  schedules: Record<BackupType, CronSchedule>;
  /** One backup of the type, then pruning; resolves with success. */
  run: (type: BackupType) => Promise<void>;
  log: (msg: string) => void;
  /** `backup verify` on its own schedule (--verify-schedule); never two at once either. */
  verify?: { schedule: CronSchedule; run: () => Promise<void> };
}

export interface ScheduleOptions {
  /** --run-now: back up every enabled type at start-up, then verify once when verifySchedule is set. */
  runNow?: boolean;
  /** --verify-schedule: when `backup verify` runs in this process (cron). */
  verifySchedule?: string;
}

export function createScheduler(d: SchedulerDeps, metrics = new BackupMetrics()): Scheduler {
  const running = new Set<BackupType | 'verify'>();
  const one = async (t: BackupType | 'verify', run: () => Promise<void>) => {
    running.add(t);
    try {
      await run();
    } catch (err) {
      d.log(`${t}: ${(err as Error).message}`);
    } finally {
      running.delete(t);
    }
  };
  const backup = (t: BackupType) => one(t, () => d.run(t));
  const verify = d.verify;
  return {
    metrics,
    async tick(at) {
      const due: (BackupType | 'verify')[] = d.types.filter((t) => cronMatches(d.schedules[t], at));
      if (verify && cronMatches(verify.schedule, at)) due.push('verify');
      for (const t of due.filter((x) => running.has(x))) d.log(`${t}: the previous run is still going; skipping the run of ${at.toISOString()}`);
      await Promise.all(due.filter((t) => !running.has(t)).map((t) => (t === 'verify' ? one(t, (verify as NonNullable<typeof verify>).run) : backup(t))));
    },
    async runAll() {
      await Promise.all(d.types.filter((t) => !running.has(t)).map(backup));
      if (verify && !running.has('verify')) await one('verify', verify.run);
    },
  };
}

async function runType(type: BackupType, cfg: ExporterConfig, env: NodeJS.ProcessEnv, configFile: string | undefined, targets: Target[], ring: KeyRing | undefined, metrics: BackupMetrics, log: (m: string) => void): Promise<void> {
  const signal = AbortSignal.timeout(12 * 3600_000);
  try {
    const source = await sourceFor(type, cfg, env, configFile);
    const r = await createBackup({ source, targets, ring, signal, log });
    metrics.recordRun(type, r.done, r.size, r.durationMs, r.copies.filter((c) => c.ok).map((c) => c.destination), Date.now());
    log(`${type}: ${r.done ? 'stored' : 'FAILED'} ${r.key} (${r.size} bytes)${r.copies.filter((c) => !c.ok).map((c) => `; ${c.error ?? ''}`).join('')}`);
  } catch (err) {
    metrics.recordRun(type, false, 0, 0, [], Date.now());
    throw err;
  }
  for (const p of await pruneBackups(targets, policies(cfg.backup), signal)) if (p.error) log(`prune ${p.destination}: ${p.error}`);
  for (const t of targets) {
    const free = await t.dest.freeBytes?.(signal).catch(() => undefined);
    if (free !== undefined) metrics.recordFree(t.dest.name, free);
  }
}

/** One `backup verify` of every enabled type, counted as the command counts it (one verdict each). */
async function verifyRun(cfg: ExporterConfig, targets: Target[], ring: KeyRing | undefined, metrics: BackupMetrics, log: (m: string) => void): Promise<void> {
  const signal = AbortSignal.timeout(12 * 3600_000);
  let verdicts;
  try {
    const r = await verifyBackups({ targets, ring, policies: policies(cfg.backup), signal });
    if (r.choice.fallbackReason) log(`verify: reading from ${r.choice.target.dest.name}: ${r.choice.fallbackReason}`);
    verdicts = r.verdicts;
  } catch (err) {
    metrics.recordValidation(false);
    throw err;
  }
  for (const v of verdicts) {
    metrics.recordValidation(v.problems.length === 0);
    log(v.problems.length === 0 ? `verify: ${v.type}: ok ${v.newest ?? ''} at ${v.destination}` : `verify: ${v.type}: FAILED ${v.problems.join('; ')}`);
  }
}

function listen(address: string, metrics: BackupMetrics): Promise<Server> {
  const m = /^(.*):(\d+)$/.exec(address) as RegExpExecArray;
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '') || undefined;
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/metrics') res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics.render());
    else if (url === '/health') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    else res.writeHead(404).end('not found: /metrics and /health are served\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`backup.listenAddress ${address}: cannot listen (${(err as NodeJS.ErrnoException).code ?? err.message})`)));
    server.listen(Number(m[2]), host, () => resolve(server));
  });
}

/** Runs until SIGTERM/SIGINT; resolves with the exit code. */
export async function runSchedule(cfg: ExporterConfig, env: NodeJS.ProcessEnv, configFile: string | undefined, log: (m: string) => void, _signal: AbortSignal, opts: ScheduleOptions = {}): Promise<number> {
  let verifySchedule: CronSchedule | undefined;
  try {
    if (opts.verifySchedule !== undefined) verifySchedule = parseCron(opts.verifySchedule);
  } catch (err) {
    throw new UsageError(`--verify-schedule: ${(err as Error).message}`);
  }
  const targets = await buildTargets(cfg.backup);
  const ring = await keyRing(cfg.backup, env);
  const types = BACKUP_TYPES.filter((t) => cfg.backup.types[t].enabled);
  const schedules = Object.fromEntries(BACKUP_TYPES.map((t) => [t, parseCron(cfg.backup.types[t].schedule)])) as Record<BackupType, CronSchedule>;
  const metrics = new BackupMetrics();
  const verify = verifySchedule ? { schedule: verifySchedule, run: () => verifyRun(cfg, targets, ring, metrics, log) } : undefined;
  const s = createScheduler({ types, schedules, log, run: (t) => runType(t, cfg, env, configFile, targets, ring, metrics, log), ...(verify ? { verify } : {}) }, metrics);
  const server = await listen(cfg.backup.listenAddress, metrics);
  log(`backup schedule: ${types.map((t) => `${t} "${cfg.backup.types[t].schedule}"`).join(', ')}${verify ? `, verify "${opts.verifySchedule}"` : ''}; serving /metrics and /health on ${cfg.backup.listenAddress}`);
  if (opts.runNow) {
    log('backup schedule: --run-now: backing up every enabled type now');
    void s.runAll().then(() => log('backup schedule: --run-now: the start-up run is done'));
  }
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout;
    const next = () => {
      const now = Date.now();
      // Wake at the start of each minute; a slow tick never delays the next one.
      timer = setTimeout(() => {
        void s.tick(new Date());
        next();
      }, 60_000 - (now % 60_000) + 50);
    };
    next();
    const stop = () => {
      clearTimeout(timer);
      server.close(() => resolve(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
