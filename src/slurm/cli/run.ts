// Runs one Slurm command (sinfo, squeue, scontrol, ...) for the CLI source. The command gets its own process
// group so that a timeout kills it and anything it started; its output is capped; it never throws anything
// but a SlurmFetchError, so a failing, slow or missing command costs one collector one interval and nothing
// else. stdout is handed over as a stream, so a 100 MB `squeue --json` is parsed while it arrives.
import { spawn, type ChildProcess } from 'node:child_process';
import { SlurmFetchError, type FetchErrorKind } from '../source.ts';

export interface RunOptions {
  /** Extra environment (SLURM_CONF); the exporter's own environment is passed through otherwise. */
  env: Record<string, string | undefined>;
  /** Bytes of stdout before the command is killed and the fetch fails as too_large. */
  maxBytes: number;
  /** Ms between SIGTERM and SIGKILL of the process group. */
  killGraceMs?: number;
}

/** What a finished command left: its exit, and the tail of stderr for the error message. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

export interface RunningCommand {
  /** The command's stdout, ending when the command has exited; fails with a SlurmFetchError. */
  stdout: AsyncIterable<Uint8Array>;
  /** Resolves once the process has exited (never rejects). */
  exited: Promise<Exit>;
}

const STDERR_LIMIT = 8 * 1024;

/** `sinfo --json` as the message shows it (the arguments carry no secrets). */
export function commandLine(file: string, args: readonly string[]): string {
  return [file, ...args].map((a) => (/^[\w./:=%,+-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

function killGroup(child: ChildProcess, graceMs: number): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  kill('SIGTERM');
  setTimeout(() => kill('SIGKILL'), graceMs).unref();
}

/** Slurm's own words for why a command failed, mapped onto the error counter's reasons. */
export function classifyFailure(stderr: string): FetchErrorKind {
  if (/unable to contact slurm controller|connection refused|socket timed out|communication connection failure|zero bytes were transmitted/i.test(stderr)) return 'connect';
  if (/munge|authentication|invalid user|access denied|permission denied|unauthorized/i.test(stderr)) return 'auth';
  if (/unrecognized option|invalid option|unknown option/i.test(stderr)) return 'unsupported';
  return 'exec';
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((l) => l.trim() !== '');
  const tail = lines.slice(-2).join(' / ').replace(/\s+/g, ' ');
  return tail.length > 300 ? `${tail.slice(0, 300)}…` : tail;
}

function failureOf(cmd: string, exit: Exit, reason: unknown): SlurmFetchError {
  if (reason instanceof SlurmFetchError) return reason;
  if (exit.signal !== null) return new SlurmFetchError('exec', `${cmd} was killed by ${exit.signal}${exit.stderr ? `: ${lastLine(exit.stderr)}` : ''}`);
  const why = exit.stderr ? lastLine(exit.stderr) : 'no message on stderr';
  return new SlurmFetchError(classifyFailure(exit.stderr), `${cmd} exited with status ${exit.code}: ${why}`);
}

function spawnError(cmd: string, err: NodeJS.ErrnoException): SlurmFetchError {
  if (err.code === 'ENOENT') return new SlurmFetchError('exec', `${cmd}: command not found (set slurm.cli.binDir or PATH)`);
  if (err.code === 'EACCES') return new SlurmFetchError('exec', `${cmd}: not executable by this user`);
  return new SlurmFetchError('exec', `${cmd}: could not start: ${err.message}`);
}

/**
 * Starts `file args` in its own process group. The signal (the collector's timeout, shutdown, lost
 * leadership) kills the whole group; so does output past maxBytes.
 */
export function runCommand(file: string, args: readonly string[], signal: AbortSignal, opts: RunOptions): RunningCommand {
  const cmd = commandLine(file, args);
  const graceMs = opts.killGraceMs ?? 2000;
  // The text parsers read C-locale numbers and Slurm's standard time format (2026-11-24T07:09:59, local time).
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, LC_ALL: 'C', SLURM_TIME_FORMAT: 'standard' };
  // An empty SLURM_JWT would switch the commands to JWT authentication with no token; munge is meant then.
  if (env.SLURM_JWT === '') delete env.SLURM_JWT;
  const child = spawn(file, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let failure: SlurmFetchError | undefined;
  const fail = (e: SlurmFetchError) => {
    failure ??= e;
    killGroup(child, graceMs);
  };
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += s.slice(0, STDERR_LIMIT - stderr.length);
  });
  const onAbort = () => fail(signal.reason instanceof SlurmFetchError ? signal.reason : new SlurmFetchError('aborted', `${cmd}: aborted`));
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (err) => {
      fail(spawnError(cmd, err));
      resolve({ code: null, signal: null, stderr });
    });
    child.once('close', (code, sig) => resolve({ code, signal: sig, stderr }));
  }).finally(() => signal.removeEventListener('abort', onAbort));
  return { stdout: readOutput(cmd, child, exited, opts.maxBytes, fail, () => failure), exited };
}

async function* readOutput(cmd: string, child: ChildProcess, exited: Promise<Exit>, maxBytes: number, fail: (e: SlurmFetchError) => void, failure: () => SlurmFetchError | undefined): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  try {
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      if (failure()) break;
      bytes += chunk.length;
      if (bytes > maxBytes) {
        fail(new SlurmFetchError('too_large', `${cmd}: output exceeds slurm.maxResponseBytes (${maxBytes} bytes)`));
        break;
      }
      yield chunk;
    }
  } finally {
    // The reader stopped early (a parse error): do not leave the command running.
    if (child.exitCode === null && child.signalCode === null) killGroup(child, 0);
  }
  const exit = await exited;
  const f = failure();
  if (f) throw f;
  if (exit.code !== 0) throw failureOf(cmd, exit, undefined);
}

/** Runs a command and returns its whole stdout as text (the small, text-only answers). */
export async function runText(file: string, args: readonly string[], signal: AbortSignal, opts: RunOptions): Promise<{ text: string; bytes: number }> {
  const run = runCommand(file, args, signal, opts);
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const c of run.stdout) {
    chunks.push(c);
    bytes += c.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), bytes };
}
