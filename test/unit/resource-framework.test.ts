// The collector framework's contract: one descriptor per resource, "not served here" as an answer rather than
// an error, error counters that exist from the start, and one count and one log line per unknown value.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { COLLECTOR_GROUPS, RESOURCES, RESOURCE_KINDS, groupOf, resourcePath } from '../../src/slurm/resources.ts';
import { RestSource } from '../../src/slurm/rest/client.ts';
import { SlurmFetchError, type FetchResult, type SlurmSource } from '../../src/slurm/source.ts';
import type { ResourceKind } from '../../src/slurm/model.ts';
import { Poller } from '../../src/poll/poller.ts';
import { SnapshotStore } from '../../src/poll/snapshot-store.ts';
import { AnomalyLog } from '../../src/poll/anomalies.ts';
import { ALL_COLLECTORS } from '../../src/collectors/registry.ts';
import { adapterFor } from '../../src/slurm/rest/adapters/index.ts';
import { readResource } from '../../src/slurm/rest/read-resource.ts';
import type { SlurmRestConfig } from '../../src/config/types.ts';

const FIX = new URL('../fixtures/', import.meta.url);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function recordingLog() {
  const lines: { level: string; obj: unknown; msg?: string }[] = [];
  const at = (level: string) => (obj: unknown, msg?: string) => lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const groups = () => Object.fromEntries(COLLECTOR_GROUPS.map((g) => [g, { enabled: true, intervalMs: 60_000, timeoutMs: 5_000 }]));

function slurmCfg(url: string, apiVersion?: string): SlurmRestConfig {
  return {
    url, apiVersion, user: 'slurm', token: 'not-checked', tokenFile: undefined, jwtKeyFile: undefined, jwtLifetimeMs: 3600_000, cluster: undefined,
    maxConnections: 2, connectionTimeoutMs: 2000, requestTimeoutMs: 5000, keepAlive: true, maxResponseBytes: 64 * 1024 * 1024,
    rateLimit: { enabled: false, requestsPerSecond: 10, burstSize: 20 }, cache: { enabled: false, ttlMs: 0, maxSize: 0 },
    tls: { caFile: undefined, insecureSkipVerify: false },
  };
}

/** A slurmrestd stand-in that serves captured answers for some paths and slurmrestd's unknown-path 404 for the rest. */
async function fakeRestd(served: Record<string, string>): Promise<{ url: string; hits: string[]; server: Server }> {
  const hits: string[] = [];
  const unknown = readFileSync(new URL('slurm-25.11.7/rest_error_unknown_path.txt', FIX));
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const file = served[req.url ?? ''];
    if (file) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(readFileSync(new URL(file, FIX)));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(unknown);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
}

describe('resource descriptors', () => {
  it('give every kind a group, an endpoint label and a path, and every collector a group that exists', () => {
    for (const k of RESOURCE_KINDS) {
      assert.ok(COLLECTOR_GROUPS.includes(groupOf(k)), `${k} has group ${groupOf(k)}`);
      // slurmctld's own metrics (the native kind) have no slurmrestd path in any version.
      if (RESOURCES[k].plugin === 'slurmctld') assert.equal(resourcePath(k, 'v0.0.44'), undefined, k);
      else assert.match(resourcePath(k, 'v0.0.44') ?? '', /^\/slurm(db)?\/v0\.0\.44\/[a-z]+$/);
    }
    for (const c of ALL_COLLECTORS) {
      assert.ok(COLLECTOR_GROUPS.includes(c.group), `${c.name} names group ${c.group}`);
      for (const k of c.needs) assert.ok(k in RESOURCES, `${c.name} needs ${k}`);
    }
    assert.equal(new Set(RESOURCE_KINDS.map((k) => RESOURCES[k].endpoint)).size, RESOURCE_KINDS.length, 'endpoint labels are unique');
  });

  it('say that v0.0.38 (Slurm 22.05) does not serve /shares', () => {
    assert.equal(resourcePath('shares', 'v0.0.38'), undefined);
    assert.equal(resourcePath('shares', 'v0.0.41'), '/slurm/v0.0.41/shares');
    assert.equal(resourcePath('dbdiag', 'v0.0.38'), '/slurmdb/v0.0.38/diag');
    assert.equal(resourcePath('jobs', 'v0.0.37'), undefined);
  });
});

describe('a resource the cluster does not serve', () => {
  it('is "unsupported" without a request when the API version predates it', async () => {
    const fake = await fakeRestd({ '/slurm/v0.0.38/ping': 'slurm-22.05/slurm_v0.0.38_ping.json' });
    const src = new RestSource(slurmCfg(fake.url, 'v0.0.38'), quiet, { userAgent: 'test' });
    try {
      await assert.rejects(src.fetch('shares', AbortSignal.timeout(5000)), (e: unknown) => e instanceof SlurmFetchError && e.kind === 'unsupported');
      assert.deepEqual(fake.hits, []);
    } finally {
      await src.close();
      fake.server.close();
    }
  });

  it('is "unsupported" on a 404 while /ping answers, and the API version is not negotiated again', async () => {
    const fake = await fakeRestd({ '/slurm/v0.0.44/ping': 'slurm-25.11.7/rest_v0.0.44_slurm_ping.json' });
    const src = new RestSource(slurmCfg(fake.url), quiet, { userAgent: 'test' });
    try {
      await src.init(AbortSignal.timeout(5000));
      const before = fake.hits.length;
      await assert.rejects(src.fetch('licenses', AbortSignal.timeout(5000)), (e: unknown) => e instanceof SlurmFetchError && e.kind === 'unsupported' && /licenses/.test(e.message));
      assert.deepEqual(fake.hits.slice(before), ['/slurm/v0.0.44/licenses', '/slurm/v0.0.44/ping'], 'one probe of /ping, no walk down the versions');
      assert.equal(src.apiVersion(), 'v0.0.44');
    } finally {
      await src.close();
      fake.server.close();
    }
  });
});

class OneAnswer implements SlurmSource {
  private readonly answer: () => Promise<FetchResult<ResourceKind>>;
  constructor(answer: () => Promise<FetchResult<ResourceKind>>) {
    this.answer = answer;
  }
  describe() {
    return 'one answer';
  }
  async init() {}
  fetch<K extends ResourceKind>(): Promise<FetchResult<K>> {
    return this.answer() as Promise<FetchResult<K>>;
  }
  async close() {}
}

describe('the poller', () => {
  it('marks an unsupported group, counts no error and keeps it out of failures', async () => {
    const log = recordingLog();
    const src = new OneAnswer(async () => {
      throw new SlurmFetchError('unsupported', 'slurmrestd API v0.0.38 does not serve shares');
    });
    const p = new Poller(src, new SnapshotStore(), ['shares'], groups(), log, new AnomalyLog(log));
    await p.pollOnce('shares');
    await p.pollOnce('shares');
    const [s] = p.statuses();
    assert.equal(s?.unsupported, true);
    assert.equal(s?.consecutiveFailures, 0);
    assert.equal(s?.lastSuccess, undefined);
    assert.ok(p.stats.errors.entries().every((e) => e.value === 0), 'no error counted');
    assert.equal(log.lines.filter((l) => /not served/.test(l.msg ?? '')).length, 1, 'logged once');
  });

  it('exports every error combination of the groups it polls at 0 before any error', () => {
    const p = new Poller(new OneAnswer(async () => ({ data: [] as never, anomalies: { unknown: [] }, bytes: 0, requests: 1 })), new SnapshotStore(), ['nodes', 'cluster'], groups(), quiet, new AnomalyLog(quiet));
    const errs = p.stats.errors.entries();
    assert.ok(errs.some((e) => e.labels.join() === 'nodes,connect' && e.value === 0));
    assert.ok(errs.some((e) => e.labels.join() === 'cluster,auth' && e.value === 0));
    assert.ok(p.stats.apiErrors.entries().some((e) => e.labels.join() === 'ping,timeout' && e.value === 0), 'endpoint label is ping, as documented');
    assert.ok(!errs.some((e) => e.labels[1] === 'unsupported'));
  });

  it('counts and logs an unknown node flag once, however often it is seen', async () => {
    const doc = JSON.parse(readFileSync(new URL('slurm-25.11.7/rest_v0.0.44_slurm_nodes.json', FIX), 'utf8')) as { nodes: { state: string[] }[] };
    doc.nodes[0]!.state.push('BRAND_NEW_FLAG');
    const body = Buffer.from(JSON.stringify(doc, null, 2));
    const adapter = adapterFor('v0.0.44')!;
    const log = recordingLog();
    const anomalies = new AnomalyLog(log);
    const src = new OneAnswer(async () => readResource('nodes', adapter, (async function* () { yield body; })(), { maxBytes: 1e9 }));
    const p = new Poller(src, new SnapshotStore(), ['nodes'], groups(), log, anomalies);
    await p.pollOnce('nodes');
    await p.pollOnce('nodes');
    assert.deepEqual(anomalies.counter.entries(), [{ labels: ['nodes'], value: 1 }]);
    assert.equal(log.lines.filter((l) => l.level === 'warn').length, 1);
  });
});

describe('slurmdbd reachability (/slurmdb/{v}/ping)', () => {
  it('is read from every captured version that serves it, and v0.0.41 and older do not', async () => {
    const { slurmdbdPingCollector } = await import('../../src/collectors/slurmdbd-ping.ts');
    for (const [dir, v] of [['slurm-25.05.8', 'v0.0.42'], ['slurm-25.05.8', 'v0.0.43'], ['slurm-25.11.7', 'v0.0.42'], ['slurm-25.11.7', 'v0.0.43'], ['slurm-25.11.7', 'v0.0.44']] as const) {
      const body = readFileSync(new URL(`${dir}/rest_${v}_slurmdb_ping.json`, FIX));
      const r = await readResource('dbping', adapterFor(v)!, (async function* () { yield body; })(), { maxBytes: 1e6 });
      const want = (JSON.parse(body.toString()) as { pings: { hostname: string; responding: boolean; latency: number }[] }).pings;
      assert.deepEqual(r.data, want.map((p) => ({ hostname: p.hostname, responding: p.responding, latencySeconds: p.latency / 1e6 })), `${dir} ${v}`);
      const out = slurmdbdPingCollector.collect({ cluster: 'lab2', data: { dbping: r.data }, now: 0, limits: {} as never, anomaly() {} });
      assert.deepEqual(out[0]?.samples, want.map((p) => ({ values: ['lab2', p.hostname], value: p.responding ? 1 : 0 })));
    }
    for (const v of ['v0.0.38', 'v0.0.40', 'v0.0.41']) assert.equal(resourcePath('dbping', v), undefined);
  });

  it('makes the slurmdbd group one status: supported while diag is, as old as its oldest kind', async () => {
    const src = new OneAnswer(async () => {
      throw new SlurmFetchError('unsupported', 'slurmrestd API v0.0.38 does not serve dbping');
    });
    const p = new Poller(src, new SnapshotStore(), ['dbping'], groups(), quiet, new AnomalyLog(quiet));
    await p.pollOnce('dbping');
    assert.deepEqual(p.groupStatuses().map((s) => [s.group, s.unsupported]), [['slurmdbd', true]]);
    let n = 0;
    const two = new OneAnswer(async () => {
      if (n++ % 2 === 1) throw new SlurmFetchError('unsupported', 'no ping here');
      return { data: { statsResetTime: undefined, rpcByType: [], rpcByUser: [] } as never, anomalies: { unknown: [] }, bytes: 1, requests: 1 };
    });
    const q = new Poller(two, new SnapshotStore(), ['dbdiag', 'dbping'], groups(), quiet, new AnomalyLog(quiet));
    await q.pollOnce('dbdiag');
    await q.pollOnce('dbping');
    const [g] = q.groupStatuses();
    assert.equal(q.groupStatuses().length, 1);
    assert.equal(g?.unsupported, false);
    assert.equal(g?.lastSuccess, true);
    assert.ok(g?.lastSuccessAt !== undefined);
  });
});

describe('the simulator serves what the descriptors say', () => {
  it('answers every resource each API version serves, through the exporter\'s own source, and 404s the rest', async () => {
    const { SlurmSimulator } = await import('../../src/simulator/server.ts');
    const sim = new SlurmSimulator({ nodes: 12, jobs: 40, tickMs: 0 });
    const { url } = await sim.start();
    try {
      for (const v of ['v0.0.38', 'v0.0.40', 'v0.0.41', 'v0.0.42', 'v0.0.44']) {
        const src = new RestSource(slurmCfg(url, v), quiet, { userAgent: 'test' });
        try {
          for (const k of RESOURCE_KINDS) {
            if (resourcePath(k, v) === undefined) {
              await assert.rejects(src.fetch(k, AbortSignal.timeout(5000)), (e: unknown) => e instanceof SlurmFetchError && e.kind === 'unsupported', `${v} ${k}`);
              continue;
            }
            const r = await src.fetch(k, AbortSignal.timeout(5000));
            assert.deepEqual(r.anomalies.unknown, [], `${v} ${k}: understood`);
            // A small simulated cluster may have no reservation; every other list has records.
            if (Array.isArray(r.data) && k !== 'reservations') assert.ok(r.data.length > 0, `${v} ${k}: some records`);
          }
        } finally {
          await src.close();
        }
      }
    } finally {
      await sim.stop();
    }
  });
});

describe('/shares is streamed', () => {
  const versions = [['slurm-25.05.8', 'v0.0.40'], ['slurm-25.05.8', 'v0.0.41'], ['slurm-25.05.8', 'v0.0.42'], ['slurm-25.05.8', 'v0.0.43'], ['slurm-25.11.7', 'v0.0.41'], ['slurm-25.11.7', 'v0.0.42'], ['slurm-25.11.7', 'v0.0.43'], ['slurm-25.11.7', 'v0.0.44']] as const;

  it('gives what the whole-document adapter gives, on every captured version, reading only the picked members', async () => {
    const { buildShares, shareEntry, SHARE_FIELDS } = await import('../../src/slurm/rest/adapters/shares.ts');
    for (const [dir, v] of versions) {
      const body = readFileSync(new URL(`${dir}/rest_${v}_slurm_shares.json`, FIX));
      const doc = JSON.parse(body.toString()) as { shares: { shares: Record<string, unknown>[] } };
      const r = await readResource('shares', adapterFor(v)!, (async function* () { for (let o = 0; o < body.length; o += 4096) yield body.subarray(o, o + 4096); })(), { maxBytes: 1e7 });
      const whole = buildShares(doc, { unknown: [] });
      assert.ok(whole.length > 5, `${dir} ${v}: associations`);
      assert.deepEqual(r.data, whole, `${dir} ${v}`);
      for (const rec of doc.shares.shares) {
        const picked = Object.fromEntries(Object.entries(rec).filter(([k]) => SHARE_FIELDS.has(k)));
        assert.deepEqual(shareEntry(picked, { unknown: [] }), shareEntry(rec, { unknown: [] }), 'shareEntry reads nothing outside SHARE_FIELDS');
      }
    }
  });

  it('reads the flat {"shares": [...]} shape too, and an empty list with errors[] is Slurm\'s error', async () => {
    const doc = JSON.parse(readFileSync(new URL('slurm-25.11.7/rest_v0.0.44_slurm_shares.json', FIX), 'utf8')) as { shares: { shares: unknown[] }; errors: unknown[] };
    const flat = Buffer.from(JSON.stringify({ shares: doc.shares.shares, errors: [] }));
    const r = await readResource('shares', adapterFor('v0.0.44')!, (async function* () { yield flat; })(), { maxBytes: 1e7 });
    assert.equal(r.data.length, doc.shares.shares.length);
    const refused = Buffer.from(JSON.stringify({ shares: { shares: [], total_shares: 0 }, errors: [{ error: 'Protocol authentication error', error_number: 1007 }] }));
    await assert.rejects(readResource('shares', adapterFor('v0.0.44')!, (async function* () { yield refused; })(), { maxBytes: 1e7 }), (e: unknown) => e instanceof SlurmFetchError && e.kind === 'slurm' && /1007/.test(e.message));
  });
});
