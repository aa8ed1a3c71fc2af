import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { SlurmSimulator, signJwt, verifyJwt, UNKNOWN_PATH_TEXT } from '../../src/simulator/server.ts';
import { Cluster, hostList, userOfJob, type SimJob } from '../../src/simulator/cluster.ts';
import { VersionRenderer, type ApiVersion } from '../../src/simulator/versions.ts';
import { adapterFor } from '../../src/slurm/rest/adapters/index.ts';
import type { GresCount } from '../../src/slurm/model.ts';
import { indexSpans } from '../../src/simulator/template.ts';
import { TEMPLATES_0_0_38 } from '../../src/simulator/templates/v0_0_38.ts';
import { TEMPLATES_0_0_40 } from '../../src/simulator/templates/v0_0_40.ts';
import { TEMPLATES_0_0_44 } from '../../src/simulator/templates/v0_0_44.ts';
import { buildShares } from '../../src/slurm/rest/adapters/shares.ts';
import { buildDbdStats } from '../../src/slurm/rest/adapters/slurmdbd.ts';
import { fairshareCollector } from '../../src/collectors/fairshare.ts';
import { slurmdbdCollector } from '../../src/collectors/slurmdbd.ts';
import type { CollectContext } from '../../src/collectors/collector.ts';
import type { ResourceData } from '../../src/slurm/model.ts';

const FIX = new URL('../fixtures/', import.meta.url);
const fixture = (rel: string): string => readFileSync(new URL(rel, FIX), 'utf8');

/** The real captured answer of an endpoint for a version (v0.0.39 has none: it is served as v0.0.40). */
function real(version: string, endpoint: string): Record<string, unknown> {
  const file =
    version === 'v0.0.38'
      ? `slurm-22.05/slurm_v0.0.38_${endpoint}.json`
      : version === 'v0.0.39' || version === 'v0.0.40'
        ? `slurm-25.05.8/rest_v0.0.40_slurm_${endpoint}.json`
        : `slurm-25.11.7/rest_${version}_slurm_${endpoint}.json`;
  return JSON.parse(fixture(file)) as Record<string, unknown>;
}

/** Every key path of a value; array items are merged under `[]`, numeric map keys (core ids) under `#`. */
function keyPaths(v: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) {
    for (const x of v) keyPaths(x, `${prefix}[]`, out);
  } else if (v !== null && typeof v === 'object') {
    for (const [key, x] of Object.entries(v)) {
      const k = /^\d+$/.test(key) ? '#' : key;
      out.add(`${prefix}.${k}`);
      keyPaths(x, `${prefix}.${k}`, out);
    }
  }
  return out;
}

function assertSameKeys(got: unknown, want: unknown, what: string): void {
  const g = keyPaths(got);
  const w = keyPaths(want);
  const missing = [...w].filter((k) => !g.has(k));
  const extra = [...g].filter((k) => !w.has(k));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, `${what}: key paths differ from the real answer`);
  if (got && typeof got === 'object' && !Array.isArray(got)) {
    assert.deepEqual(Object.keys(got), Object.keys(want as object), `${what}: key order differs from the real answer`);
  }
}

type Rec = Record<string, unknown>;
const baseState = (s: unknown): string => (Array.isArray(s) ? String(s[0]) : String(s));
/** Normalized job state as the ground truth counts it (COMPLETED+COMPLETING is "completing"). */
const jobState = (j: Rec): string => {
  const s = j.job_state;
  if (Array.isArray(s) && s.includes('COMPLETING')) return 'completing';
  return baseState(s).toLowerCase();
};
const numberOf = (v: unknown): number => (typeof v === 'number' ? v : (v as { number: number }).number);

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Rec; text: string; type: string }> {
  const r = await fetch(url, { headers });
  const text = await r.text();
  return { status: r.status, body: JSON.parse(text) as Rec, text, type: r.headers.get('content-type') ?? '' };
}

const VERSIONS = ['v0.0.38', 'v0.0.39', 'v0.0.40', 'v0.0.41', 'v0.0.42', 'v0.0.43', 'v0.0.44'];

describe('simulator answers have the real shapes', () => {
  let sim: SlurmSimulator;
  let url: string;
  before(async () => {
    sim = new SlurmSimulator({ nodes: 60, jobs: 400, seed: 7, tickMs: 0 });
    ({ url } = await sim.start());
  });
  after(() => sim.stop());

  for (const v of VERSIONS) {
    test(`${v}: ping, diag, nodes, jobs, partitions, licenses, reservations match the captured answers`, async () => {
      for (const ep of ['ping', 'diag', 'licenses']) {
        const { status, body, type } = await getJson(`${url}/slurm/${v}/${ep}`);
        assert.equal(status, 200);
        assert.match(type, /application\/json/);
        assertSameKeys(body, real(v, ep), `${v} ${ep}`);
      }
      for (const ep of ['nodes', 'partitions']) {
        const { body } = await getJson(`${url}/slurm/${v}/${ep}`);
        const want = real(v, ep);
        assert.deepEqual(Object.keys(body), Object.keys(want), `${v} ${ep} top-level keys`);
        const recs = body[ep] as Rec[];
        assert.ok(recs.length > 0);
        assertSameKeys(recs[0], (want[ep] as Rec[])[0], `${v} ${ep} record`);
      }
      const { body: jobs } = await getJson(`${url}/slurm/${v}/jobs`);
      const wantJobs = real(v, 'jobs');
      assert.deepEqual(Object.keys(jobs), Object.keys(wantJobs), `${v} jobs top-level keys`);
      const list = jobs.jobs as Rec[];
      const wantList = wantJobs.jobs as Rec[];
      for (const state of ['running', 'pending', 'completed', 'failed']) {
        const got = list.find((j) => jobState(j) === state && !(j.array_task_string as string));
        const want = wantList.find((j) => jobState(j) === state);
        assert.ok(got && want, `${v}: a ${state} job in both answers`);
        assertSameKeys(got, want, `${v} ${state} job`);
      }
      const { body: resv } = await getJson(`${url}/slurm/${v}/reservations`);
      assert.deepEqual(Object.keys(resv), Object.keys(real(v, 'reservations')));
    });
  }

  test('a v0.0.44 job record is about as large as a real one, pretty-printed with 25.x escapes', async () => {
    const r = await fetch(`${url}/slurm/v0.0.44/jobs`);
    const text = await r.text();
    const n = (JSON.parse(text) as { jobs: unknown[] }).jobs.length;
    const perJob = text.length / n;
    assert.ok(perJob > 7000 && perJob < 14000, `bytes per job ${perJob}`);
    assert.match(text, /"standard_output": "\\\/home\\\/user\d+\\\/slurm-%j\.out"/);
    assert.match(text, /"job_size_str": \[\n {6}\]/);
    const old = await (await fetch(`${url}/slurm/v0.0.38/jobs`)).text();
    assert.match(old, /"standard_output": "\/home\/user\d+\/slurm-%j\.out"/);
    assert.match(old, /"gres_detail": \[\]/);
  });

  test('ground truth counts match what the answers say, and allocations add up', async () => {
    for (const v of ['v0.0.38', 'v0.0.44']) {
      const truth = sim.counts();
      const jobs = (await getJson(`${url}/slurm/${v}/jobs`)).body.jobs as Rec[];
      const nodes = (await getJson(`${url}/slurm/${v}/nodes`)).body.nodes as Rec[];
      const byState: Record<string, number> = {};
      for (const j of jobs) byState[jobState(j)] = (byState[jobState(j)] ?? 0) + 1;
      assert.deepEqual(byState, truth.jobsByState, `${v} jobs by state`);
      assert.equal(jobs.length, truth.jobs);
      const nodeStates: Record<string, number> = {};
      const full: Record<string, number> = {};
      let alloc = 0;
      for (const n of nodes) {
        const b = baseState(n.state).toLowerCase();
        nodeStates[b] = (nodeStates[b] ?? 0) + 1;
        const flags = v === 'v0.0.38' ? (n.state_flags as string[]) : (n.state as string[]).slice(1);
        const k = [b, ...flags.map((f) => f.toLowerCase())].join('+');
        full[k] = (full[k] ?? 0) + 1;
        alloc += n.alloc_cpus as number;
      }
      assert.deepEqual(nodeStates, truth.nodesByState, `${v} nodes by state`);
      assert.deepEqual(full, truth.nodesByFullState, `${v} nodes by state and flags`);
      assert.equal(alloc, truth.cpus.alloc);
      // Each node's alloc_cpus is the sum of the CPUs that running (and completing) jobs hold on it.
      const held = new Map<string, number>();
      for (const j of jobs) {
        const s = jobState(j);
        if (s !== 'running' && s !== 'completing') continue;
        const jr = j.job_resources as Rec;
        if (v === 'v0.0.38') {
          for (const a of jr.allocated_nodes as Rec[]) {
            const cores = Object.keys(((a.sockets as Rec)['0'] as Rec).cores as Rec).length;
            held.set(a.nodename as string, (held.get(a.nodename as string) ?? 0) + cores);
          }
        } else {
          for (const a of (jr.nodes as Rec).allocation as Rec[]) {
            held.set(a.name as string, (held.get(a.name as string) ?? 0) + ((a.cpus as Rec).count as number));
          }
        }
      }
      for (const n of nodes) assert.equal(n.alloc_cpus, held.get(n.name as string) ?? 0, `${v} node ${String(n.name)} alloc_cpus`);
    }
  });

  test('the cluster has the promised variety', () => {
    const c = sim.counts();
    for (const s of ['pending', 'running', 'completed', 'failed', 'cancelled']) assert.ok((c.jobsByState[s] ?? 0) > 0, `some ${s} jobs`);
    for (const s of ['idle', 'mixed', 'down']) assert.ok((c.nodesByState[s] ?? 0) > 0, `some ${s} nodes`);
    assert.ok(c.arrayRecords > 0, 'array job records');
    assert.ok(c.gpus.total > 0 && c.partitions.gpu, 'GPU partition');
    assert.ok(Object.keys(c.pendingByReason).length >= 4, 'several pending reasons');
  });
});

describe('simulator over time', () => {
  test('tick() moves jobs and nodes, keeps the job count near the target, diag counters only grow', async () => {
    const sim = new SlurmSimulator({ nodes: 80, jobs: 500, seed: 3, tickMs: 0 });
    const { url } = await sim.start();
    try {
      const before = sim.counts();
      const d0 = (await getJson(`${url}/slurm/v0.0.44/diag`)).body.statistics as Rec;
      const ids0 = new Set(((await getJson(`${url}/slurm/v0.0.44/jobs`)).body.jobs as Rec[]).map((j) => `${String(j.job_id)}:${jobState(j)}`));
      for (let k = 0; k < 5; k++) sim.tick();
      const afterC = sim.counts();
      assert.notDeepEqual(afterC.jobsByState, before.jobsByState);
      assert.ok(Math.abs(afterC.jobs - 500) <= 25, `job count ${afterC.jobs}`);
      const ids1 = new Set(((await getJson(`${url}/slurm/v0.0.44/jobs`)).body.jobs as Rec[]).map((j) => `${String(j.job_id)}:${jobState(j)}`));
      assert.ok([...ids1].filter((x) => !ids0.has(x)).length > 10, 'job records changed');
      const d1 = (await getJson(`${url}/slurm/v0.0.44/diag`)).body.statistics as Rec;
      for (const k of ['jobs_submitted', 'jobs_started', 'schedule_cycle_total', 'bf_cycle_counter']) {
        assert.ok(numberOf(d1[k]) > numberOf(d0[k]), `${k} grew: ${numberOf(d0[k])} -> ${numberOf(d1[k])}`);
      }
      assert.equal(numberOf(d1.jobs_submitted), afterC.diag.jobsSubmitted);
    } finally {
      await sim.stop();
    }
  });

  test('the same seed gives the same cluster, another seed another', () => {
    const a = new Cluster({ nodes: 30, jobs: 200, seed: 11, clusterName: 'x', now: () => 1_800_000_000 });
    const b = new Cluster({ nodes: 30, jobs: 200, seed: 11, clusterName: 'x', now: () => 1_800_000_000 });
    const c = new Cluster({ nodes: 30, jobs: 200, seed: 12, clusterName: 'x', now: () => 1_800_000_000 });
    a.tick();
    b.tick();
    assert.deepEqual(a.counts(), b.counts());
    assert.notDeepEqual(new Cluster({ nodes: 30, jobs: 200, seed: 11, clusterName: 'x', now: () => 1_800_000_000 }).counts(), c.counts());
  });

  test('host lists compress like Slurm', () => {
    assert.equal(hostList(['node00001', 'node00002', 'node00003', 'node00007']), 'node[00001-00003,00007]');
    assert.equal(hostList(['node00004']), 'node00004');
  });
});

describe('simulated GPU jobs and users, read back through the adapter', () => {
  const NOW = 1_800_000_000;
  const c = new Cluster({ nodes: 300, jobs: 3000, seed: 5, clusterName: 'x', users: 5000, accounts: 300, now: () => NOW });

  function records(v: ApiVersion): Rec[] {
    const text = [...new VersionRenderer(v, c).render('jobs', { c, jobs: [...c.jobs.values()], nodes: c.nodes, now: NOW })].join('');
    return (JSON.parse(text) as { jobs: Rec[] }).jobs;
  }

  /** What the job holds (per allocated node's model) or asks for (its model, '' for any), whole job. */
  function expected(j: SimJob): GresCount[] {
    if (!j.gpusPerNode) return [];
    const models = j.alloc.length ? j.alloc.map((i) => c.nodes[i]!.gpuType) : Array.from({ length: j.nodeCount }, () => j.gpuModel);
    return [...new Set(models)].map((model) => ({ type: 'gpu', model, count: j.gpusPerNode * models.filter((m) => m === model).length })).sort((a, b) => a.model.localeCompare(b.model));
  }

  for (const v of ['v0.0.38', 'v0.0.40', 'v0.0.44'] as const) {
    test(`${v}: every job's GPUs by model come out of the adapter as the simulator holds them`, () => {
      const adapter = adapterFor(v)!;
      const seen = new Set<string>();
      for (const r of records(v)) {
        const j = adapter.job(r, { unknown: [] })!;
        const sim = c.jobs.get(j.jobId)!;
        assert.deepEqual([...j.gres].sort((a, b) => a.model.localeCompare(b.model)), expected(sim), `job ${j.jobId} (${sim.gpuAsk} ${sim.gpuModel || 'any'})`);
        assert.equal(j.gpus, sim.gpusPerNode * (sim.alloc.length || sim.nodeCount), `job ${j.jobId} gpus`);
        if (sim.gpusPerNode) seen.add(`${sim.gpuAsk}:${sim.gpuModel ? 'model' : 'any'}:${j.state === 'running' ? 'running' : 'other'}:${sim.nodeCount > 1 ? 'multi' : 'one'}`);
      }
      for (const ask of ['gres', 'gpus-per-node', 'gpus']) {
        for (const m of ['model', 'any']) assert.ok([...seen].some((k) => k.startsWith(`${ask}:${m}:`)), `some ${ask} job asking for ${m}`);
        assert.ok([...seen].some((k) => k.startsWith(`${ask}:`) && k.includes(':running:')), `some running ${ask} job`);
      }
      assert.ok([...seen].some((k) => k.endsWith(':multi')), 'some --gpus-per-node job on several nodes');
    });
  }

  test('GPU nodes have models; typed TRES and --gpus requests appear as Slurm prints them', () => {
    assert.deepEqual(new Set(c.nodes.filter((n) => n.gpus).map((n) => n.gpuType)), new Set(['a100', 'h100', 'l40s']));
    const text = JSON.stringify(records('v0.0.44'));
    assert.match(text, /gres\/gpu=\d+,gres\/gpu:h100=\d+/);
    assert.match(text, /"tres_per_job":"gres\/gpu:(a100|h100|l40s):\d+"/);
    assert.match(JSON.stringify(records('v0.0.38')), /"tres_per_node":"gres:gpu:(a100|h100|l40s):\d+"/);
  });

  test('users and accounts are as many as asked for, and a job\'s user follows from its id', () => {
    assert.equal(c.users.length, 5000);
    const users = new Set<string>();
    const accounts = new Set<string>();
    for (const j of c.jobs.values()) {
      users.add(c.user(j).name);
      accounts.add(c.user(j).account);
      assert.equal(j.user, userOfJob(j.arrayJobId && j.arrayTaskId >= 0 ? j.arrayJobId : j.id, 5000), `job ${j.id}`);
    }
    assert.ok(users.size > 500, `distinct users with jobs: ${users.size}`);
    assert.ok(accounts.size > 150 && accounts.size <= 300, `distinct accounts with jobs: ${accounts.size}`);
    assert.ok(accounts.has('physics') && [...accounts].some((a) => /^acct\d{4}$/.test(a)));
    const other = new Cluster({ nodes: 30, jobs: 100, seed: 9, clusterName: 'y', now: () => NOW });
    assert.equal(other.users.length, 60, 'default');
    assert.equal(new Set(other.users.map((u) => u.account)).size, 10);
  });
});

describe('simulator HTTP behaviour', () => {
  const key = Buffer.from('0123456789abcdef0123456789abcdef');
  let sim: SlurmSimulator;
  let url: string;
  before(async () => {
    sim = new SlurmSimulator({ nodes: 20, jobs: 300, seed: 5, tickMs: 0, jwtKey: key, versions: ['v0.0.40', 'v0.0.44'] });
    ({ url } = await sim.start());
  });
  after(() => sim.stop());
  const auth = (token = signJwt('root', key)) => ({ 'X-SLURM-USER-NAME': 'root', 'X-SLURM-USER-TOKEN': token });

  test('auth: 401 without headers, 511 with a bad or expired token, 200 with a good one', async () => {
    const none = await fetch(`${url}/slurm/v0.0.44/jobs`);
    assert.equal(none.status, 401);
    assert.equal(await none.text(), fixture('slurm-25.11.7/rest_error_no_token_ping.txt'));
    assert.match(none.headers.get('content-type') ?? '', /text\/plain/);

    const bad = await fetch(`${url}/slurm/v0.0.44/jobs`, { headers: auth(signJwt('root', Buffer.from('other key'))) });
    assert.equal(bad.status, 511);
    const badBody = JSON.parse(await bad.text()) as Rec;
    assertSameKeys(badBody, JSON.parse(fixture('slurm-25.11.7/rest_error_bad_token_jobs.json')), 'bad-token answer');
    assert.equal(((badBody.errors as Rec[])[0] as Rec).error_number, 1007);

    const expired = await fetch(`${url}/slurm/v0.0.44/diag`, { headers: auth(signJwt('root', key, 60, Math.floor(Date.now() / 1000) - 3600)) });
    assert.equal(expired.status, 511);
    assertSameKeys(JSON.parse(await expired.text()), JSON.parse(fixture('slurm-25.11.7/rest_error_bad_token_diag.json')), 'bad-token diag');

    const ping = await getJson(`${url}/slurm/v0.0.44/ping`, auth('x.y.z'));
    assert.equal(ping.status, 200);
    assert.equal(((ping.body.pings as Rec[])[0] as Rec).pinged, 'DOWN');

    const ok = await getJson(`${url}/slurm/v0.0.44/jobs`, auth());
    assert.equal(ok.status, 200);
    assert.equal((ok.body.jobs as unknown[]).length, sim.counts().jobs);
  });

  test('single job, node and partition answers; an unknown job is a 404 like 25.11', async () => {
    const jobs = (await getJson(`${url}/slurm/v0.0.44/jobs`, auth())).body.jobs as Rec[];
    const j = jobs.find((x) => jobState(x) === 'running' && !String(x.nodes).includes('['))!;
    const one = await getJson(`${url}/slurm/v0.0.44/job/${String(j.job_id)}`, auth());
    assert.equal(one.status, 200);
    assert.deepEqual((one.body.jobs as Rec[])[0], j);
    const node = await getJson(`${url}/slurm/v0.0.40/node/${String(j.nodes)}`, auth());
    assert.equal(node.status, 200);
    assertSameKeys(node.body, real('v0.0.40', 'node_n4'), 'single node');
    const part = await getJson(`${url}/slurm/v0.0.44/partition/cpu`, auth());
    assert.equal(((part.body.partitions as Rec[])[0] as Rec).name, 'cpu');
    const missing = await getJson(`${url}/slurm/v0.0.44/job/999999`, auth());
    assert.equal(missing.status, 404);
    assertSameKeys(missing.body, JSON.parse(fixture('slurm-25.11.7/rest_error_unknown_job.json')), 'unknown job');
  });

  test('verifyJwt checks signature, algorithm and expiry', () => {
    assert.equal(verifyJwt(signJwt('u', key), key), undefined);
    assert.equal(verifyJwt(signJwt('u', key), Buffer.from('nope')), 'bad signature');
    assert.equal(verifyJwt(signJwt('u', key, 10, 1000), key, 2000), 'expired');
    assert.equal(verifyJwt('abc', key), 'not a JWT');
  });

  test('unknown paths and unserved versions answer 404 text/plain like slurmrestd 25.11; openapi lists served versions', async () => {
    for (const p of ['/slurm/v0.0.44/nope', '/slurm/v0.0.41/jobs', '/slurm/v0.0.38/ping', '/metrics']) {
      const r = await fetch(`${url}${p}`, { headers: auth() });
      assert.equal(r.status, 404, p);
      assert.equal(await r.text(), fixture('slurm-25.11.7/rest_error_unknown_path.txt'));
      assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
    }
    assert.equal(UNKNOWN_PATH_TEXT, fixture('slurm-25.11.7/rest_error_unknown_path.txt'));
    const spec = await getJson(`${url}/openapi/v3`, auth());
    const paths = Object.keys(spec.body.paths as Rec);
    assert.ok(paths.includes('/slurm/v0.0.44/jobs/') && paths.includes('/slurm/v0.0.40/nodes/'));
    assert.ok(!paths.some((p) => p.includes('v0.0.41')));
  });

  test('request log records path, status, user agent and bytes; /sim/requests filters by time', async () => {
    const since = Date.now();
    const r = await fetch(`${url}/slurm/v0.0.44/nodes`, { headers: { ...auth(), 'User-Agent': 'sim-test/1' } });
    const len = (await r.arrayBuffer()).byteLength;
    await new Promise((res) => setTimeout(res, 20));
    const log = (await getJson(`${url}/sim/requests?since=${since}`)).body as unknown as { path: string; status: number; userAgent: string; bytes: number; method: string }[];
    const e = log.find((x) => x.userAgent === 'sim-test/1');
    assert.ok(e, 'logged');
    assert.deepEqual({ path: e.path, status: e.status, method: e.method, bytes: e.bytes }, { path: '/slurm/v0.0.44/nodes', status: 200, method: 'GET', bytes: len });
    assert.ok(log.every((x) => !x.path.startsWith('/sim/')));
    const state = await getJson(`${url}/sim/state`);
    assert.equal(state.body.jobs, sim.counts().jobs);
  });

  test('streamed answers stay valid JSON through a slow reader (backpressure)', async () => {
    const big = new SlurmSimulator({ nodes: 200, jobs: 3000, seed: 9, tickMs: 0, versions: ['v0.0.44'] });
    const b = await big.start();
    try {
      const text = await new Promise<string>((resolve, reject) => {
        request(`${b.url}/slurm/v0.0.44/jobs`, (res) => {
          const parts: Buffer[] = [];
          res.pause();
          // The server must wait for 'drain' while we do not read; a tick meanwhile must not tear the answer.
          setTimeout(() => {
            big.tick();
            res.on('data', (d: Buffer) => parts.push(d));
            res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
            res.resume();
          }, 200);
        })
          .on('error', reject)
          .end();
      });
      const parsed = JSON.parse(text) as { jobs: Rec[] };
      assert.ok(parsed.jobs.length >= 2900, `${parsed.jobs.length} jobs`);
      assert.ok(text.length > 20e6, 'large enough to need backpressure');
    } finally {
      await big.stop();
    }
  });

  test('templates are the captured answers byte for byte', () => {
    assert.equal(TEMPLATES_0_0_38.jobs, fixture('slurm-22.05/slurm_v0.0.38_job_2.json'));
    assert.equal(TEMPLATES_0_0_38.nodes, fixture('slurm-22.05/slurm_v0.0.38_node_c3.json'));
    assert.equal(TEMPLATES_0_0_40.jobs, fixture('slurm-25.05.8/rest_v0.0.40_slurm_job_1.json'));
    assert.equal(TEMPLATES_0_0_44.jobs, fixture('slurm-25.11.7/rest_v0.0.44_slurm_job_1.json'));
    assert.equal(TEMPLATES_0_0_44.diag, fixture('slurm-25.11.7/rest_v0.0.44_slurm_diag.json'));
  });

  test('the template index finds every value by path', () => {
    const s = indexSpans('{\n  "a": [\n    {\n      "b": 1\n    }\n  ],\n  "c": "x\\/y"\n}');
    const text = '{\n  "a": [\n    {\n      "b": 1\n    }\n  ],\n  "c": "x\\/y"\n}';
    const at = (p: string) => text.slice(s.get(p)!.start, s.get(p)!.end);
    assert.equal(at('a.0.b'), '1');
    assert.equal(at('c'), '"x\\/y"');
    assert.equal(at('a.0'), '{\n      "b": 1\n    }');
  });
});

describe('simulator faults', () => {
  let sim: SlurmSimulator;
  let url: string;
  before(async () => {
    sim = new SlurmSimulator({ nodes: 20, jobs: 100, seed: 2, tickMs: 0, versions: ['v0.0.43', 'v0.0.44'] });
    ({ url } = await sim.start());
  });
  after(() => sim.stop());
  const setFault = async (spec: object) => {
    const r = await fetch(`${url}/sim/faults`, { method: 'POST', body: JSON.stringify(spec) });
    assert.equal(r.status, 200, await r.text());
  };

  test('refuse closes the connection at once', async () => {
    sim.faults.set({ mode: 'refuse' });
    await assert.rejects(fetch(`${url}/slurm/v0.0.44/ping`));
    sim.faults.clear();
    assert.equal((await fetch(`${url}/slurm/v0.0.44/ping`)).status, 200);
  });

  test('hang accepts and never answers', async () => {
    await setFault({ mode: 'hang' });
    await assert.rejects(fetch(`${url}/slurm/v0.0.44/ping`, { signal: AbortSignal.timeout(300) }), /abort|timeout/i);
    await setFault({ mode: 'none' });
  });

  test('slow sends a byte at a time', async () => {
    sim.faults.set({ mode: 'slow', intervalMs: 20 });
    const r = await fetch(`${url}/slurm/v0.0.44/ping`);
    assert.equal(r.status, 200);
    const reader = r.body!.getReader();
    const first = await reader.read();
    assert.equal(first.value?.length, 1);
    await reader.cancel();
    sim.faults.clear();
  });

  test('status answers the given status and body', async () => {
    await setFault({ mode: 'status', status: 503, body: 'busy', paths: '/jobs$' });
    const r = await fetch(`${url}/slurm/v0.0.44/jobs`);
    assert.equal(r.status, 503);
    assert.equal(await r.text(), 'busy');
    assert.equal((await fetch(`${url}/slurm/v0.0.44/nodes`)).status, 200, 'paths filter leaves other paths alone');
    sim.faults.clear();
  });

  test('malformed answers 200 with broken JSON', async () => {
    sim.faults.set({ mode: 'malformed' });
    const r = await fetch(`${url}/slurm/v0.0.44/jobs`);
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.throws(() => JSON.parse(text));
    sim.faults.clear();
  });

  test('truncate stops mid-body and destroys the socket', async () => {
    sim.faults.set({ mode: 'truncate', bytes: 1000 });
    const r = await fetch(`${url}/slurm/v0.0.44/jobs`);
    assert.equal(r.status, 200);
    await assert.rejects(r.text());
    sim.faults.clear();
  });

  test('huge answers the given number of bytes', async () => {
    sim.faults.set({ mode: 'huge', bytes: 3_000_000 });
    const r = await fetch(`${url}/slurm/v0.0.44/jobs`);
    const text = await r.text();
    assert.equal(text.length, 3_000_000);
    assert.equal((JSON.parse(text) as { padding: string }).padding.length, 3_000_000 - 14);
    sim.faults.clear();
  });

  test('drop-version stops serving one version', async () => {
    await setFault({ mode: 'drop-version', version: 'v0.0.44' });
    const r = await fetch(`${url}/slurm/v0.0.44/ping`);
    assert.equal(r.status, 404);
    assert.equal(await r.text(), UNKNOWN_PATH_TEXT);
    assert.equal((await fetch(`${url}/slurm/v0.0.43/ping`)).status, 200);
    assert.deepEqual(sim.counts().versions, ['v0.0.43']);
    sim.faults.clear();
  });

  test('times limits a fault to N requests; bad fault specs are refused with a reason', async () => {
    sim.faults.set({ mode: 'status', status: 502, times: 2 });
    assert.equal((await fetch(`${url}/slurm/v0.0.44/ping`)).status, 502);
    assert.equal((await fetch(`${url}/slurm/v0.0.44/ping`)).status, 502);
    assert.equal((await fetch(`${url}/slurm/v0.0.44/ping`)).status, 200);
    const bad = await fetch(`${url}/sim/faults`, { method: 'POST', body: JSON.stringify({ mode: 'explode' }) });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /mode/);
    const noVersion = await fetch(`${url}/sim/faults`, { method: 'POST', body: JSON.stringify({ mode: 'drop-version' }) });
    assert.equal(noVersion.status, 400);
  });
});

/** The real captured slurmdbd diag answer of a version (v0.0.39 has none: it is served as v0.0.40). */
function realDb(version: string): Rec {
  const file =
    version === 'v0.0.38'
      ? 'slurm-22.05/slurmdb_v0.0.38_diag.json'
      : version === 'v0.0.39' || version === 'v0.0.40'
        ? 'slurm-25.05.8/rest_v0.0.40_slurmdb_diag.json'
        : `slurm-25.11.7/rest_${version}_slurmdb_diag.json`;
  return JSON.parse(fixture(file)) as Rec;
}

function collectCtx(data: Partial<ResourceData>, maxUsers = 200, maxAccounts = 200): CollectContext & { anomalies: string[] } {
  const anomalies: string[] = [];
  return {
    cluster: 'sim',
    data,
    now: 1_800_000_000,
    limits: { perNode: true, maxReasonLength: 100, perUser: true, perAccount: true, perQos: true, maxUsers, maxAccounts, jobs: false, maxJobs: 1000 },
    anomaly: (w) => anomalies.push(w),
    anomalies,
  };
}

const gauge = (families: ReturnType<typeof fairshareCollector.collect>, name: string): number => {
  const f = families.find((x) => x.desc.name === name);
  assert.ok(f && f.samples.length === 1, name);
  return f.samples[0]!.value;
};

describe('simulator fairshare (/shares) and slurmdbd statistics (/slurmdb/diag)', () => {
  let sim: SlurmSimulator;
  let url: string;
  before(async () => {
    sim = new SlurmSimulator({ nodes: 40, jobs: 300, seed: 9, tickMs: 0 });
    ({ url } = await sim.start());
  });
  after(() => sim.stop());

  for (const v of VERSIONS) {
    test(`${v}: /shares ${v === 'v0.0.38' ? 'is not served (22.05)' : 'has the real shape and parses into the tree of the users and their accounts'}`, async () => {
      if (v === 'v0.0.38') {
        const r = await fetch(`${url}/slurm/${v}/shares`);
        assert.equal(r.status, 404);
        assert.equal(await r.text(), UNKNOWN_PATH_TEXT);
        return;
      }
      const { status, body } = await getJson(`${url}/slurm/${v}/shares`);
      assert.equal(status, 200);
      assertSameKeys(body, real(v, 'shares'), `${v} shares`);
      const a = { unknown: [] as string[] };
      const entries = buildShares(body, a);
      assert.deepEqual(a.unknown, []);
      const users = sim.cluster.users;
      const accounts = new Set(users.map((u) => u.account));
      assert.equal(entries.filter((e) => e.kind === 'user').length, users.length + 1, 'every user, plus root in root');
      assert.equal(entries.filter((e) => e.kind === 'account').length, accounts.size + 1, 'every account, plus root');
      for (const u of users) assert.ok(entries.some((e) => e.kind === 'user' && e.name === u.name && e.account === u.account), `${u.name} in ${u.account}`);
      const root = entries.find((e) => e.kind === 'account' && e.name === 'root')!;
      assert.ok(root.rawUsage! > 0, 'running jobs have used something');
      const top = entries.filter((e) => e.kind === 'account' && e.account === 'root');
      assert.equal(top.reduce((s2, e) => s2 + e.rawUsage!, 0), root.rawUsage, 'accounts add up to root');
      for (const e of entries.filter((x) => x.kind === 'user')) {
        assert.ok(e.fairshareFactor! > 0 && e.fairshareFactor! <= 1, `${e.name} factor ${e.fairshareFactor}`);
        assert.ok(e.rawUsage === 0 ? e.levelFairshare === Infinity : e.levelFairshare! > 0, `${e.name} LevelFS`);
      }
      const c = collectCtx({ shares: entries });
      fairshareCollector.collect(c);
      assert.deepEqual(c.anomalies, []);
    });

    test(`${v}: /slurmdb/${v}/diag has the real shape; per-type and per-user figures add up, every user shows`, async () => {
      const { status, body } = await getJson(`${url}/slurmdb/${v}/diag`);
      assert.equal(status, 200);
      assertSameKeys(body, realDb(v), `${v} slurmdb diag`);
      const a = { unknown: [] as string[] };
      const d = buildDbdStats(body, a);
      assert.deepEqual(a.unknown, []);
      const sum = (rows: { count: number }[]) => rows.reduce((s2, r) => s2 + r.count, 0);
      assert.equal(sum(d.rpcByType), sum(d.rpcByUser));
      assert.ok(Math.abs(d.rpcByType.reduce((s2, r) => s2 + r.totalTimeSeconds, 0) - d.rpcByUser.reduce((s2, r) => s2 + r.totalTimeSeconds, 0)) < 1e-6);
      assert.equal(d.rpcByUser.length, sim.cluster.users.length + 1);
      assert.equal(d.rpcByUser[0]!.user, 'root');
      assert.equal(d.statsResetTime, sim.cluster.diag.startTime);
    });
  }

  test('slurmdbd counters only grow with ticks; wrong paths are 404', async () => {
    const before0 = buildDbdStats((await getJson(`${url}/slurmdb/v0.0.44/diag`)).body, { unknown: [] });
    sim.tick();
    sim.tick();
    const after0 = buildDbdStats((await getJson(`${url}/slurmdb/v0.0.44/diag`)).body, { unknown: [] });
    for (const r of before0.rpcByType) {
      const n = after0.rpcByType.find((x) => x.name === r.name)!;
      assert.ok(n.count >= r.count && n.totalTimeSeconds >= r.totalTimeSeconds, `${r.name} grows`);
    }
    for (const p of ['/slurm/v0.0.44/slurmdb_diag', '/slurmdb/v0.0.44/jobs', '/slurmdb/v0.0.36/diag']) {
      assert.equal((await fetch(`${url}${p}`)).status, 404, p);
    }
    const paths = Object.keys((await getJson(`${url}/openapi/v3`)).body.paths as Rec);
    assert.ok(paths.includes('/slurmdb/v0.0.38/diag/') && paths.includes('/slurm/v0.0.39/shares/'));
    assert.ok(!paths.includes('/slurm/v0.0.38/shares/') && !paths.some((p) => p.endsWith('/slurmdb_diag/')));
  });

  test('with a bad token both answer 511 with Slurm\'s error and no data', async () => {
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    const s2 = new SlurmSimulator({ nodes: 5, jobs: 20, seed: 2, tickMs: 0, jwtKey: key, versions: ['v0.0.44'] });
    const { url: u2 } = await s2.start();
    try {
      const headers = { 'X-SLURM-USER-NAME': 'root', 'X-SLURM-USER-TOKEN': signJwt('root', Buffer.from('other key')) };
      for (const p of ['/slurm/v0.0.44/shares', '/slurmdb/v0.0.44/diag']) {
        const { status, body } = await getJson(`${u2}${p}`, headers);
        assert.equal(status, 511, p);
        assert.equal(((body.errors as Rec[])[0] as Rec).error_number, 1007);
        if (p.includes('shares')) assert.deepEqual((body.shares as Rec).shares, []);
        else assert.equal(body.statistics, undefined);
      }
    } finally {
      await s2.stop();
    }
  });

  test('at scale: thousands of users and accounts render, parse, and fold to the limits', () => {
    const c = new Cluster({ nodes: 50, jobs: 2000, users: 3000, accounts: 1200, seed: 4, clusterName: 'big', now: () => 1_800_000_000 });
    const r = new VersionRenderer('v0.0.44', c);
    const a = { c, jobs: [...c.jobs.values()], nodes: c.nodes, now: 1_800_000_000 };
    const t0 = Date.now();
    const shares = buildShares(JSON.parse([...r.render('shares', a)].join('')) as Rec, { unknown: [] });
    const dbd = buildDbdStats(JSON.parse([...r.render('slurmdb_diag', a)].join('')) as Rec, { unknown: [] });
    const ms = Date.now() - t0;
    assert.equal(shares.filter((e) => e.kind === 'user').length, 3001);
    assert.equal(shares.filter((e) => e.kind === 'account').length, 1201);
    assert.equal(dbd.rpcByUser.length, 3001);
    assert.ok(ms < 20_000, `rendered and parsed in ${ms} ms`);
    const fs = fairshareCollector.collect(collectCtx({ shares }));
    assert.equal(gauge(fs, 'slurm_fairshare_users_folded'), 2801);
    assert.equal(gauge(fs, 'slurm_fairshare_accounts_folded'), 1001);
    const rawUsage = fs.find((f) => f.desc.name === 'slurm_user_raw_usage')!;
    const total = shares.filter((e) => e.kind === 'user').reduce((s2, e) => s2 + e.rawUsage!, 0);
    assert.equal(rawUsage.samples.reduce((s2, x) => s2 + x.value, 0), total, 'kept plus other is all usage');
    const db = slurmdbdCollector.collect(collectCtx({ dbdiag: dbd }));
    assert.equal(gauge(db, 'slurm_slurmdbd_rpc_users_folded'), 2801);
  });
});
