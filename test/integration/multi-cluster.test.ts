// Several clusters in one process: three simulated slurmrestd of different API versions (a 22.05, a 24.05
// and a 25.11), read by one real exporter process from a `clusters:` list. Every Slurm series carries its
// cluster label and each metric family appears once on the page (promtool reads it); each cluster's figures
// are its own; the exporter's own metrics tell the clusters apart; /ready reports each cluster; and one
// cluster failing leaves the others' data and readiness alone, as `required` says.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SlurmSimulator } from '../../src/simulator/server.ts';
import { type ExporterProcess, httpGet, parseSamples, spawnExporter, sumBy, valueOf, waitFor } from '../support/exporter-process.ts';
import { COLLECTOR_GROUPS } from '../../src/slurm/resources.ts';

const CLUSTERS = [
  { name: 'alpha', nodes: 12, jobs: 40, versions: ['v0.0.38'] },
  { name: 'beta', nodes: 20, jobs: 60, versions: ['v0.0.40', 'v0.0.41'] },
  { name: 'gamma', nodes: 7, jobs: 25, versions: ['v0.0.41', 'v0.0.42', 'v0.0.43', 'v0.0.44'] },
];

const tmp = mkdtempSync(path.join(tmpdir(), 'multi-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function config(urls: string[], gammaRequired: boolean): string {
  const file = path.join(tmp, `exporter-${gammaRequired}.yaml`);
  const lines = [
    'server: { stalenessLimit: 4s }',
    'slurm: { user: root }',
    'collectors:',
    ...COLLECTOR_GROUPS.map((g) => `  ${g}: { interval: 1s, timeout: 700ms }`),
    'clusters:',
    ...CLUSTERS.map((c, i) => `  - name: ${c.name}\n    slurm: { url: "${urls[i]}" }${c.name === 'gamma' ? `\n    required: ${gammaRequired}\n    limits: { perUser: false }` : ''}`),
    '',
  ];
  writeFileSync(file, lines.join('\n'));
  return file;
}

async function page(exp: ExporterProcess): Promise<string> {
  const r = await httpGet(`${exp.url}/metrics`);
  assert.equal(r.status, 200);
  return r.text;
}

async function readyJson(exp: ExporterProcess): Promise<{ status: number; body: { ready: boolean; reason: string; clusters: Record<string, { ready: boolean; required: boolean; reason: string }> } }> {
  const r = await httpGet(`${exp.url}/ready`, { accept: 'application/json' });
  return { status: r.status, body: JSON.parse(r.text) };
}

describe('three clusters of different API versions in one process', () => {
  const sims: SlurmSimulator[] = [];
  let exp: ExporterProcess;
  before(async () => {
    const urls: string[] = [];
    for (const c of CLUSTERS) {
      const sim = new SlurmSimulator({ nodes: c.nodes, jobs: c.jobs, versions: c.versions, tickMs: 0, clusterName: `${c.name}-as-slurm-names-it` });
      sims.push(sim);
      urls.push((await sim.start()).url);
    }
    exp = await spawnExporter(['--config.file', config(urls, true)], { env: { SLURM_JWT: undefined } });
    await waitFor('/ready 200', async () => (await httpGet(`${exp.url}/ready`)).status === 200, 20_000);
  });
  after(async () => {
    assert.equal(await exp.stop(), 0);
    await Promise.all(sims.map((s) => s.stop()));
  });

  it('labels every Slurm series with its entry\'s name, and each family appears once (promtool accepts the page)', async () => {
    const text = await page(exp);
    const names = new Set(CLUSTERS.map((c) => c.name));
    for (const line of text.split('\n')) {
      if (!line.startsWith('slurm_') || line.startsWith('slurm_exporter_build') || /^slurm_exporter_(scrape|leader)/.test(line)) continue;
      const cluster = /[{,]cluster="([^"]*)"/.exec(line)?.[1];
      assert.ok(cluster !== undefined && names.has(cluster), line);
    }
    const helps = text.split('\n').filter((l) => l.startsWith('# HELP '));
    assert.equal(new Set(helps).size, helps.length, 'no family is written twice');
    execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  });

  it('gives each cluster its own figures, each read with the API version it serves', async () => {
    const text = await page(exp);
    const nodes = sumBy(text, 'slurm_nodes', 'cluster');
    for (const [i, c] of CLUSTERS.entries()) {
      assert.equal(nodes.get(c.name), sims[i]!.counts().nodes, `${c.name}: slurm_nodes adds up to its node count`);
      assert.match(text, new RegExp(`^slurm_info\\{cluster="${c.name}",version="[^"]+",api_version="${c.versions.at(-1)!.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
    }
    // gamma's own limits: no per-user series for it, while alpha and beta have them.
    const perUser = sumBy(text, 'slurm_user_jobs', 'cluster');
    assert.ok(perUser.get('alpha')! > 0 && perUser.get('beta')! > 0);
    assert.equal(perUser.get('gamma'), undefined);
  });

  it('the exporter\'s own metrics tell the clusters apart', async () => {
    const m = parseSamples(await page(exp));
    for (const c of CLUSTERS) {
      assert.equal(valueOf(m, 'slurm_exporter_collector_success', { cluster: c.name, collector: 'nodes' }), 1, c.name);
      assert.ok(valueOf(m, 'slurm_exporter_slurm_requests_total', { cluster: c.name, endpoint: 'nodes' })! > 0, c.name);
    }
  });

  it('/ready reports each cluster', async () => {
    const r = await readyJson(exp);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body.clusters), ['alpha', 'beta', 'gamma']);
    for (const c of Object.values(r.body.clusters)) assert.deepEqual({ ready: c.ready, required: c.required }, { ready: true, required: true });
  });

  it('one cluster down: its last data stays with its age, the others carry on, /ready names it', async () => {
    sims[2]!.faults.set({ mode: 'refuse' });
    try {
      await waitFor('gamma not ready', async () => (await readyJson(exp)).status === 503, 15_000);
      const r = await readyJson(exp);
      assert.match(r.body.reason, /^cluster gamma: /);
      assert.equal(r.body.clusters.alpha!.ready, true);
      assert.equal(r.body.clusters.beta!.ready, true);
      const before = parseSamples(await page(exp));
      await new Promise((res) => setTimeout(res, 1500));
      const text = await page(exp);
      const m = parseSamples(text);
      assert.ok(valueOf(m, 'slurm_exporter_collector_last_success_timestamp_seconds', { cluster: 'alpha', collector: 'nodes' })! > valueOf(before, 'slurm_exporter_collector_last_success_timestamp_seconds', { cluster: 'alpha', collector: 'nodes' })!, 'alpha keeps polling');
      assert.equal(sumBy(text, 'slurm_nodes', 'cluster').get('gamma'), CLUSTERS[2]!.nodes, 'gamma\'s last good data stays served');
      assert.ok(valueOf(m, 'slurm_exporter_collector_staleness_seconds', { cluster: 'gamma', collector: 'nodes' })! > 1);
      assert.ok([...sumBy(text, 'slurm_exporter_api_errors_total', 'reason', { cluster: 'gamma' }).values()].some((v) => v > 0));
      assert.equal([...sumBy(text, 'slurm_exporter_api_errors_total', 'reason', { cluster: 'alpha' }).values()].reduce((a, b) => a + b, 0), 0);
    } finally {
      sims[2]!.faults.clear();
    }
    await waitFor('ready again', async () => (await httpGet(`${exp.url}/ready`)).status === 200, 15_000);
  });
});

describe('a cluster that is not required', () => {
  it('being down keeps the process ready, and /ready says so', async () => {
    const sims = CLUSTERS.map((c) => new SlurmSimulator({ nodes: c.nodes, jobs: c.jobs, versions: c.versions, tickMs: 0 }));
    const urls = [];
    for (const s of sims) urls.push((await s.start()).url);
    await sims[2]!.stop();
    const exp = await spawnExporter(['--config.file', config(urls, false)], { env: { SLURM_JWT: undefined } });
    try {
      await waitFor('/ready 200 without gamma', async () => (await httpGet(`${exp.url}/ready`)).status === 200, 20_000);
      const r = await readyJson(exp);
      assert.equal(r.body.clusters.gamma!.ready, false);
      assert.equal(r.body.clusters.gamma!.required, false);
      assert.match(r.body.reason, /not required and not ready: gamma/);
      assert.ok(sumBy(await page(exp), 'slurm_nodes', 'cluster').get('alpha')! > 0);
    } finally {
      assert.equal(await exp.stop(), 0);
      await Promise.all(sims.slice(0, 2).map((s) => s.stop()));
    }
  });
});
