// Failover times (issue 4), N runs each (FAILOVER_RUNS, default 20): three exporter processes in active-passive
// mode against one simulator; kill -9 or SIGTERM the leader and time until another replica says it leads.
// Backends: the Kubernetes Lease API fake (test/support/fake-kube-api.ts) and a real etcd 3.4.
// Timings as in the tests: lease 3 s, renew deadline 2 s, retry period 500 ms.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SlurmSimulator } from '../src/simulator/server.ts';
import { spawnExporter, httpGet, type ExporterProcess } from '../test/support/exporter-process.ts';
import { FakeKubeApi } from '../test/support/fake-kube-api.ts';
import { startEtcd } from '../test/support/etcd.ts';
import { percentile, saveResults } from './lib.ts';

const RUNS = Number(process.env.FAILOVER_RUNS ?? 20);
const IDS = ['r1', 'r2', 'r3'];
const dir = mkdtempSync(path.join(tmpdir(), 'failover-'));
const sim = new SlurmSimulator({ nodes: 8, jobs: 10, tickMs: 0 });
const simUrl = (await sim.start()).url;

function yaml(id: string, lines: string[]): string {
  return ['server:', '  leaderElection:', '    enabled: true', '    mode: active-passive', '    leaseDuration: 3s', '    renewDeadline: 2s', '    retryPeriod: 500ms', `    identity: ${id}`, ...lines.map((l) => `    ${l}`), ''].join('\n');
}

async function isLeader(e: ExporterProcess): Promise<boolean> {
  try {
    return (JSON.parse((await httpGet(`${e.url}/leader`)).text) as { is_leader: boolean }).is_leader;
  } catch {
    return false;
  }
}

async function measure(config: (id: string, run: number) => string, signal: 'SIGKILL' | 'SIGTERM', run: number): Promise<number> {
  const rs = await Promise.all(
    IDS.map(async (id) => {
      const f = path.join(dir, `${id}.yaml`);
      writeFileSync(f, config(id, run));
      return { id, exp: await spawnExporter(['--slurm.url', simUrl, '--config.file', f]) };
    }),
  );
  try {
    let leader: (typeof rs)[number] | undefined;
    while (!leader) {
      for (const r of rs) if (await isLeader(r.exp)) leader = r;
      await new Promise((res) => setTimeout(res, 50));
    }
    await new Promise((res) => setTimeout(res, 300 + Math.random() * 500)); // somewhere in a renew cycle
    const t0 = performance.now();
    leader.exp.proc.kill(signal);
    for (;;) {
      for (const r of rs) if (r !== leader && (await isLeader(r.exp))) return performance.now() - t0;
      await new Promise((res) => setTimeout(res, 20));
    }
  } finally {
    await Promise.all(rs.map((r) => r.exp.stop('SIGKILL')));
  }
}

const results: Record<string, unknown> = { runs: RUNS, lease_s: 3, renew_deadline_s: 2, retry_period_s: 0.5, date: new Date().toISOString() };
const summarize = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return { min_ms: Math.round(s[0]!), p50_ms: Math.round(percentile(s, 0.5)), p90_ms: Math.round(percentile(s, 0.9)), max_ms: Math.round(s.at(-1)!) };
};

const api = new FakeKubeApi({ tokens: IDS.map((id) => `token-${id}`) });
const apiUrl = await api.start();
const etcd = await startEtcd();
try {
  const kube = (id: string, run: number) => {
    const kc = path.join(dir, `${id}.kubeconfig`);
    writeFileSync(kc, `apiVersion: v1\nkind: Config\ncurrent-context: t\ncontexts: [{name: t, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: "${apiUrl}"}}]\nusers: [{name: u, user: {token: token-${id}}}]\n`);
    return yaml(id, ['backend: kubernetes', 'namespace: bench', `leaseName: run-${run}`, `kubeconfig: ${kc}`]);
  };
  const etcdCfg = (id: string, run: number) => yaml(id, ['backend: etcd', `leaseName: run-${run}`, 'etcd:', `  endpoints: [${etcd.endpoint}]`]);
  let run = 0;
  for (const [name, cfg] of [['kubernetes', kube], ['etcd', etcdCfg]] as const) {
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      const xs: number[] = [];
      for (let i = 0; i < RUNS; i++) xs.push(await measure(cfg, signal, run++));
      results[`${name}_${signal === 'SIGKILL' ? 'kill9' : 'sigterm'}`] = summarize(xs);
      console.error(name, signal, JSON.stringify(summarize(xs)));
    }
  }
} finally {
  await api.stop();
  await etcd.stop();
  await sim.stop();
}
saveResults('failover', results);
