// The monitoring-data backup against a real Prometheus (admin API on): it scrapes a static exporter for a few
// seconds, the source snapshots it, the snapshot's files are written into a fresh data directory, and a second
// Prometheus started on that directory answers an old series at its old timestamp with the old value.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PrometheusSource, createSource } from '../../src/backup/sources/prometheus.ts';
import type { SourceContext, SourceFile } from '../../src/backup/types.ts';
import { waitFor } from '../support/exporter-process.ts';
import { type PrometheusProcess, startPrometheus } from '../support/prometheus.ts';

type Sample = { metric: Record<string, string>; value: [number, string] };

/** An instant query at `timeSec` (the helper's query() has no time). */
async function queryAt(prom: PrometheusProcess, promql: string, timeSec: number): Promise<Sample[]> {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(promql)}&time=${timeSec}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: Sample[] } };
  if (body.status !== 'success') throw new Error(`query ${promql} at ${timeSec} on ${prom.url}: ${body.error}`);
  return body.data.result;
}

/** A static exporter whose counter counts its scrapes, so each instant has its own value. */
async function startProbe(): Promise<{ host: string; close: () => Promise<void> }> {
  let scrapes = 0;
  const srv = http.createServer((_req, res) => {
    scrapes++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE dr_probe_scrapes_total counter\ndr_probe_scrapes_total{site="a"} ${scrapes}\n`);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(srv.address() as AddressInfo).port}`, close: () => new Promise((r) => srv.close(() => r())) };
}

async function writeFile(root: string, rel: string, file: SourceFile): Promise<number> {
  const parts: Buffer[] = [];
  for await (const c of file.read()) parts.push(Buffer.from(c));
  const bytes = Buffer.concat(parts);
  assert.equal(bytes.length, file.size, `${file.path}: size`);
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), bytes, { mode: file.mode });
  return bytes.length;
}

describe('Prometheus TSDB snapshot backup, restored into a second Prometheus', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'backup-prom-'));
  const dataDir = path.join(work, 'data');
  const restored = path.join(work, 'restored');
  let probe: Awaited<ReturnType<typeof startProbe>>;
  let first: PrometheusProcess | undefined;
  let second: PrometheusProcess | undefined;
  const logs: string[] = [];
  const ctx: SourceContext = { signal: AbortSignal.timeout(120_000), log: (m, f) => logs.push(`${m} ${JSON.stringify(f ?? {})}`), encrypted: false };

  before(async () => {
    probe = await startProbe();
    first = await startPrometheus({ targets: [probe.host], adminApi: true, dataDir });
  });
  after(async () => {
    await second?.stop();
    await first?.stop();
    await probe?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('the old series, at its old timestamp, is served by a Prometheus started on the restored snapshot', async () => {
    const prom = first!;
    await waitFor('five scrapes of the probe', async () => Number((await prom.query('dr_probe_scrapes_total'))[0]?.value[1] ?? 0) >= 5, 30_000);
    const at = Math.floor(Date.now() / 1000) - 2;
    const [old] = await queryAt(prom, 'dr_probe_scrapes_total', at);
    assert.ok(old, 'the first Prometheus has the series');

    const source = new PrometheusSource({ url: prom.url, dataDir });
    assert.equal(source.type, 'monitoring');
    const t0 = performance.now();
    let bytes = 0;
    const seen: string[] = [];
    for await (const f of source.collect(ctx)) {
      seen.push(f.path);
      if (f.path.startsWith('tsdb/')) bytes += await writeFile(restored, f.path.slice('tsdb/'.length), f);
      else await writeFile(path.join(work, 'api'), f.path, f);
    }
    const ms = performance.now() - t0;
    console.log(`snapshot: ${seen.filter((p) => p.startsWith('tsdb/')).length} TSDB files, ${(bytes / 1024).toFixed(0)} KiB, ${ms.toFixed(0)} ms`);
    assert.ok(seen.some((p) => /^tsdb\/[0-9A-Z]{26}\/meta\.json$/.test(p)), `a block in the snapshot: ${seen.join(', ')}`);
    assert.deepEqual(seen.filter((p) => p.startsWith('api/')).sort(), ['api/config.json', 'api/rules.json', 'api/targets.json']);
    assert.deepEqual(readdirSync(path.join(dataDir, 'snapshots')), [], 'the snapshot directory is removed afterwards');

    // A consumer may gather every file before reading one (to write a manifest first): the snapshot must outlive
    // the listing until the last read, then go.
    const gathered: SourceFile[] = [];
    for await (const f of source.collect(ctx)) gathered.push(f);
    assert.equal(readdirSync(path.join(dataDir, 'snapshots')).length, 1, 'kept while files are unread');
    for (const f of gathered) await writeFile(path.join(work, 'again'), f.path, f);
    assert.deepEqual(readdirSync(path.join(dataDir, 'snapshots')), [], 'removed after the last read');

    await first!.stop();
    first = undefined;
    second = await startPrometheus({ targets: [], dataDir: restored });
    const [back] = await queryAt(second, 'dr_probe_scrapes_total', at);
    assert.ok(back, `the restored Prometheus has no dr_probe_scrapes_total at ${at}`);
    assert.deepEqual(back.metric, old.metric);
    assert.deepEqual(back.value, old.value);
  });

  it('a Prometheus without the admin API is refused with the flag to set', async () => {
    assert.ok(second, 'runs after the restore');
    const source = new PrometheusSource({ url: second.url, dataDir: restored });
    const files = async () => {
      for await (const f of source.collect(ctx)) void f;
    };
    await assert.rejects(files(), /^Error: Prometheus POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/admin\/tsdb\/snapshot\?skip_head=false: HTTP \d+: admin APIs disabled \(start Prometheus with --web\.enable-admin-api\)$/);
    assert.ok(!existsSync(path.join(restored, 'snapshots')) || readdirSync(path.join(restored, 'snapshots')).length === 0);
  });

  it('createSource reads backup.prometheus and names what is missing', () => {
    assert.throws(() => createSource({ backup: {} }, {}), /^Error: backup\.prometheus\.url is not set: the monitoring backup needs it$/);
    assert.throws(() => createSource({ backup: { prometheus: { url: 'http://p:9090' } } }, {}), /backup\.prometheus\.dataDir is not set/);
    assert.throws(() => createSource({ backup: { prometheus: { url: 'http://p:9090', dataDir, basicAuth: { username: 'u' } } } }, {}), /basicAuth needs both username and passwordFile/);
    const src = createSource({ backup: { prometheus: { url: 'http://p:9090', dataDir, bearerTokenFile: '/run/token' } } }, {}) as PrometheusSource;
    assert.equal(src.describe(), `Prometheus TSDB snapshot from http://p:9090 (data dir ${dataDir})`);
  });

  it('a URL with credentials in it is refused, so they cannot reach describe() or an error', () => {
    assert.throws(() => new PrometheusSource({ url: 'http://admin:pw@127.0.0.1:9090', dataDir }), /the URL must not carry credentials/);
    assert.equal(new PrometheusSource({ url: 'http://127.0.0.1:9090/prom/', dataDir }).describe(), `Prometheus TSDB snapshot from http://127.0.0.1:9090/prom (data dir ${dataDir})`);
  });
});
