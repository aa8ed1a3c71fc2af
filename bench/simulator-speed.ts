// How fast the simulated slurmrestd produces /jobs (the benchmark must not be bottlenecked by its data source).
// 1. render only, in process, one core: MB/s of v0.0.44 /jobs text encoded to UTF-8;
// 2. over HTTP from a separate simulator process, read by a raw socket client: MB/s and the server's CPU.
// Options: SIM_NODES (default 10000), SIM_JOBS (default 100000), SIM_VERSION (default v0.0.44), SIM_ROUNDS (3).
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { ROOT } from './lib.ts';
import { Cluster } from '../src/simulator/cluster.ts';
import { VersionRenderer, type ApiVersion } from '../src/simulator/versions.ts';

const NODES = Number(process.env.SIM_NODES ?? 10_000);
const JOBS = Number(process.env.SIM_JOBS ?? 100_000);
const VERSION = (process.env.SIM_VERSION ?? 'v0.0.44') as ApiVersion;
const ROUNDS = Number(process.env.SIM_ROUNDS ?? 3);
const mb = (b: number) => b / 1e6;

const results: Record<string, unknown> = { nodes: NODES, jobs: JOBS, version: VERSION, node: process.version };

// 1. Render only.
{
  const t0 = performance.now();
  const c = new Cluster({ nodes: NODES, jobs: JOBS, seed: 1, clusterName: 'bench' });
  const buildMs = performance.now() - t0;
  global.gc?.();
  const heapMb = process.memoryUsage().heapUsed / 1e6;
  const r = new VersionRenderer(VERSION, c);
  const rates: number[] = [];
  let bytes = 0;
  for (let k = 0; k < ROUNDS; k++) {
    const t = performance.now();
    const a = { c, jobs: Array.from(c.jobs.values(), (j) => ({ ...j })), nodes: c.nodes.map((n) => ({ ...n })), now: 0 };
    bytes = 0;
    for (const ch of r.render('jobs', a)) bytes += Buffer.from(ch, 'utf8').length;
    rates.push(mb(bytes) / ((performance.now() - t) / 1000));
  }
  results.render = {
    cluster_build_ms: Math.round(buildMs),
    heap_mb_with_cluster: Math.round(heapMb),
    jobs_answer_mb: +mb(bytes).toFixed(1),
    bytes_per_job: Math.round(bytes / c.jobs.size),
    mb_per_s: rates.map((x) => Math.round(x)),
  };
  console.error('render:', JSON.stringify(results.render));
}

// 2. Over HTTP, simulator in its own process.
{
  const script = `import('${ROOT}src/simulator/server.ts').then(async (m) => {
    const s = new m.SlurmSimulator({ nodes: ${NODES}, jobs: ${JOBS}, versions: ['${VERSION}'], tickMs: 0 });
    const { url } = await s.start();
    process.stdout.write(url + '\\n');
  });`;
  const child = spawn(`${ROOT}node_modules/.bin/node`, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
      child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
    });
    const cpu = () => {
      const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) / 100; // utime + stime in seconds (USER_HZ 100)
    };
    const rates: { mb_per_s: number; server_cpu_s: number; wall_s: number; server_mb_per_cpu_s: number }[] = [];
    for (let k = 0; k < ROUNDS; k++) {
      const c0 = cpu();
      const t = performance.now();
      const bytes = await new Promise<number>((resolve, reject) => {
        request(`${url}/slurm/${VERSION}/jobs`, (res) => {
          let n = 0;
          res.on('data', (d: Buffer) => (n += d.length));
          res.on('end', () => resolve(n));
          res.on('error', reject);
        })
          .on('error', reject)
          .end();
      });
      const wall = (performance.now() - t) / 1000;
      const used = cpu() - c0;
      rates.push({ mb_per_s: Math.round(mb(bytes) / wall), server_cpu_s: +used.toFixed(2), wall_s: +wall.toFixed(2), server_mb_per_cpu_s: Math.round(mb(bytes) / Math.max(used, 0.01)) });
      results.http_answer_mb = +mb(bytes).toFixed(1);
    }
    results.http = rates;
    console.error('http:', JSON.stringify(rates));
  } finally {
    child.kill('SIGTERM');
  }
}

console.log(JSON.stringify(results, null, 2));
