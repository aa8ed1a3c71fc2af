// Soak (issue 3): the exporter for SOAK_MINUTES (10) while slurmrestd (the simulator) flaps every
// SOAK_FLAP_S (30) seconds: refusing connections, then answering again. Samples the exporter's own
// process_resident_memory_bytes and nodejs_heap_size_used_bytes every 10 s; prints start, end and growth.
// Options: BENCH_NODES (2000), BENCH_JOBS (20000), SOAK_MINUTES, SOAK_FLAP_S, SOAK_INTERVAL (5s).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, freePort, waitHttp, start, stop, saveResults } from './lib.ts';
import { COLLECTOR_GROUPS } from '../src/slurm/resources.ts';

const NODES = Number(process.env.BENCH_NODES ?? 2000);
const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const FLAP_S = Number(process.env.SOAK_FLAP_S ?? 30);
const INTERVAL = process.env.SOAK_INTERVAL ?? '5s';

const dir = mkdtempSync(join(tmpdir(), 'slurm-exporter-soak-'));
const simPort = await freePort();
const simUrl = `http://127.0.0.1:${simPort}`;
const sim = start(BIN, ['simulate', '--listen', `127.0.0.1:${simPort}`, '--nodes', String(NODES), '--jobs', String(JOBS), '--tick', '5000'], 'sim');
const conf = join(dir, 'exporter.yaml');
const groups = COLLECTOR_GROUPS.map((g) => `  ${g}: { interval: ${INTERVAL}, timeout: 4s }`);
writeFileSync(conf, ['collectors:', ...groups, ''].join('\n'));
const samples: { t: number; rss: number; heap: number; up: boolean; errors: number }[] = [];
try {
  await waitHttp(`${simUrl}/sim/state`, 60_000);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const exp = start(BIN, ['--config.file', conf, '--slurm.url', simUrl, '--web.listen-address', `127.0.0.1:${port}`, '--log.level', 'error'], 'exporter');
  try {
    await waitHttp(`${url}/ready`, 60_000);
    const t0 = Date.now();
    let down = false;
    let flaps = 0;
    let scrapeErrors = 0;
    const flapper = setInterval(() => {
      down = !down;
      flaps++;
      void fetch(`${simUrl}/sim/faults`, { method: 'POST', body: JSON.stringify(down ? { mode: 'refuse' } : { mode: 'none' }) });
    }, FLAP_S * 1000);
    while (Date.now() - t0 < MINUTES * 60_000) {
      // Prometheus-like: one scrape every 10 s (and a burst of 10 in between, to exercise the serving path).
      await Promise.all(Array.from({ length: 10 }, () => fetch(`${url}/metrics`).then((r) => r.arrayBuffer(), () => scrapeErrors++)));
      const text = await (await fetch(`${url}/metrics`)).text();
      const v = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      const errs = [...text.matchAll(/^slurm_exporter_api_errors_total\{[^}]*\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
      samples.push({ t: Math.round((Date.now() - t0) / 1000), rss: v('process_resident_memory_bytes'), heap: v('nodejs_heap_size_used_bytes'), up: !down, errors: errs });
      await new Promise((r) => setTimeout(r, 10_000));
    }
    clearInterval(flapper);
    const mb = (b: number) => +(b / 1024 / 1024).toFixed(1);
    // Compare like with like: the first and last samples after a full poll cycle, median of three each.
    const med = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const first = samples.slice(3, 6);
    const last = samples.slice(-3);
    const result = {
      nodes: NODES,
      jobs: JOBS,
      minutes: MINUTES,
      flap_s: FLAP_S,
      flaps,
      scrape_errors: scrapeErrors,
      slurm_api_errors_seen: samples.at(-1)!.errors,
      rss_start_mb: mb(med(first.map((s) => s.rss))),
      rss_end_mb: mb(med(last.map((s) => s.rss))),
      heap_start_mb: mb(med(first.map((s) => s.heap))),
      heap_end_mb: mb(med(last.map((s) => s.heap))),
      // The heap is a GC sawtooth: its floor (lowest sample) per third of the run is what shows a leak.
      heap_floor_first_third_mb: mb(Math.min(...samples.slice(0, Math.ceil(samples.length / 3)).map((s) => s.heap))),
      heap_floor_last_third_mb: mb(Math.min(...samples.slice(-Math.ceil(samples.length / 3)).map((s) => s.heap))),
      samples: samples.map((s) => ({ t: s.t, rss_mb: mb(s.rss), heap_mb: mb(s.heap), slurm_up: s.up })),
    };
    const { samples: _s, ...summary } = result;
    saveResults('soak', result, { ...summary, rss_growth_pct: +((100 * (result.rss_end_mb - result.rss_start_mb)) / result.rss_start_mb).toFixed(1), heap_growth_pct: +((100 * (result.heap_end_mb - result.heap_start_mb)) / result.heap_start_mb).toFixed(1) });
  } finally {
    await stop(exp);
  }
} finally {
  await stop(sim);
}
