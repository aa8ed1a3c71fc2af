// Three real exporter processes in active-passive mode against one simulated slurmrestd, with both election
// backends: the Kubernetes Lease (against the in-repo API fake, which follows the real API's semantics and
// enforces the RBAC Role documented in docs/high-availability.md; no real API server runs here) and a real
// etcd 3.4. Exactly one replica is ready and polls; kill -9 and SIGTERM of the leader fail over within their
// bounds; a leader cut off from the backend stops polling before another starts, proven from the simulator's
// request log (each request's User-Agent names the replica).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SlurmSimulator } from '../../src/simulator/server.ts';
import { type ExporterProcess, httpGet, spawnExporter, waitFor } from '../support/exporter-process.ts';
import { FakeKubeApi, documentedRole } from '../support/fake-kube-api.ts';
import { type EtcdProcess, startEtcd } from '../support/etcd.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { COLLECTOR_GROUPS } from '../../src/slurm/resources.ts';

const LEASE_S = 3;
const RENEW_S = 2;
// A short retry period keeps detection well inside the bounds on a busy CI machine.
const RETRY_S = 0.3;
const IDS = ['r1', 'r2', 'r3'];

interface Replica {
  id: string;
  exp: ExporterProcess;
}

async function leaderOf(replicas: Replica[]): Promise<Replica[]> {
  const out: Replica[] = [];
  for (const r of replicas) {
    if (r.exp.proc.exitCode !== null || r.exp.proc.signalCode !== null) continue;
    try {
      const j = JSON.parse((await httpGet(`${r.exp.url}/leader`)).text) as { is_leader: boolean };
      if (j.is_leader) out.push(r);
    } catch {
      // stopping
    }
  }
  return out;
}

async function waitNewLeader(replicas: Replica[], not: string, limitMs: number): Promise<{ leader: Replica; ms: number; t: number }> {
  const t0 = Date.now();
  for (;;) {
    const l = (await leaderOf(replicas)).filter((r) => r.id !== not);
    if (l.length === 1) return { leader: l[0]!, ms: Date.now() - t0, t: Date.now() };
    if (Date.now() - t0 > limitMs + 5000) throw new Error(`no new leader within ${limitMs + 5000} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function pollsBy(sim: SlurmSimulator, id: string): number[] {
  return sim.requestLog.filter((e) => e.userAgent.endsWith(`(${id})`) && e.path.startsWith('/slurm/')).map((e) => e.time);
}

interface Timings {
  lease: number;
  renew: number;
  retry: number;
  /** More top-level YAML (a clusters: list). */
  extra?: string[];
}

const FAST: Timings = { lease: LEASE_S, renew: RENEW_S, retry: RETRY_S };
// The collector groups that run without slurmctld's native metrics configured: sharded mode's units.
const GROUPS = COLLECTOR_GROUPS.filter((g) => g !== 'native');

type Backend = { name: string; config(id: string, mode?: string, t?: Timings): string; cutOff(id: string): void; restore(id: string): void };

function suite(makeBackend: () => Promise<Backend & { close(): Promise<void> }>) {
  let backend: Backend & { close(): Promise<void> };
  let sim: SlurmSimulator;
  let simUrl: string;
  let dir: string;
  before(async () => {
    backend = await makeBackend();
    sim = new SlurmSimulator({ nodes: 8, jobs: 10, tickMs: 0 });
    simUrl = (await sim.start()).url;
    dir = mkdtempSync(path.join(tmpdir(), 'ha-'));
  });
  after(async () => {
    await sim.stop();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startReplicas(mode = 'active-passive', t: Timings = FAST): Promise<Replica[]> {
    return Promise.all(
      IDS.map(async (id) => {
        const file = path.join(dir, `${id}.yaml`);
        writeFileSync(file, backend.config(id, mode, t));
        const exp = await spawnExporter(['--slurm.url', simUrl, '--config.file', file], { env: { POD_NAME: id } });
        return { id, exp };
      }),
    );
  }
  const stopAll = (rs: Replica[]) => Promise.all(rs.map((r) => r.exp.stop('SIGKILL')));

  it('exactly one replica leads: it is ready and polls; standbys answer 503 and serve only their own metrics', async () => {
    const rs = await startReplicas();
    try {
      const leader = await waitFor('one ready replica', async () => {
        const ready = [];
        for (const r of rs) if ((await httpGet(`${r.exp.url}/ready`)).status === 200) ready.push(r);
        return ready.length === 1 ? ready[0] : undefined;
      }, 15_000);
      await new Promise((r) => setTimeout(r, 2000));
      for (const r of rs) {
        const ready = await httpGet(`${r.exp.url}/ready`);
        const page = (await httpGet(`${r.exp.url}/metrics`)).text;
        const info = JSON.parse((await httpGet(`${r.exp.url}/leader`)).text) as Record<string, unknown>;
        assert.equal((await httpGet(`${r.exp.url}/health`)).status, 200);
        if (r === leader) {
          assert.equal(ready.status, 200);
          assert.match(page, /^slurm_nodes\{/m);
          assert.match(page, /^slurm_exporter_leader 1$/m);
          assert.equal(info.is_leader, true);
        } else {
          assert.equal(ready.status, 503);
          assert.match(ready.text, new RegExp(`standby: ${leader.id} is the leader`));
          assert.doesNotMatch(page, /^slurm_nodes\{/m);
          assert.match(page, /^slurm_exporter_leader 0$/m);
          assert.deepEqual([info.is_leader, info.identity, info.holder, info.mode], [false, r.id, leader.id, 'active-passive']);
          assert.equal(pollsBy(sim, r.id).length, 0, `${r.id} never polled Slurm`);
        }
      }
    } finally {
      await stopAll(rs);
    }
  });

  it(`kill -9 of the leader: a new leader within the lease duration + 1 s (${LEASE_S + 1} s)`, async () => {
    const rs = await startReplicas();
    try {
      const [old] = await waitFor('a leader', async () => ((await leaderOf(rs)).length === 1 ? leaderOf(rs) : undefined), 15_000);
      old!.exp.proc.kill('SIGKILL');
      const killedAt = Date.now();
      const { leader, t } = await waitNewLeader(rs, old!.id, (LEASE_S + 1) * 1000);
      const ms = t - killedAt;
      assert.ok(ms <= (LEASE_S + 1) * 1000, `took ${ms} ms`);
      await waitFor('the new leader polls', async () => pollsBy(sim, leader.id).some((x) => x > killedAt), 5000);
    } finally {
      await stopAll(rs);
    }
  });

  it(`SIGTERM of the leader releases the lease: a new leader within the retry period + 1 s (${RETRY_S + 1} s)`, async () => {
    const rs = await startReplicas();
    try {
      const [old] = await waitFor('a leader', async () => ((await leaderOf(rs)).length === 1 ? leaderOf(rs) : undefined), 15_000);
      const t0 = Date.now();
      old!.exp.proc.kill('SIGTERM');
      const { t } = await waitNewLeader(rs, old!.id, (RETRY_S + 1) * 1000);
      assert.ok(t - t0 <= (RETRY_S + 1) * 1000, `took ${t - t0} ms`);
      assert.equal(await old!.exp.exited, 0);
    } finally {
      await stopAll(rs);
    }
  });

  it('sharded: the collector groups are spread evenly over three replicas, and spread again after a kill -9', async () => {
    const rs = await startReplicas('sharded');
    const groupsOf = async (r: Replica) => {
      const j = JSON.parse((await httpGet(`${r.exp.url}/leader`)).text) as { groups: Record<string, { is_leader: boolean }> };
      return Object.entries(j.groups).filter(([, v]) => v.is_leader).map(([g]) => g);
    };
    const spread = async (live: Replica[], perReplica: number[]) => {
      const owned = await Promise.all(live.map(groupsOf));
      const all = owned.flat();
      const counts = owned.map((o) => o.length).sort();
      const n = GROUPS.length;
      return all.length === n && new Set(all).size === n && JSON.stringify(counts) === JSON.stringify(perReplica) ? owned : undefined;
    };
    // ceil(groups / replicas) each: the shares of 3 replicas, and of the 2 left after a kill.
    const share = (replicas: number) => {
      const n = GROUPS.length;
      const most = Math.ceil(n / replicas);
      const out = Array.from({ length: replicas }, (_, i) => Math.max(0, Math.min(most, n - i * most)));
      return out.sort();
    };
    try {
      const owned = await waitFor(`groups spread ${share(3).join('/')}`, () => spread(rs, share(3)), 20_000, 200);
      // Each replica serves exactly the families of the groups it leads, and polls only what they need.
      for (const [i, r] of rs.entries()) {
        // A group just taken over shows up after its first poll (interval 500 ms).
        await waitFor(`${r.id} serves exactly its groups`, async () => {
          const page = (await httpGet(`${r.exp.url}/metrics`)).text;
          return /^slurm_nodes\{/m.test(page) === owned[i]!.includes('nodes') && /^slurm_scheduler_/m.test(page) === owned[i]!.includes('scheduler');
        }, 5000);
        // Ready once every group it leads has had its first successful poll.
        await waitFor(`${r.id} ready`, async () => (await httpGet(`${r.exp.url}/ready`)).status === 200, 5000);
      }
      assert.deepEqual(await Promise.all(rs.map(groupsOf)), owned, 'the spread is stable');
      const since = Date.now();
      await new Promise((res) => setTimeout(res, 1500));
      const diagPollers = new Set(sim.requestLog.filter((e) => e.time >= since && e.path.startsWith('/slurm/') && e.path.endsWith('/diag')).map((e) => e.userAgent));
      assert.equal(diagPollers.size, 1, '/diag is polled by one replica only');
      const victim = rs[0]!;
      victim.exp.proc.kill('SIGKILL');
      const rest = rs.slice(1);
      await waitFor(`groups spread ${share(2).join('/')} over the survivors`, () => spread(rest, share(2)), (LEASE_S + 6) * 1000, 200);
    } finally {
      await stopAll(rs);
    }
  });

  it('sharded over two clusters: the (cluster, collector group) units are spread evenly, and again after a kill -9', async () => {
    const sim2 = new SlurmSimulator({ nodes: 5, jobs: 8, tickMs: 0, versions: ['v0.0.40'] });
    const url2 = (await sim2.start()).url;
    const clusters = ['clusters:', `  - { name: alpha, slurm: { url: "${simUrl}" } }`, `  - { name: beta, slurm: { url: "${url2}" } }`];
    const rs = await startReplicas('sharded', { ...FAST, extra: clusters });
    const units = ['alpha', 'beta'].flatMap((c) => GROUPS.map((g) => `${c}/${g}`));
    const unitsOf = async (r: Replica) => {
      const j = JSON.parse((await httpGet(`${r.exp.url}/leader`)).text) as { groups: Record<string, { is_leader: boolean }> };
      return Object.entries(j.groups).filter(([, v]) => v.is_leader).map(([u]) => u);
    };
    const fair = (replicas: number) => Math.ceil(units.length / replicas);
    const spread = async (live: Replica[]) => {
      const owned = await Promise.all(live.map(unitsOf));
      const all = owned.flat();
      const even = owned.every((o) => o.length <= fair(live.length) && o.length >= units.length - fair(live.length) * (live.length - 1));
      return all.length === units.length && new Set(all).size === units.length && even ? owned : undefined;
    };
    try {
      const owned = await waitFor(`${units.length} units spread over 3 replicas`, () => spread(rs), 30_000, 200);
      for (const [i, r] of rs.entries()) {
        // Each replica serves each cluster's nodes figures exactly when it leads that cluster's nodes unit.
        await waitFor(`${r.id} serves exactly its units`, async () => {
          const page = (await httpGet(`${r.exp.url}/metrics`)).text;
          return ['alpha', 'beta'].every((c) => new RegExp(`^slurm_nodes\\{cluster="${c}",`, 'm').test(page) === owned[i]!.includes(`${c}/nodes`));
        }, 5000);
      }
      rs[0]!.exp.proc.kill('SIGKILL');
      await waitFor(`${units.length} units spread over the 2 survivors`, () => spread(rs.slice(1)), (LEASE_S + 6) * 1000, 200);
    } finally {
      await stopAll(rs);
      await sim2.stop();
    }
  });

  it('kill -9 at the default timings (lease 15 s, renew 10 s, retry 2 s): a new leader within lease + 1 s, in each of two runs', async (tc) => {
    const defaults: Timings = { lease: 15, renew: 10, retry: 2 };
    for (let run = 0; run < 2; run++) {
      const rs = await startReplicas('active-passive', defaults);
      try {
        const [old] = await waitFor('a leader', async () => ((await leaderOf(rs)).length === 1 ? leaderOf(rs) : undefined), 30_000);
        // Kill at a random point of the renew cycle.
        await new Promise((r) => setTimeout(r, 1000 + Math.random() * 2000));
        old!.exp.proc.kill('SIGKILL');
        const killedAt = Date.now();
        const { t } = await waitNewLeader(rs, old!.id, 16_000);
        assert.ok(t - killedAt <= 16_000, `run ${run + 1}: took ${t - killedAt} ms`);
        tc.diagnostic(`${backend.name}: failover after kill -9, run ${run + 1}: ${t - killedAt} ms`);
      } finally {
        await stopAll(rs);
      }
    }
  });

  it('a leader cut off from the backend stops polling before another replica starts (request log)', async () => {
    const rs = await startReplicas();
    try {
      const [old] = await waitFor('a leader', async () => ((await leaderOf(rs)).length === 1 ? leaderOf(rs) : undefined), 15_000);
      await waitFor('the leader polls', async () => pollsBy(sim, old!.id).length > 3, 5000);
      const cut = Date.now();
      backend.cutOff(old!.id);
      const { leader } = await waitNewLeader(rs, old!.id, (LEASE_S + RENEW_S + 2) * 1000);
      await waitFor('the new leader polls', async () => pollsBy(sim, leader.id).some((x) => x > cut), 5000);
      const lastOld = Math.max(...pollsBy(sim, old!.id));
      const firstNew = Math.min(...pollsBy(sim, leader.id).filter((x) => x > cut));
      assert.ok(lastOld < firstNew, `old leader's last poll ${lastOld} before new leader's first ${firstNew} (gap ${firstNew - lastOld} ms)`);
      const standby = JSON.parse((await httpGet(`${old!.exp.url}/leader`)).text) as { is_leader: boolean };
      assert.equal(standby.is_leader, false, 'the cut-off replica knows it is not leading');
      backend.restore(old!.id);
    } finally {
      await stopAll(rs);
    }
  });
}

function yaml(id: string, lines: string[], mode = 'active-passive', t: Timings = FAST): string {
  return [
    'server:',
    '  leaderElection:',
    '    enabled: true',
    `    mode: ${mode}`,
    `    leaseDuration: ${t.lease}s`,
    `    renewDeadline: ${t.renew}s`,
    `    retryPeriod: ${t.retry * 1000}ms`,
    `    identity: ${id}`,
    ...lines.map((l) => `    ${l}`),
    'collectors:',
    ...COLLECTOR_GROUPS.map((g) => `  ${g}: { interval: 500ms, timeout: 400ms }`),
    ...(t.extra ?? []),
    '',
  ].join('\n');
}

describe('active-passive with the Kubernetes Lease backend (API fake)', () => {
  suite(async () => {
    // With the RBAC Role of docs/high-availability.md: every mode below, sharded included, runs on what it grants.
    const api = new FakeKubeApi({ tokens: IDS.map((id) => `token-${id}`), rules: documentedRole().rules });
    const url = await api.start();
    const dir = mkdtempSync(path.join(tmpdir(), 'kube-'));
    let n = 0;
    return {
      name: 'kubernetes',
      config(id, mode, t) {
        const kc = path.join(dir, `${id}.kubeconfig`);
        writeFileSync(kc, `apiVersion: v1\nkind: Config\ncurrent-context: t\ncontexts: [{name: t, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: "${url}"}}]\nusers: [{name: u, user: {token: token-${id}}}]\n`);
        // A fresh lease name per test, so a lease left by the previous test's kill -9 does not delay this one.
        return yaml(id, ['backend: kubernetes', 'namespace: hpc', `leaseName: test-${mode}-${Math.floor(n++ / IDS.length)}`, `kubeconfig: ${kc}`], mode, t);
      },
      cutOff(id) {
        api.cutOff.add(`token-${id}`);
        api.dropConnections();
      },
      restore(id) {
        api.cutOff.delete(`token-${id}`);
      },
      async close() {
        await api.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});

describe('active-passive with the etcd backend (real etcd 3.4)', () => {
  suite(async () => {
    const etcd: EtcdProcess = await startEtcd();
    const u = new URL(etcd.endpoint);
    // One proxy per replica, so one replica can be cut off from etcd.
    const proxies = new Map<string, { proxy: FaultProxy; url: string }>();
    for (const id of IDS) {
      const proxy = new FaultProxy({ host: u.hostname, port: Number(u.port) });
      proxies.set(id, { proxy, url: await proxy.start() });
    }
    let n = 0;
    return {
      name: 'etcd',
      config(id, mode, t) {
        // A fresh lease name per test, so a lease left by the previous test's kill -9 does not delay this one.
        return yaml(id, ['backend: etcd', `leaseName: test-${Math.floor(n++ / IDS.length)}`, 'etcd:', `  endpoints: [${proxies.get(id)!.url}]`], mode, t);
      },
      cutOff(id) {
        proxies.get(id)!.proxy.set({ mode: 'hang' });
      },
      restore(id) {
        proxies.get(id)!.proxy.set({ mode: 'pass' });
      },
      async close() {
        for (const p of proxies.values()) await p.proxy.stop();
        await etcd.stop();
      },
    };
  });
});
