// Shared helpers for the benchmarks: ports, child processes, percentiles.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BIN = `${ROOT}bin/slurm-exporter`;

export { freePort } from '../test/support/daemon.ts';

export async function waitHttp(url: string, timeoutMs: number, okStatus = 200): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status === okStatus) return;
      last = `status ${r.status}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not answering ${okStatus} within ${timeoutMs} ms (${last})`);
}

export function start(cmd: string, args: string[], name: string): ChildProcess {
  const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  p.stderr?.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d}`));
  return p;
}

export async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
    setTimeout(() => p.kill('SIGKILL'), 5000).unref();
  });
}

export function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Peak RSS of a process in MB from /proc (VmHWM), undefined when not on Linux. */
export async function peakRssMb(pid: number): Promise<number | undefined> {
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export async function rssMb(pid: number): Promise<number | undefined> {
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a run's results to bench/out/<name>-<time>.json and prints them (or the summary given). */
export function saveResults(name: string, results: unknown, shown: unknown = results): string {
  mkdirSync(`${ROOT}bench/out`, { recursive: true });
  const file = `${ROOT}bench/out/${name}-${Date.now()}.json`;
  writeFileSync(file, JSON.stringify(results, null, 2));
  console.log(JSON.stringify(shown, null, 2));
  console.error(`written to ${file}`);
  return file;
}

/**
 * A pretty-printed /jobs answer of about `targetMb` MB built from the real 25.11 v0.0.44 job records (slurmrestd
 * indents by two spaces), for the stream-reader benchmarks.
 */
export function syntheticJobsAnswer(targetMb: number): { body: Buffer; jobs: number; perJob: number } {
  const fixture = JSON.parse(readFileSync(`${ROOT}test/fixtures/slurm-25.11.7/rest_v0.0.44_slurm_jobs.json`, 'utf8')) as { jobs: unknown[] };
  const pieces = fixture.jobs.map((j) => JSON.stringify(j, null, 2).replace(/\n/g, '\n    '));
  const perJob = pieces.reduce((s, p) => s + p.length, 0) / pieces.length;
  const jobs = Math.ceil((targetMb * 1e6) / (perJob + 6));
  const parts: Buffer[] = [Buffer.from('{\n  "jobs": [\n    ')];
  for (let i = 0; i < jobs; i++) parts.push(Buffer.from((i > 0 ? ',\n    ' : '') + (pieces[i % pieces.length] as string)));
  parts.push(Buffer.from('\n  ],\n  "meta": {"plugin": {"type": "openapi/slurmctld"}},\n  "errors": [],\n  "warnings": []\n}\n'));
  return { body: Buffer.concat(parts), jobs, perJob };
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export async function cpuSeconds(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** `scrapers` concurrent scrapers for `seconds`, reading each answer as bytes as Prometheus does. */
export async function scrapeLoad(url: string, scrapers: number, seconds: number, encoding = 'gzip'): Promise<{ scrapes: number; scrapes_per_s: number; p50_ms: number; p99_ms: number; max_ms: number; errors: number }> {
  const { Pool } = await import('undici');
  const pool = new Pool(url, { connections: scrapers });
  const lat: number[] = [];
  let errors = 0;
  const until = Date.now() + seconds * 1000;
  const loop = async () => {
    while (Date.now() < until) {
      const t = performance.now();
      try {
        const r = await pool.request({ path: '/metrics', method: 'GET', headers: { 'accept-encoding': encoding } });
        await r.body.arrayBuffer();
        if (r.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      lat.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: scrapers }, loop));
  await pool.close();
  lat.sort((a, b) => a - b);
  return { scrapes: lat.length, scrapes_per_s: +(lat.length / seconds).toFixed(1), p50_ms: +percentile(lat, 0.5).toFixed(2), p99_ms: +percentile(lat, 0.99).toFixed(2), max_ms: +(lat.at(-1) ?? NaN).toFixed(1), errors };
}
