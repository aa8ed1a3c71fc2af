// Load (issue 3): 200 concurrent scrapers for 60 s against the exporter on the simulator at 10k nodes and
// 100k jobs (v0.0.44): errors, p50/p99 latency, the exporter's RSS before and after.
// Options: LOAD_SCRAPERS (200), LOAD_SECONDS (60), BENCH_NODES, BENCH_JOBS, LOAD_ENCODING (gzip),
// LOAD_INTERVAL (every collector group's interval, e.g. 10s to keep collections running; default the defaults),
// LOAD_WORKERS (true: collection in worker threads; false: on the serving thread, for comparison).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { BIN, freePort, waitHttp, start, stop, percentile, peakRssMb, rssMb, saveResults } from './lib.ts';

const NODES = Number(process.env.BENCH_NODES ?? 10_000);
const JOBS = Number(process.env.BENCH_JOBS ?? 100_000);
const SCRAPERS = Number(process.env.LOAD_SCRAPERS ?? 200);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const ENCODING = process.env.LOAD_ENCODING ?? 'gzip';
const INTERVAL = process.env.LOAD_INTERVAL;
const WORKERS = (process.env.LOAD_WORKERS ?? 'true') === 'true';
const GROUPS = ['cluster', 'nodes', 'jobs', 'partitions', 'scheduler', 'fairshare', 'reservations', 'licenses', 'slurmdbd'];

const dir = mkdtempSync(join(tmpdir(), 'slurm-exporter-load-'));
const simPort = await freePort();
const simUrl = `http://127.0.0.1:${simPort}`;
const sim = start(BIN, ['simulate', '--listen', `127.0.0.1:${simPort}`, '--nodes', String(NODES), '--jobs', String(JOBS), '--versions', 'v0.0.44', '--tick', '30000'], 'sim');
const conf = join(dir, 'exporter.yaml');
const intervals = INTERVAL ? ['collectors:', ...GROUPS.map((g) => `  ${g}: { interval: ${INTERVAL}, timeout: ${Math.max(1, parseInt(INTERVAL) - 1)}s }`)] : [];
writeFileSync(conf, [`server:\n  maxConcurrentScrapes: ${SCRAPERS + 10}\n  scrapeTimeout: 30s\n  collection: { workers: ${WORKERS} }`, ...intervals, ''].join('\n'));
const results: Record<string, unknown> = { nodes: NODES, jobs: JOBS, scrapers: SCRAPERS, seconds: SECONDS, encoding: ENCODING, interval: INTERVAL ?? 'defaults', workers: WORKERS, date: new Date().toISOString() };
const simRequests = async () => ((await (await fetch(`${simUrl}/sim/state`)).json()) as { requests: number }).requests;
try {
  await waitHttp(`${simUrl}/sim/state`, 120_000);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const exp = start(BIN, ['--config.file', conf, '--slurm.url', simUrl, '--web.listen-address', `127.0.0.1:${port}`, '--log.level', 'warn'], 'exporter');
  try {
    await waitHttp(`${url}/ready`, 180_000);
    results.rss_before_mb = await rssMb(exp.pid!);
    // What one scrape carries, so the figures can be compared with other page sizes.
    for (const enc of ['gzip', 'identity']) {
      const r = await fetch(`${url}/metrics`, { headers: { 'accept-encoding': enc } });
      results[`page_bytes_${enc}`] = Number(r.headers.get('content-length'));
      await r.arrayBuffer();
    }
    const req0 = await simRequests();
    const pool = new Pool(url, { connections: SCRAPERS });
    const lat: number[] = [];
    const statuses = new Map<string, number>();
    const until = Date.now() + SECONDS * 1000;
    const loop = async () => {
      while (Date.now() < until) {
        const t = performance.now();
        let key: string;
        try {
          const r = await pool.request({ path: '/metrics', method: 'GET', headers: { 'accept-encoding': ENCODING } });
          await r.body.arrayBuffer();
          key = String(r.statusCode);
        } catch (err) {
          key = (err as { code?: string }).code ?? 'error';
        }
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        lat.push(performance.now() - t);
      }
    };
    await Promise.all(Array.from({ length: SCRAPERS }, loop));
    lat.sort((a, b) => a - b);
    results.scrapes = lat.length;
    results.scrapes_per_s = +(lat.length / SECONDS).toFixed(1);
    results.p50_ms = +percentile(lat, 0.5).toFixed(1);
    results.p99_ms = +percentile(lat, 0.99).toFixed(1);
    results.statuses = Object.fromEntries(statuses);
    results.errors = [...statuses].filter(([k]) => k !== '200').reduce((n, [, v]) => n + v, 0);
    results.slurm_requests_per_min = +((((await simRequests()) - req0) * 60) / SECONDS).toFixed(1);
    results.rss_after_mb = await rssMb(exp.pid!);
    results.rss_peak_mb = await peakRssMb(exp.pid!);
    await pool.close();
  } finally {
    await stop(exp);
  }
} finally {
  await stop(sim);
}
saveResults('load', results);
