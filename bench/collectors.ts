// The collector framework's new collectors at scale (issue 8): the simulator at 10k nodes, 100k jobs and 5,000
// users in its own process; one full collection per run, each in a fresh process (bench/collect-once.ts), for
// this tree and for the tree before the new collectors (BENCH_BASELINE, a git worktree), alternated so both
// see the same machine. Reports /jobs MB per CPU-second (A/B ratio), peak RSS, series per collector with the
// default limits, and each collector's render time per poll.
// Usage: BENCH_BASELINE=/tmp/baseline node bench/collectors.ts    (git worktree add /tmp/baseline a0d29ca)
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BIN, ROOT, freePort, saveResults, start, stop, waitHttp } from './lib.ts';

const NODES = Number(process.env.BENCH_NODES ?? 10_000);
const JOBS = Number(process.env.BENCH_JOBS ?? 100_000);
const USERS = Number(process.env.BENCH_USERS ?? 5_000);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 500);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const VERSION = process.env.BENCH_VERSION ?? 'v0.0.44';
const BASELINE = process.env.BENCH_BASELINE;

interface Once {
  jobs: { mb: number; cpu_s: number; mb_per_cpu_s: number; wall_s: number };
  total: { cpu_s: number; peak_rss_mb: number; series: number; render_s: { collector: string; seconds: number }[]; series_by_collector?: Record<string, number> };
}

function once(root: string, url: string): Once {
  const out = execFileSync(`${ROOT}node_modules/.bin/node`, ['--max-semi-space-size=16', `${root}/bench/collect-once.ts`, url, VERSION], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Once;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const port = await freePort();
const sim = start(BIN, ['simulate', '--listen', `127.0.0.1:${port}`, '--nodes', String(NODES), '--jobs', String(JOBS), '--users', String(USERS), '--accounts', String(ACCOUNTS), '--versions', VERSION, '--tick', '3600000'], 'sim');
const url = `http://127.0.0.1:${port}`;
try {
  await waitHttp(`${url}/sim/state`, 300_000);
  const now: Once[] = [];
  const before: Once[] = [];
  for (let i = 0; i < RUNS; i++) {
    now.push(once(ROOT, url));
    if (BASELINE && existsSync(`${BASELINE}/bench/collect-once.ts`)) before.push(once(BASELINE, url));
    console.error(`run ${i + 1}/${RUNS}: /jobs ${now.at(-1)!.jobs.mb_per_cpu_s} MB/CPU-s now${before.length ? `, ${before.at(-1)!.jobs.mb_per_cpu_s} before` : ''}`);
  }
  const last = now.at(-1)!;
  const renderMs = Object.fromEntries(last.total.render_s.map((r) => [r.collector, +(r.seconds * 1000).toFixed(1)]));
  const summary = {
    cluster: { nodes: NODES, jobs: JOBS, users: USERS, accounts: ACCOUNTS, api: VERSION },
    jobs_mb: last.jobs.mb,
    jobs_mb_per_cpu_s: { now: median(now.map((o) => o.jobs.mb_per_cpu_s)), before: before.length ? median(before.map((o) => o.jobs.mb_per_cpu_s)) : null },
    jobs_mb_per_cpu_s_ratio_now_over_before: before.length ? +(median(now.map((o) => o.jobs.mb_per_cpu_s)) / median(before.map((o) => o.jobs.mb_per_cpu_s))).toFixed(3) : null,
    collection_cpu_s: { now: median(now.map((o) => o.total.cpu_s)), before: before.length ? median(before.map((o) => o.total.cpu_s)) : null },
    peak_rss_mb: { now: Math.max(...now.map((o) => o.total.peak_rss_mb)), before: before.length ? Math.max(...before.map((o) => o.total.peak_rss_mb)) : null },
    series: { now: last.total.series, before: before.at(-1)?.total.series ?? null },
    series_by_collector: last.total.series_by_collector,
    render_ms_per_poll: renderMs,
  };
  saveResults('collectors', { summary, now, before }, summary);
} finally {
  await stop(sim);
}
