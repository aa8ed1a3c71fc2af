// Runs the real CLI (bin/slurm-exporter → dist/cli.js, as an operator would) as a child process, and finds the
// address it listens on from its JSON log line 'listening'. Used by integration and e2e tests.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(REPO_ROOT, 'bin/slurm-exporter');

export interface ExporterProcess {
  proc: ChildProcess;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** Every stderr/stdout line so far (the logs). */
  output: string[];
  /** Sends the signal and resolves with the exit code (or the signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  exited: Promise<number | string>;
}

export interface SpawnOptions {
  env?: Record<string, string | undefined>;
  /** How long to wait for the 'listening' line; default 20 s. */
  startTimeoutMs?: number;
}

/** Starts `bin/slurm-exporter <args>` with JSON logs on a free loopback port unless args name one. */
export function spawnExporter(args: string[], opts: SpawnOptions = {}): Promise<ExporterProcess> {
  const full = [...args];
  if (!full.some((a) => a.startsWith('--web.listen-address'))) full.push('--web.listen-address=127.0.0.1:0');
  if (!full.some((a) => a.startsWith('--log.format'))) full.push('--log.format=json');
  const proc = spawn(BIN, full, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const exited = new Promise<number | string>((resolve) => {
    proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => finish(new Error(`exporter did not log 'listening' within ${opts.startTimeoutMs ?? 20000} ms:\n${output.join('\n')}`)), opts.startTimeoutMs ?? 20000);
    const finish = (err: Error | undefined, url?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        proc.kill('SIGKILL');
        reject(err);
        return;
      }
      resolve({
        proc,
        url: url!,
        output,
        exited,
        stop(signal: NodeJS.Signals = 'SIGTERM') {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
          return exited;
        },
      });
    };
    const onLine = (line: string) => {
      output.push(line);
      if (done) return;
      try {
        const rec = JSON.parse(line) as { msg?: string; url?: string };
        if (rec.msg === 'listening' && typeof rec.url === 'string') finish(undefined, rec.url);
      } catch {
        // not a JSON log line (e.g. a usage error); kept in output
      }
    };
    for (const stream of [proc.stdout, proc.stderr]) {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
    void exited.then((code) => finish(new Error(`exporter exited (${code}) before listening:\n${output.join('\n')}`)));
  });
}

/** GET a path; resolves with status, headers and body text. */
export async function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Polls until fn resolves truthy or the time runs out. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Parses a text-format page into `name{labels} value` → value, for assertions. */
export function parseSamples(page: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of page.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

/** The value of the one series of `metric` (from parseSamples) whose labels include every given pair, whatever else it carries. */
export function valueOf(samples: Map<string, number>, metric: string, where: Record<string, string>): number | undefined {
  const want = Object.entries(where).map(([k, v]) => `${k}="${v}"`);
  for (const [series, value] of samples) {
    if (!series.startsWith(`${metric}{`)) continue;
    const labels = series.slice(metric.length + 1, -1).split(/,(?=[a-zA-Z_][a-zA-Z0-9_]*=")/);
    if (want.every((w) => labels.includes(w))) return value;
  }
  return undefined;
}

/** Sum of all samples of a metric whose labels include every given pair; grouped by one label when `by` is set. */
export function sumBy(page: string, metric: string, by: string, where: Record<string, string> = {}): Map<string, number> {
  const out = new Map<string, number>();
  for (const [series, value] of parseSamples(page)) {
    const brace = series.indexOf('{');
    const name = brace < 0 ? series : series.slice(0, brace);
    if (name !== metric) continue;
    const labels = new Map<string, string>();
    for (const m of series.slice(brace + 1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels.set(m[1]!, m[2]!);
    if (Object.entries(where).some(([k, v]) => labels.get(k) !== v)) continue;
    const key = labels.get(by) ?? '';
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return out;
}
