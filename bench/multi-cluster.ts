// Many clusters in one process (issue 11): 10 simulated clusters of 1k nodes and 10k jobs each (one
// `simulate` process per cluster, API versions mixed), one exporter with a clusters: list of 10. Measures the
// exporter's CPU per poll cycle (the jobs interval, 30 s by default: every cluster's jobs, nodes, scheduler
// and cluster groups are polled once in it), its RSS, and scrape latency with 1 and with 50 concurrent gzip
// scrapers while collections run.
// Options: MC_CLUSTERS (10), BENCH_NODES (1000), BENCH_JOBS (10000), MC_SECONDS (90, the quiet window for
// CPU), MC_WORKERS (true), MC_THREADS (collection threads; default the exporter's: one per CPU).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cpuSeconds, freePort, peakRssMb, rssMb, saveResults, scrapeLoad, start, stop, waitHttp } from './lib.ts';

const CLUSTERS = Number(process.env.MC_CLUSTERS ?? 10);
const NODES = Number(process.env.BENCH_NODES ?? 1000);
const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const SECONDS = Number(process.env.MC_SECONDS ?? 90);
const WORKERS = (process.env.MC_WORKERS ?? 'true') === 'true';
const THREADS = process.env.MC_THREADS;
const VERSIONS = ['v0.0.44', 'v0.0.43', 'v0.0.42', 'v0.0.41', 'v0.0.40'];

const dir = mkdtempSync(join(tmpdir(), 'slurm-exporter-mc-'));
const sims = [];
const urls: string[] = [];
for (let i = 0; i < CLUSTERS; i++) {
  const port = await freePort();
  sims.push(start(BIN, ['simulate', '--listen', `127.0.0.1:${port}`, '--nodes', String(NODES), '--jobs', String(JOBS), '--versions', VERSIONS[i % VERSIONS.length]!, '--tick', '30000', '--seed', String(i + 1)], `sim${i}`));
  urls.push(`http://127.0.0.1:${port}`);
}
const conf = join(dir, 'exporter.yaml');
writeFileSync(
  conf,
  [
    `server: { maxConcurrentScrapes: 70, collection: { workers: ${WORKERS}${THREADS ? `, threads: ${THREADS}` : ''} } }`,
    'slurm: { user: root }',
    'clusters:',
    ...urls.map((u, i) => `  - { name: c${i}, slurm: { url: "${u}" } }`),
    '',
  ].join('\n'),
);
const results: Record<string, unknown> = { clusters: CLUSTERS, nodes_each: NODES, jobs_each: JOBS, seconds: SECONDS, workers: WORKERS, threads: THREADS ?? 'default', date: new Date().toISOString() };
try {
  for (const u of urls) await waitHttp(`${u}/sim/state`, 120_000);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const exp = start(BIN, ['--config.file', conf, '--web.listen-address', `127.0.0.1:${port}`, '--log.level', 'warn'], 'exporter');
  try {
    const t0 = Date.now();
    await waitHttp(`${url}/ready`, 300_000);
    results.ready_after_s = +((Date.now() - t0) / 1000).toFixed(1);
    const page = await fetch(`${url}/metrics`, { headers: { 'accept-encoding': 'gzip' } });
    results.page_bytes_gzip = Number(page.headers.get('content-length'));
    await page.arrayBuffer();
    // CPU over whole 30 s cycles with one scrape every 15 s, as Prometheus would: collection's cost alone.
    const cpu0 = await cpuSeconds(exp.pid!);
    const w0 = Date.now();
    while (Date.now() - w0 < SECONDS * 1000) {
      await (await fetch(`${url}/metrics`, { headers: { 'accept-encoding': 'gzip' } })).arrayBuffer();
      await new Promise((r) => setTimeout(r, 15_000));
    }
    const cpu = (await cpuSeconds(exp.pid!)) - cpu0;
    const cycles = (Date.now() - w0) / 30_000;
    results.cpu_seconds_per_30s_cycle = +(cpu / cycles).toFixed(2);
    results.cpu_share_of_one_core = +(cpu / ((Date.now() - w0) / 1000)).toFixed(2);
    results.rss_after_quiet_mb = await rssMb(exp.pid!);
    // Then scrape latency while collections go on: one scraper back to back, then 50.
    results.scrape_1 = await scrapeLoad(url, 1, 20);
    results.scrape_50 = await scrapeLoad(url, 50, 20);
    results.rss_mb = await rssMb(exp.pid!);
    results.rss_peak_mb = await peakRssMb(exp.pid!);
  } finally {
    await stop(exp);
  }
} finally {
  await Promise.all(sims.map((s) => stop(s)));
}
saveResults('multi-cluster', results);
