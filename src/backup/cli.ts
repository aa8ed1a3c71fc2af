// `slurm-exporter backup ...`: the subcommands, loaded only when `backup` is run. Exit codes as check-config:
// 0 done, 1 a backup, verification or restore failed, 2 bad configuration or usage.
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, addConfigOptions, resolveConfig } from '../config/load.ts';
import { attributeName, CONFIG_FILE_FLAG } from '../config/flags.ts';
import type { ExporterConfig } from '../config/types.ts';
import { CryptoError, exportOpenssl, OPENSSL_WARNING } from './crypto.ts';
import { createBackup, listArchives, pruneBackups, readableTarget, recordedChecksum, verifyBackups, type Target } from './engine.ts';
import { BackupMetrics, writeTextfile } from './metrics.ts';
import { parseArchiveKey } from './names.ts';
import { progressBar } from './progress.ts';
import { plainBody, restoreArchive, checkedBody } from './restore.ts';
import { buildTargets, keyRing, policies, selectedTypes, sourceFor, UsageError } from './setup.ts';
import { BACKUP_TYPES, type BackupType } from './types.ts';

export interface BackupIo {
  out: NodeJS.WriteStream | NodeJS.WritableStream;
  err: NodeJS.WriteStream | NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

interface Ctx {
  io: BackupIo;
  cfg: ExporterConfig;
  configFile: string | undefined;
  signal: AbortSignal;
}

const say = (io: BackupIo, s: string) => io.out.write(s + '\n');
const warn = (io: BackupIo, s: string) => io.err.write(`slurm-exporter backup: ${s}\n`);
const TYPES = BACKUP_TYPES.join(', ');

async function context(cmd: Command, io: BackupIo): Promise<Ctx> {
  const opts = cmd.opts();
  try {
    const cfg = await resolveConfig(opts, io.env, { warn: (m) => warn(io, `warning: ${m}`) });
    const file = opts[attributeName(CONFIG_FILE_FLAG)];
    return { io, cfg, configFile: typeof file === 'string' ? file : undefined, signal: AbortSignal.timeout(24 * 3600_000) };
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

function bar(io: BackupIo) {
  return progressBar(io.err as NodeJS.WriteStream);
}

async function runCreate(c: Ctx, o: { type?: string; textfile?: string }): Promise<number> {
  const types = selectedTypes(c.cfg.backup, o.type);
  const targets = await buildTargets(c.cfg.backup);
  const ring = await keyRing(c.cfg.backup, c.io.env);
  if (!ring) warn(c.io, 'warning: no backup key configured (backup.encryption): archives are written unencrypted and Kubernetes Secrets keep only their metadata');
  const metrics = new BackupMetrics();
  let failed = 0;
  for (const type of types) {
    const p = bar(c.io);
    try {
      const source = await sourceFor(type, c.cfg, c.io.env, c.configFile);
      const r = await createBackup({ source, targets, ring, signal: c.signal, log: (m) => warn(c.io, m), progress: p.update });
      p.done();
      const stored = r.copies.filter((x) => x.ok).map((x) => x.destination);
      metrics.recordRun(type, r.done, r.size, r.durationMs, stored, Date.now());
      say(c.io, `${r.done ? 'ok' : 'FAILED'}  ${r.key}  ${r.manifest.files.length} files, ${r.size} bytes, sha256 ${r.sha256}, stored at ${stored.join(', ') || 'nowhere'}`);
      for (const x of r.copies) if (!x.ok) warn(c.io, `${type}: ${x.error ?? 'not stored'}`);
      if (!r.done) failed++;
    } catch (err) {
      p.done();
      metrics.recordRun(type, false, 0, 0, [], Date.now());
      warn(c.io, `${type}: ${(err as Error).message}`);
      failed++;
    }
  }
  await recordFree(targets, metrics, c.signal);
  if (o.textfile) await writeTextfile(o.textfile, metrics);
  return failed ? 1 : 0;
}

async function recordFree(targets: readonly Target[], metrics: BackupMetrics, signal: AbortSignal): Promise<void> {
  for (const t of targets) {
    const free = await t.dest.freeBytes?.(signal).catch(() => undefined);
    if (free !== undefined) metrics.recordFree(t.dest.name, free);
  }
}

async function runList(c: Ctx, o: { type?: string; output: string }): Promise<number> {
  const type = o.type === undefined ? undefined : (selectedTypes(c.cfg.backup, o.type)[0] as BackupType);
  const rows: { destination: string; key: string; size: number; time: string }[] = [];
  let failed = 0;
  for (const t of await buildTargets(c.cfg.backup)) {
    try {
      for (const a of await listArchives(t.dest, c.signal, type)) rows.push({ destination: t.dest.name, key: a.key, size: a.size, time: new Date(a.timeMs).toISOString() });
    } catch (err) {
      warn(c.io, (err as Error).message);
      failed++;
    }
  }
  if (o.output === 'json') say(c.io, JSON.stringify(rows, null, 2));
  else for (const r of rows) say(c.io, `${r.destination.padEnd(10)} ${r.time}  ${String(r.size).padStart(12)}  ${r.key}`);
  return failed ? 1 : 0;
}

async function runVerify(c: Ctx, o: { type?: string; textfile?: string }): Promise<number> {
  const targets = await buildTargets(c.cfg.backup);
  const ring = await keyRing(c.cfg.backup, c.io.env);
  const metrics = new BackupMetrics();
  const types = selectedTypes(c.cfg.backup, o.type);
  const { choice, verdicts } = await verifyBackups({ targets, ring, policies: policies(c.cfg.backup), signal: c.signal, types });
  if (choice.fallbackReason) warn(c.io, `reading from ${choice.target.dest.name}: ${choice.fallbackReason}`);
  for (const v of verdicts) {
    metrics.recordValidation(v.problems.length === 0);
    if (v.problems.length === 0) say(c.io, `ok      ${v.type}: ${v.newest} (${v.files} files, ${((v.ageMs ?? 0) / 3600_000).toFixed(1)} h old) at ${v.destination}`);
    else for (const p of v.problems) say(c.io, `FAILED  ${v.type}: ${p}`);
  }
  if (o.textfile) await writeTextfile(o.textfile, metrics);
  return verdicts.every((v) => v.problems.length === 0) ? 0 : 1;
}

interface RestoreFlags {
  type?: string;
  archive?: string;
  file?: string;
  target?: string;
  dryRun?: boolean;
  rollbackDir?: string;
}

async function newestKey(t: Target, type: BackupType, signal: AbortSignal): Promise<string> {
  const newest = (await listArchives(t.dest, signal, type))[0];
  if (!newest) throw new Error(`no ${type} backup at ${t.dest.name}`);
  return newest.key;
}

async function restoreOne(c: Ctx, t: Target, key: string, o: RestoreFlags): Promise<void> {
  const ring = await keyRing(c.cfg.backup, c.io.env);
  const sha256 = await recordedChecksum(t.dest, key, c.signal);
  if (sha256 === undefined) warn(c.io, `warning: ${t.dest.name}: ${key} has no checksum recorded next to it; checking its contents only`);
  const p = bar(c.io);
  const body = await t.dest.get(key, c.signal, (n) => p.update(`download from ${t.dest.name}`, n, n));
  const r = await restoreArchive(body, { archive: key, ring, ...(sha256 ? { sha256 } : {}), ...(o.target ? { target: o.target } : {}), ...(o.file ? { only: o.file } : {}), ...(o.dryRun ? { dryRun: true } : {}), ...(o.rollbackDir ? { rollbackDir: o.rollbackDir } : {}) }).finally(() => p.done());
  const verb = { create: ['would create', 'created'], replace: ['would replace', 'replaced'], unchanged: ['unchanged', 'unchanged'] } as const;
  for (const it of r.items) say(c.io, `${verb[it.action][o.dryRun ? 0 : 1].padEnd(13)} ${it.dest}  (${it.path} from ${key})`);
  if (r.rollbackDir) say(c.io, `replaced files are kept in ${r.rollbackDir}`);
}

async function runRestore(c: Ctx, o: RestoreFlags): Promise<number> {
  const targets = await buildTargets(c.cfg.backup);
  const choice = await readableTarget(targets, c.signal);
  if (choice.fallbackReason) warn(c.io, `reading from ${choice.target.dest.name}: ${choice.fallbackReason}`);
  if (o.archive !== undefined && !parseArchiveKey(o.archive)) throw new UsageError(`--archive: "${o.archive}" is not an archive name (<type>/<type>-backup-YYYYMMDD-HHMMSS.tar.gz[.enc]; see backup list)`);
  const keys = o.archive ? [o.archive] : await Promise.all(selectedTypes(c.cfg.backup, o.type).map((t) => newestKey(choice.target, t, c.signal)));
  for (const key of keys) await restoreOne(c, choice.target, key, o);
  return 0;
}

async function runPrune(c: Ctx, o: { dryRun?: boolean }): Promise<number> {
  const results = await pruneBackups(await buildTargets(c.cfg.backup), policies(c.cfg.backup), c.signal, new Date(), o.dryRun === true);
  for (const r of results) {
    for (const k of r.deleted) say(c.io, `${o.dryRun ? 'would delete' : 'deleted'} ${r.destination}: ${k}`);
    say(c.io, `${r.destination}: ${r.kept} kept, ${r.deleted.length} ${o.dryRun ? 'to delete' : 'deleted'}`);
    if (r.error) warn(c.io, r.error);
  }
  return results.some((r) => r.error) ? 1 : 0;
}

async function runExport(c: Ctx, o: { archive: string; passphraseFile: string; out: string; openssl?: boolean }): Promise<number> {
  if (!o.openssl) throw new UsageError('export: only --openssl is supported; give --openssl');
  if (!parseArchiveKey(o.archive)) throw new UsageError(`--archive: "${o.archive}" is not an archive name (see backup list)`);
  const passphrase = (await readFile(o.passphraseFile, 'utf8')).split('\n')[0] ?? '';
  if (passphrase === '') throw new UsageError(`--passphrase-file ${o.passphraseFile}: the first line is empty`);
  const choice = await readableTarget(await buildTargets(c.cfg.backup), c.signal);
  const sha256 = await recordedChecksum(choice.target.dest, o.archive, c.signal);
  const ring = await keyRing(c.cfg.backup, c.io.env);
  const body = plainBody(checkedBody(await choice.target.dest.get(o.archive, c.signal), o.archive, sha256), o.archive, ring);
  warn(c.io, OPENSSL_WARNING);
  await pipeline(Readable.from(exportOpenssl(body, passphrase)), createWriteStream(o.out, { mode: 0o600, flags: 'wx' }));
  say(c.io, `wrote ${o.out}; open it with: openssl enc -d -aes-256-cbc -pbkdf2 -in ${o.out} -pass file:${o.passphraseFile} | tar xz`);
  return 0;
}

const typeOption = () => new Option('--type <type>', `one backup type (${TYPES}); default: every enabled type`);
const textfileOption = () => new Option('--textfile <file>', "write the run's metrics to this file for node_exporter's textfile collector (atomically)");

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

type Runner = (c: Ctx, opts: never) => Promise<number>;

function sub(parent: Command, name: string, description: string, run: Runner, io: BackupIo, setCode: (n: number) => void): Command {
  const cmd = addConfigOptions(parent.command(name).description(description));
  cmd.action(async (_o: unknown, self: Command) => setCode(await run(await context(self, io), self.opts() as never)));
  return cmd;
}

export function buildBackupProgram(io: BackupIo, setCode: (n: number) => void): Command {
  const program = new Command('slurm-exporter backup')
    .description('back up, verify, restore and prune the exporter\'s configuration, certificates, logs, monitoring data and deployment state (docs/backup.md)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) });
  const add = (name: string, d: string, run: Runner) => sub(program, name, d, run, io, setCode).exitOverride();
  add('create', 'back up one type or every enabled one to every destination; done only when each required copy reads back', runCreate as Runner)
    .addOption(typeOption())
    .addOption(textfileOption())
    .addHelpText('after', examples(['slurm-exporter backup create --config.file /etc/slurm-exporter/config.yaml', 'slurm-exporter backup create --type certificates --textfile /var/lib/node_exporter/textfile/backup.prom']));
  add('list', 'list the archives at each destination, newest first', runList as Runner)
    .addOption(typeOption())
    .addOption(new Option('--output <format>', 'text or json').choices(['text', 'json']).default('text'))
    .addHelpText('after', examples(['slurm-exporter backup list --type configuration', 'slurm-exporter backup list --output json']));
  add('verify', 'decrypt the newest backup of each type, check every checksum, restore it into a temporary directory, and check the RPO and retention', runVerify as Runner)
    .addOption(typeOption())
    .addOption(textfileOption())
    .addHelpText('after', examples(['slurm-exporter backup verify', 'slurm-exporter backup verify --type configuration --textfile /var/lib/node_exporter/textfile/backup-verify.prom']));
  add('restore', 'restore the newest backup of a type (or a named archive, or one file of it), atomically, keeping what it replaces', runRestore as Runner)
    .addOption(typeOption())
    .option('--archive <name>', 'the archive to restore, as backup list shows it')
    .option('--file <path>', 'only this file of the archive (its path inside the archive)')
    .option('--target <dir>', 'restore under this directory instead of where the files came from')
    .option('--dry-run', 'list what would change, file by file, and change nothing')
    .option('--rollback-dir <dir>', 'where replaced files are kept (default: a new folder under the temporary directory)')
    .addHelpText(
      'after',
      examples([
        'slurm-exporter backup restore --type configuration --dry-run',
        'slurm-exporter backup restore --type certificates',
        'slurm-exporter backup restore --archive configuration/configuration-backup-20260101-060000.tar.gz.enc --file web/web-config.yaml --target /tmp/restore',
      ]),
    );
  add('prune', 'delete archives older than their retention at every destination (the newest of each type always stays)', runPrune as Runner)
    .option('--dry-run', 'list what would be deleted')
    .addHelpText('after', examples(['slurm-exporter backup prune --dry-run', 'slurm-exporter backup prune']));
  add('export', 'write an archive in the format of `openssl enc -aes-256-cbc -pbkdf2`, for recovery without this tool (no integrity check)', runExport as Runner)
    .option('--openssl', 'the openssl format (the only one)')
    .requiredOption('--archive <name>', 'the archive, as backup list shows it')
    .requiredOption('--passphrase-file <file>', 'file whose first line is the passphrase (never a flag)')
    .requiredOption('--out <file>', 'file to write (must not exist)')
    .addHelpText('after', examples(['slurm-exporter backup export --openssl --archive configuration/configuration-backup-20260101-060000.tar.gz.enc --passphrase-file /root/pass --out /tmp/config.tar.gz.aes']));
  add('schedule', 'run each enabled type on its schedule, prune after each run, and serve /metrics and /health', (async (c: Ctx, o: { runNow?: boolean; verifySchedule?: string }) => {
    const { runSchedule } = await import('./schedule.ts');
    return runSchedule(c.cfg, c.io.env, c.configFile, (m) => warn(c.io, m), c.signal, { ...(o.runNow ? { runNow: true } : {}), ...(o.verifySchedule !== undefined ? { verifySchedule: o.verifySchedule } : {}) });
  }) as Runner)
    .option('--run-now', 'back up every enabled type once at start-up (then verify once with --verify-schedule), then follow the schedules')
    .option('--verify-schedule <cron>', 'also run `backup verify` on this schedule (cron, local time), counted in the served slurm_backup_validation_* metrics')
    .addHelpText('after', examples(['slurm-exporter backup schedule --config.file /etc/slurm-exporter/config.yaml', 'slurm-exporter backup schedule --config.file /etc/slurm-exporter/config.yaml --verify-schedule "30 4 * * *" --run-now']));
  return program;
}

function exitCodeOf(err: unknown, io: BackupIo): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof UsageError) {
    warn(io, err.message);
    return 2;
  }
  warn(io, err instanceof CryptoError || err instanceof Error ? err.message : String(err));
  return 1;
}

/** Runs `backup <args>`; resolves with the exit code. */
export async function runBackupCli(args: readonly string[], io: BackupIo): Promise<number> {
  let code = 0;
  const program = buildBackupProgram(io, (n) => (code = n));
  try {
    await program.parseAsync(['node', 'backup', ...args]);
    return code;
  } catch (err) {
    return exitCodeOf(err, io);
  }
}
