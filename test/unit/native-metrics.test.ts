// slurmctld's own metrics (Slurm 25.11, metrics/openmetrics): the parser on every capture and on malformed text,
// the unit corrections, sdiag's figures from /metrics/scheduler against /diag of the same cluster, the native
// source against a real local HTTP server, the native collector under the cardinality limits, and the
// migration table in docs/native-metrics.md.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { OpenMetricsParseError, parseOpenMetrics, parseNumber } from '../../src/slurm/native/openmetrics.ts';
import { toNativeFamilies, unitOf } from '../../src/slurm/native/units.ts';
import { DIAG_FAMILIES, BF_ACTIVE, schedulerStats } from '../../src/slurm/native/diag.ts';
import { NATIVE_FAMILIES } from '../../src/slurm/native/catalog.ts';
import { NativeSource } from '../../src/slurm/native/source.ts';
import { SlurmFetchError } from '../../src/slurm/source.ts';
import { buildDiag } from '../../src/slurm/rest/adapters/common.ts';
import { nativeCollector, nativeName } from '../../src/collectors/native.ts';
import { renderPage } from '../../src/exposition/writer.ts';
import type { NativeEndpoint, NativeFamily, NativeMetrics, SchedulerStats } from '../../src/slurm/model.ts';
import { ctx, lab2Native } from './collectors-helpers.ts';

const DIR = new URL('../fixtures/slurm-25.11.7/', import.meta.url);
const ENDPOINTS: NativeEndpoint[] = ['jobs', 'nodes', 'partitions', 'scheduler', 'jobs-users-accts'];
const MB = 1024 * 1024;
const capture = (e: string) => readFileSync(new URL(`openmetrics_metrics_${e}.txt`, DIR), 'utf8');
const parsed = (e: NativeEndpoint) => toNativeFamilies(parseOpenMetrics(capture(e), `/metrics/${e}`), { unknown: [] });
const fam = (fs: readonly NativeFamily[], name: string) => fs.find((f) => f.name === name)!;

describe('the OpenMetrics parser', () => {
  it('reads every captured endpoint: every HELP a gauge family, every sample line a sample', () => {
    const files = readdirSync(DIR).filter((f) => /^openmetrics_metrics_.+\.txt$/.test(f));
    assert.equal(files.length, 5);
    for (const file of files) {
      const text = readFileSync(new URL(file, DIR), 'utf8');
      const families = parseOpenMetrics(text, file);
      const lines = text.split('\n');
      assert.equal(families.length, lines.filter((l) => l.startsWith('# HELP ')).length, file);
      assert.equal(families.reduce((n, f) => n + f.samples.length, 0), lines.filter((l) => l !== '' && !l.startsWith('#')).length, file);
      for (const f of families) {
        assert.equal(f.type, 'gauge', `${file} ${f.name}`);
        assert.ok(f.help.length > 0 && f.samples.length > 0, `${file} ${f.name}`);
        for (const s of f.samples) assert.ok(Number.isFinite(s.value) && s.timestamp === undefined);
      }
    }
    const nodes = parseOpenMetrics(capture('nodes'), '/metrics/nodes');
    assert.deepEqual(nodes.find((f) => f.name === 'slurm_node_cpus')?.samples[0], { name: 'slurm_node_cpus', labels: { node: 'n1' }, value: 4, timestamp: undefined });
    const headers = readFileSync(new URL('openmetrics_metrics_nodes.txt.headers', DIR), 'utf8');
    assert.match(headers, /Content-Type: text\/plain/);
    assert.ok(!capture('nodes').includes('# EOF'), 'slurmctld leaves # EOF out');
  });

  it('rejects the /metrics index, which is a plain listing, naming the endpoint and line', () => {
    const index = readFileSync(new URL('openmetrics_metrics.txt', DIR), 'utf8');
    assert.throws(() => parseOpenMetrics(index, '/metrics'), (e: unknown) => e instanceof OpenMetricsParseError && e.line === 1 && /^\/metrics: line 1: /.test(e.message));
  });

  it('reads escapes, UNIT, NaN and infinities, timestamps, exemplars, counters and # EOF', () => {
    const text = [
      '# HELP a_total A \\\\ help\\nwith a new line',
      '# TYPE a_total counter',
      '# UNIT a_total seconds',
      'a_total{path="C:\\\\tmp",q="say \\"hi\\"",nl="x\\ny"} 1.5e3 1700000000',
      'a_total_created 17',
      '# TYPE h histogram',
      'h_bucket{le="+Inf"} 3',
      'h_count 3',
      'h_sum 4.5',
      'nan_one NaN',
      'pos_inf{ a = "1" , } +Inf',
      'neg_inf -Inf # {trace_id="x"} 1',
      '',
      '# a plain comment',
      '# EOF',
      '',
    ].join('\n');
    const fs = parseOpenMetrics(text, 't');
    const a = fs[0]!;
    assert.deepEqual([a.name, a.help, a.type, a.unit], ['a_total', 'A \\ help\nwith a new line', 'counter', 'seconds']);
    assert.deepEqual(a.samples[0]?.labels, { path: 'C:\\tmp', q: 'say "hi"', nl: 'x\ny' });
    assert.equal(a.samples[0]?.value, 1500);
    assert.equal(a.samples[0]?.timestamp, 1700000000);
    assert.equal(a.samples.length, 2, '_created belongs to the counter');
    assert.deepEqual(fs.find((f) => f.name === 'h')?.samples.map((s) => s.name), ['h_bucket', 'h_count', 'h_sum']);
    assert.ok(Number.isNaN(fs.find((f) => f.name === 'nan_one')?.samples[0]?.value));
    assert.equal(fs.find((f) => f.name === 'pos_inf')?.samples[0]?.value, Infinity);
    assert.deepEqual(fs.find((f) => f.name === 'pos_inf')?.samples[0]?.labels, { a: '1' });
    assert.equal(fs.find((f) => f.name === 'neg_inf')?.samples[0]?.value, -Infinity);
    assert.equal(fs.find((f) => f.name === 'nan_one')?.type, 'unknown');
    assert.deepEqual([parseNumber('0x10'), parseNumber(''), parseNumber('Inf'), parseNumber('-1.5E-3')], [undefined, undefined, Infinity, -0.0015]);
  });

  it('says which line of which endpoint is malformed and why', () => {
    const cases: [string, RegExp][] = [
      ['ok 1\n9bad 1', /line 2: invalid metric name "9bad"/],
      ['x{a="1} 2', /line 1: label "a": unterminated value/],
      ['x{a=1} 2', /line 1: label "a": value must be in double quotes/],
      ['x{a="1",a="2"} 2', /label "a" given twice/],
      ['x{a="\\q"} 2', /label "a": bad escape/],
      ['x{-a="1"} 2', /invalid label name/],
      ['x{a="1" b="2"} 2', /expected "," or "}"/],
      ['x', /line 1: x: no value/],
      ['x one', /value "one" is not a number/],
      ['x 1 2 3', /unexpected "3"/],
      ['x 1 soon', /timestamp "soon" is not a number/],
      ['# TYPE x gauge\n# TYPE x counter', /line 2: # TYPE for x after its samples or a second time/],
      ['# TYPE x sometype', /unknown type "sometype"/],
      ['# HELP x one\n# HELP x two', /second # HELP for x/],
      ['x 1\n# EOF\ny 2', /line 3: text after # EOF/],
    ];
    for (const [text, want] of cases) {
      assert.throws(() => parseOpenMetrics(text, '/metrics/jobs'), (e: unknown) => e instanceof OpenMetricsParseError && e.endpoint === '/metrics/jobs' && want.test(e.message), text);
    }
  });
});

describe('unit correction', () => {
  it('turns slurmctld\'s megabytes into bytes and microseconds into seconds, and leaves counts and timestamps', () => {
    const nodes = parsed('nodes');
    assert.equal(fam(nodes, 'slurm_node_memory_bytes').samples[0]?.value, 4000 * MB, 'RealMemory=4000 MB');
    assert.equal(fam(nodes, 'slurm_node_memory_bytes').unit, 'bytes');
    assert.equal(fam(nodes, 'slurm_node_memory_alloc_bytes').samples[0]?.value, 1500 * MB);
    assert.equal(fam(nodes, 'slurm_node_cpus').unit, '');
    const parts = parsed('partitions');
    assert.equal(fam(parts, 'slurm_partition_nodes_mem_tot').samples.find((s) => s.labels.partition === 'debug')?.value, 24000 * MB);
    assert.equal(fam(parts, 'slurm_partition_jobs_memory_alloc').unit, 'bytes');
    assert.equal(fam(parsed('jobs'), 'slurm_jobs_memory_alloc').samples[0]?.value, 7000 * MB);
    assert.equal(fam(parsed('jobs-users-accts'), 'slurm_user_jobs_memory_alloc').unit, 'bytes');
    const sched = parsed('scheduler');
    assert.equal(fam(sched, 'slurm_bf_cycle_last').samples[0]?.value, 832e-6);
    assert.equal(fam(sched, 'slurm_sched_mean_cycle').unit, 'seconds');
    assert.equal(fam(sched, 'slurm_sdiag_latency').unit, 'seconds');
    assert.equal(fam(sched, 'slurm_bf_when_last_cycle').samples[0]?.value, 1795504212);
    assert.equal(fam(sched, 'slurm_bf_when_last_cycle').unit, 'timestamp');
    assert.equal(fam(sched, 'slurm_bf_cycle_cnt').unit, '');
    assert.equal(unitOf('slurm_something_new_bytes').unit, 'bytes', 'a new _bytes family is megabytes too');
  });
});

describe('sdiag from /metrics/scheduler', () => {
  const native = schedulerStats(parsed('scheduler'));
  const rest = buildDiag(JSON.parse(readFileSync(new URL('rest_v0.0.44_slurm_diag.json', DIR), 'utf8')) as Record<string, unknown>, { unknown: [] });
  // Threads and agents are counted at the instant of each request (a /diag call occupies a server thread itself).
  const instantaneous = new Set<keyof SchedulerStats>(['serverThreadCount', 'agentCount', 'agentThreadCount', 'agentQueueSize']);
  const notServed = new Set<keyof SchedulerStats>(['scheduleCyclePerMinute', 'rpcByType', 'rpcByUser']);

  it('equals /diag of the same cluster, field by field, for every stable field', () => {
    for (const k of Object.keys(rest) as (keyof SchedulerStats)[]) {
      if (instantaneous.has(k) || notServed.has(k)) continue;
      const a = native[k];
      const b = rest[k];
      if (typeof a === 'number' && typeof b === 'number') assert.ok(Math.abs(a - b) < 1e-12, `${k}: native ${a}, /diag ${b}`);
      else assert.equal(a, b, k);
    }
    assert.equal(native.backfillCycleLastSeconds, 0.000832);
    assert.equal(native.statsResetTime, 1795504122);
    assert.equal(native.backfillActive, false);
  });

  it('fills the instantaneous ones and leaves what slurmctld does not serve undefined', () => {
    for (const k of instantaneous) assert.equal(typeof native[k], 'number', k);
    assert.equal(native.scheduleCyclePerMinute, undefined);
    assert.deepEqual([native.rpcByType, native.rpcByUser], [[], []]);
    const never = schedulerStats(toNativeFamilies(parseOpenMetrics('slurm_bf_when_last_cycle 0\nslurm_bf_active 1', 't'), { unknown: [] }));
    assert.equal(never.backfillLastCycleTime, undefined, 'no backfill cycle yet');
    assert.equal(never.backfillActive, true);
    assert.equal(never.jobsPending, undefined);
  });

  it('reads every scheduler family the docs call covered, and no other', () => {
    const covered = NATIVE_FAMILIES.filter((f) => f.endpoint === 'scheduler' && f.ours !== undefined).map((f) => f.name).sort();
    assert.deepEqual([...DIAG_FAMILIES.map(([, n]) => n), BF_ACTIVE].sort(), covered);
  });
});

/** A stand-in for slurmctld's metrics port, serving the captures; `mode` picks a failure. */
async function fakeSlurmctld(): Promise<{ url: string; server: Server; hits: string[]; mode: { v: string } }> {
  const hits: string[] = [];
  const mode = { v: 'ok' };
  const send = (res: ServerResponse, status: number, body: string | Buffer, extra: Record<string, string> = {}) =>
    res.writeHead(status, { 'Content-Type': 'text/plain', Connection: 'Close', ...extra }).end(body);
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const e = /^\/metrics\/([a-z-]+)$/.exec(req.url ?? '')?.[1];
    if (mode.v === 'hang') return;
    if (mode.v === '500') return send(res, 500, 'internal error');
    if (mode.v === 'garbage') return send(res, 200, 'slurm_ok 1\nslurm_bad{x="1} 2\n');
    if (mode.v === 'big-chunked') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      for (let i = 0; i < 100; i++) res.write(`slurm_filler{i="${i}"} ${'1'.repeat(200)}\n`);
      return res.end();
    }
    if (!e || !ENDPOINTS.includes(e as NativeEndpoint)) return send(res, 404, 'not found');
    send(res, 200, readFileSync(new URL(`openmetrics_metrics_${e}.txt`, DIR)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, hits, mode };
}

const isFetchError = (kind: string, text?: RegExp) => (e: unknown) => e instanceof SlurmFetchError && e.kind === kind && (!text || text.test(e.message));

describe('NativeSource against a local slurmctld stand-in', () => {
  let fake: Awaited<ReturnType<typeof fakeSlurmctld>>;
  const opts = (o: Partial<ConstructorParameters<typeof NativeSource>[0]> = {}) => ({ url: fake.url, requestTimeoutMs: 2000, maxResponseBytes: 1e6, ...o });
  before(async () => {
    fake = await fakeSlurmctld();
  });
  after(() => {
    fake.server.closeAllConnections();
    fake.server.close();
  });

  it('reads every endpoint for the native kind, counting requests and bytes', async () => {
    fake.mode.v = 'ok';
    const src = new NativeSource(opts({ url: `${fake.url}/metrics/` }));
    await src.init();
    const start = fake.hits.length;
    const r = await src.fetch('native', AbortSignal.timeout(5000));
    assert.deepEqual(fake.hits.slice(start), ENDPOINTS.map((e) => `/metrics/${e}`));
    assert.equal(r.requests, 5);
    assert.equal(r.bytes, ENDPOINTS.reduce((n, e) => n + statSync(new URL(`openmetrics_metrics_${e}.txt`, DIR)).size, 0));
    assert.deepEqual(r.anomalies.unknown, []);
    assert.deepEqual(r.data, lab2Native());
    assert.match(src.describe(), /^slurmctld metrics http:\/\/127\.0\.0\.1:\d+ /);
    await src.close();
  });

  it('reads only the configured endpoints, and diag from /metrics/scheduler alone', async () => {
    fake.mode.v = 'ok';
    const src = new NativeSource(opts({ endpoints: ['nodes'] }));
    const r = await src.fetch('native', AbortSignal.timeout(5000));
    assert.deepEqual(Object.keys(r.data.endpoints), ['nodes']);
    const start = fake.hits.length;
    const d = await src.fetch('diag', AbortSignal.timeout(5000));
    assert.deepEqual(fake.hits.slice(start), ['/metrics/scheduler']);
    assert.equal(d.data.jobsPending, 14);
    assert.equal(d.requests, 1);
    await assert.rejects(src.fetch('jobs', AbortSignal.timeout(5000)), isFetchError('unsupported'));
    assert.equal(fake.hits.length, start + 1, 'no request for a kind it does not serve');
  });

  it('turns HTTP errors, a 404, timeouts, oversized and malformed answers into the right error kinds', async () => {
    const src = new NativeSource(opts({ requestTimeoutMs: 300, maxResponseBytes: 10_000 }));
    fake.mode.v = '500';
    await assert.rejects(src.fetch('native', AbortSignal.timeout(5000)), (e: unknown) => isFetchError('http', /HTTP 500: internal error/)(e) && (e as SlurmFetchError).status === 500);
    fake.mode.v = 'hang';
    await assert.rejects(src.fetch('diag', AbortSignal.timeout(5000)), isFetchError('timeout', /\/metrics\/scheduler: no complete answer within 300 ms/));
    fake.mode.v = 'ok';
    await assert.rejects(src.fetch('native', AbortSignal.timeout(5000)), isFetchError('too_large', /over 10000/), 'Content-Length over the limit');
    fake.mode.v = 'big-chunked';
    await assert.rejects(src.fetch('native', AbortSignal.timeout(5000)), isFetchError('too_large'), 'a chunked answer growing over the limit');
    fake.mode.v = 'garbage';
    await assert.rejects(src.fetch('native', AbortSignal.timeout(5000)), isFetchError('parse', /\/metrics\/jobs: line 2: label "x": unterminated value/));
    fake.mode.v = 'ok';
    const wrongPort = new NativeSource(opts({ url: `${fake.url}/nothing-here` }));
    await assert.rejects(wrongPort.fetch('native', AbortSignal.timeout(5000)), isFetchError('unsupported', /MetricsType=metrics\/openmetrics/));
  });

  it('gives the poller\'s own abort reason, and connect for a closed port', async () => {
    fake.mode.v = 'hang';
    const src = new NativeSource(opts());
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(new SlurmFetchError('timeout', 'native: no complete answer within 100 ms')), 100);
    await assert.rejects(src.fetch('native', ctrl.signal), isFetchError('timeout', /within 100 ms/));
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(new NativeSource(opts({ url: `http://127.0.0.1:${port}` })).fetch('native', AbortSignal.timeout(5000)), isFetchError('connect', /ECONNREFUSED/));
    fake.mode.v = 'ok';
  });
});

describe('the native collector', () => {
  const names = (fs: { desc: { name: string } }[]) => fs.map((f) => f.desc.name);

  it('re-exposes only what ours do not cover, renamed, in base units, cluster first', () => {
    const c = ctx({ native: lab2Native() });
    const out = nativeCollector.collect(c);
    const byName = new Map(out.map((f) => [f.desc.name, f]));
    assert.ok(out.every((f) => f.desc.name.startsWith('slurm_native_') && f.desc.labels[0] === 'cluster'));
    for (const f of NATIVE_FAMILIES) {
      const n = nativeName(f.name, unitOf(f.name).unit);
      assert.equal(byName.has(n), f.ours === undefined, `${f.name}: passed through only when ours has no equivalent`);
    }
    assert.deepEqual(byName.get('slurm_native_node_memory_effective_bytes')?.samples[0], { values: ['lab2', 'n1'], value: 4000 * MB });
    assert.deepEqual(byName.get('slurm_native_bf_cycle_tot_seconds')?.samples, [{ values: ['lab2'], value: 3857e-6 }]);
    assert.deepEqual(byName.get('slurm_native_sdiag_job_states_timestamp_seconds')?.samples, [{ values: ['lab2'], value: 1795504212 }]);
    assert.deepEqual(byName.get('slurm_native_partition_nodes_mem_free_bytes')?.samples.map((s) => s.values[1]), ['debug', 'gpu', 'long']);
    assert.deepEqual(byName.get('slurm_native_user_jobs')?.samples, [
      { values: ['lab2', 'grace'], value: 7 }, { values: ['lab2', 'ada'], value: 11 }, { values: ['lab2', 'root'], value: 4 },
    ]);
    assert.equal(byName.get('slurm_native_users_folded')?.samples[0]?.value, 0);
    assert.deepEqual(c.anomalies, []);
  });

  it('with the native source alone, passes through what ours would cover too, except the scheduler figures the scheduler collector gives', () => {
    const c = ctx({ native: lab2Native(true) });
    const byName = new Map(nativeCollector.collect(c).map((f) => [f.desc.name, f]));
    for (const f of NATIVE_FAMILIES) {
      const n = nativeName(f.name, unitOf(f.name).unit);
      assert.equal(byName.has(n), f.ours === undefined || f.endpoint !== 'scheduler', `${f.name} (${f.endpoint})`);
    }
    assert.deepEqual(byName.get('slurm_native_node_memory_bytes')?.samples[0], { values: ['lab2', 'n1'], value: 4000 * MB });
    assert.deepEqual(byName.get('slurm_native_node_cpus_alloc')?.samples[0], { values: ['lab2', 'n1'], value: 3 });
    assert.deepEqual(c.anomalies, [], 'covered families are declared, not unknown');
  });

  it('drops per-node, per-user and per-account families when the limits say so', () => {
    const off = nativeCollector.collect(ctx({ native: lab2Native() }, { perNode: false, perUser: false, perAccount: false }));
    assert.ok(!off.some((f) => f.desc.labels.includes('node') || f.desc.labels.includes('username') || f.desc.labels.includes('account')));
    assert.ok(!names(off).includes('slurm_native_users_folded'));
    assert.ok(names(off).includes('slurm_native_partition_nodes_cpus_efctv'), 'per-partition figures stay');
  });

  it('keeps the users and accounts with the most allocated CPUs and sums the rest under "other"', () => {
    const out = nativeCollector.collect(ctx({ native: lab2Native() }, { maxUsers: 1, maxAccounts: 2 }));
    const get = (n: string) => out.find((f) => f.desc.name === n)!;
    // ada has 6 allocated CPUs, grace 5, root 2.
    assert.deepEqual(get('slurm_native_user_jobs').samples, [{ values: ['lab2', 'other'], value: 11 }, { values: ['lab2', 'ada'], value: 11 }]);
    assert.deepEqual(get('slurm_native_user_jobs_nodes_alloc').samples, [{ values: ['lab2', 'other'], value: 3 }, { values: ['lab2', 'ada'], value: 5 }]);
    assert.equal(get('slurm_native_users_folded').samples[0]?.value, 2);
    assert.deepEqual(get('slurm_native_account_jobs').samples.map((s) => s.values[1]), ['chemistry', 'physics', 'other']);
    assert.equal(get('slurm_native_accounts_folded').samples[0]?.value, 1);
  });

  it('passes a family a newer Slurm adds through under the prefix, noted once per family', () => {
    const data: NativeMetrics = lab2Native();
    const extra = toNativeFamilies(parseOpenMetrics('# HELP slurm_node_gpus_new GPUs\n# TYPE slurm_node_gpus_new gauge\nslurm_node_gpus_new{node="n1",cluster="x"} 2\nslurm_brand_new_bytes 3\n', 't'), { unknown: [] });
    data.endpoints.nodes = [...data.endpoints.nodes!, ...extra];
    const c = ctx({ native: data });
    const out = nativeCollector.collect(c);
    const gpus = out.find((f) => f.desc.name === 'slurm_native_node_gpus_new')!;
    assert.deepEqual(gpus.desc.labels, ['cluster', 'node', 'exported_cluster']);
    assert.deepEqual(gpus.samples, [{ values: ['lab2', 'n1', 'x'], value: 2 }]);
    assert.deepEqual(out.find((f) => f.desc.name === 'slurm_native_brand_new_bytes')?.samples, [{ values: ['lab2'], value: 3 * MB }]);
    assert.equal(c.anomalies.length, 2);
    assert.ok(!nativeCollector.collect(ctx({ native: data }, { perNode: false })).some((f) => f.desc.name === 'slurm_native_node_gpus_new'), 'a new per-node family obeys perNode too');
  });

  const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  it('renders a page promtool accepts', { skip: promtool.status === 0 ? false : 'promtool not installed' }, () => {
    const page = renderPage(nativeCollector.collect(ctx({ native: lab2Native() }, { maxUsers: 1 })), 'text');
    const r = spawnSync('promtool', ['check', 'metrics'], { input: page, encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });
});

describe('docs/native-metrics.md', () => {
  const doc = readFileSync(new URL('../../docs/native-metrics.md', import.meta.url), 'utf8');
  const rows = new Map(doc.split('\n').filter((l) => l.startsWith('| `slurm_')).map((l) => [/^\| `([^`]+)`/.exec(l)![1]!, l]));

  it('maps every family the captures hold, under its endpoint, to ours or to its slurm_native_ name', () => {
    for (const e of ENDPOINTS) {
      const section = doc.slice(doc.indexOf(`## /metrics/${e}\n`));
      for (const f of parseOpenMetrics(capture(e), e)) {
        const row = rows.get(f.name);
        assert.ok(row, `${f.name} (/metrics/${e}) is missing from docs/native-metrics.md`);
        assert.ok(section.includes(row), `${f.name} is listed under /metrics/${e}`);
        const info = NATIVE_FAMILIES.find((x) => x.name === f.name);
        assert.ok(info, `${f.name} is in src/slurm/native/catalog.ts`);
        const want = info.ours ? `\`${info.ours.replace(/\|/g, '\\|')}\`` : `none: passed through as \`${nativeName(f.name, unitOf(f.name).unit)}\``;
        assert.ok(row.includes(want), `${f.name}: ${want}`);
      }
    }
    assert.equal(rows.size, NATIVE_FAMILIES.length, 'no row for a family slurmctld does not serve');
  });
});
