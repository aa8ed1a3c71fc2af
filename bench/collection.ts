// The core benchmark (npm run bench): simulator at 10k nodes / 100k jobs (v0.0.44 shapes).
// 1. one full collection in a fresh process: wall, CPU, MB/s parsed, peak RSS;
// 2. the exporter under 50 concurrent scrapers: p50/p99 latency, scrapes/s;
// 3. slurmrestd requests per minute with 1 and with 20 scrapers.
// Options: BENCH_NODES, BENCH_JOBS, BENCH_WINDOW_S (requests-per-minute window, default 60),
//          BENCH_LOAD_S (50-scraper phase, default 20).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { Pool } from 'undici';
import { BIN, ROOT, freePort, waitHttp, start, stop, percentile, peakRssMb, rssMb, saveResults } from './lib.ts';

const NODES = Number(process.env.BENCH_NODES ?? 10_000);
const JOBS = Number(process.env.BENCH_JOBS ?? 100_000);
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 60);
const LOAD_S = Number(process.env.BENCH_LOAD_S ?? 20);
const NODE = `${ROOT}node_modules/.bin/node`;

const dir = mkdtempSync(join(tmpdir(), 'slurm-exporter-bench-'));
const keyFile = join(dir, 'jwt_hs256.key');
writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });

const simPort = await freePort();
const simUrl = `http://127.0.0.1:${simPort}`;
console.error(`simulator: ${NODES} nodes, ${JOBS} jobs, v0.0.44 at ${simUrl}`);
const sim = start(BIN, ['simulate', '--listen', `127.0.0.1:${simPort}`, '--nodes', String(NODES), '--jobs', String(JOBS), '--versions', 'v0.0.44', '--tick', '3600000', '--jwt-key-file', keyFile], 'sim');
const results: Record<string, unknown> = { nodes: NODES, jobs: JOBS, node: process.version, date: new Date().toISOString() };
try {
  await waitHttp(`${simUrl}/sim/state`, 120_000);

  // 1. One full collection.
  const once = execFileSync(NODE, ['--max-semi-space-size=16', `${ROOT}bench/collect-once.ts`, simUrl, 'v0.0.44'], {
    env: { ...process.env, BENCH_JWT_KEY_FILE: keyFile },
    maxBuffer: 1 << 20,
  }).toString();
  results.collection = JSON.parse(once.trim().split('\n').pop()!);
  console.error('collection:', JSON.stringify(results.collection));

  // 2. The exporter under load.
  const expPort = await freePort();
  const expUrl = `http://127.0.0.1:${expPort}`;
  // 50 scrapers at once: allow them all (the default limit is 10).
  const conf = join(dir, 'exporter.yaml');
  writeFileSync(conf, 'server:\n  maxConcurrentScrapes: 64\n');
  const exp = start(BIN, ['--config.file', conf, '--slurm.url', simUrl, '--slurm.jwt-key-file', keyFile, '--slurm.user', 'bench', '--web.listen-address', `127.0.0.1:${expPort}`, '--log.level', 'warn'], 'exporter');
  try {
    await waitHttp(`${expUrl}/ready`, 180_000);
    const pool = new Pool(expUrl, { connections: 60 });
    const scrapeLoop = async (until: number, lat: number[], encoding = 'gzip') => {
      let errors = 0;
      while (Date.now() < until) {
        const t = performance.now();
        try {
          const r = await pool.request({ path: '/metrics', method: 'GET', headers: { 'accept-encoding': encoding } });
          await r.body.arrayBuffer(); // bytes, as Prometheus reads them: decoding gzip as text would measure the client
          if (r.statusCode !== 200) errors++;
        } catch {
          errors++;
        }
        lat.push(performance.now() - t);
      }
      return errors;
    };
    // Warm-up, then 50 concurrent scrapers.
    await scrapeLoop(Date.now() + 1000, []);
    const page = await (await fetch(`${expUrl}/metrics`, { headers: { 'accept-encoding': 'identity' } })).text();
    // As Prometheus scrapes (gzip), then uncompressed.
    const scrape: Record<string, unknown> = {
      scrapers: 50,
      page_bytes: page.length,
      series: page.split('\n').filter((l) => l && !l.startsWith('#')).length,
    };
    // One scraper, back to back: the cost of one scrape without queueing behind others.
    for (const encoding of ['gzip', 'identity']) {
      const lat: number[] = [];
      const t0 = Date.now();
      const errs = await scrapeLoop(t0 + 5000, lat, encoding);
      lat.sort((a, b) => a - b);
      scrape[`single_${encoding}`] = { scrapes: lat.length, p50_ms: +percentile(lat, 0.5).toFixed(2), p99_ms: +percentile(lat, 0.99).toFixed(2), errors: errs };
    }
    for (const encoding of ['gzip', 'identity']) {
      const lat: number[] = [];
      const t0 = Date.now();
      const errs = await Promise.all(Array.from({ length: 50 }, () => scrapeLoop(t0 + LOAD_S * 1000, lat, encoding)));
      const secs = (Date.now() - t0) / 1000;
      lat.sort((a, b) => a - b);
      scrape[encoding] = {
        seconds: +secs.toFixed(1),
        scrapes: lat.length,
        scrapes_per_s: +(lat.length / secs).toFixed(1),
        p50_ms: +percentile(lat, 0.5).toFixed(2),
        p99_ms: +percentile(lat, 0.99).toFixed(2),
        errors: errs.reduce((a, b) => a + b, 0),
      };
    }
    results.scrape = scrape;
    console.error('scrape:', JSON.stringify(results.scrape));

    // 3. slurmrestd requests per minute with 1 and 20 scrapers, counted in the simulator's request log.
    const countRequests = async (since: number) => {
      const r = await fetch(`${simUrl}/sim/requests?since=${since}`);
      const log = (await r.json()) as { path: string }[];
      return log.filter((e) => e.path.startsWith('/slurm/')).length;
    };
    const perMinute: Record<string, number> = {};
    for (const scrapers of [1, 20]) {
      const since = Date.now();
      await Promise.all(Array.from({ length: scrapers }, () => scrapeLoop(since + WINDOW_S * 1000, [])));
      perMinute[`scrapers_${scrapers}`] = +(((await countRequests(since)) * 60) / WINDOW_S).toFixed(1);
    }
    results.slurmrestd_requests_per_minute = perMinute;
    console.error('requests/min:', JSON.stringify(perMinute));
    results.exporter_rss_mb = { peak: await peakRssMb(exp.pid!), now: await rssMb(exp.pid!) };
    await pool.close();
  } finally {
    await stop(exp);
  }
} finally {
  await stop(sim);
}
saveResults('collection', results);
