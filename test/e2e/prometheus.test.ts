// The README's run command (`bin/slurm-exporter --demo`) scraped by a real Prometheus: the scrape is healthy,
// the stored figures equal the simulated cluster's, promtool accepts the page in both formats.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { type ExporterProcess, httpGet, spawnExporter, sumBy, waitFor } from '../support/exporter-process.ts';
import { type PrometheusProcess, startPrometheus } from '../support/prometheus.ts';

const NODES = 60;
const JOBS = 400;

describe('bin/slurm-exporter --demo, scraped by a real Prometheus', () => {
  let exp: ExporterProcess;
  let prom: PrometheusProcess;
  before(async () => {
    exp = await spawnExporter(['--demo', `--demo.nodes=${NODES}`, `--demo.jobs=${JOBS}`]);
    await waitFor('/ready', async () => (await httpGet(`${exp.url}/ready`)).status === 200, 30_000);
    prom = await startPrometheus({ targets: [new URL(exp.url).host] });
  });
  after(async () => {
    await prom?.stop();
    if (exp) assert.equal(await exp.stop(), 0);
  });

  it('Prometheus scrapes it (up == 1) and stores every node and job the simulator has', async () => {
    const up = await waitFor('up == 1', async () => {
      const r = await prom.query('up{job="slurm"}');
      return r.length === 1 && r[0]!.value[1] === '1' ? r : undefined;
    }, 30_000);
    assert.equal(up[0]!.value[1], '1');
    const nodes = await waitFor('sum(slurm_nodes)', async () => (await prom.query('sum(slurm_nodes)'))[0]);
    assert.equal(Number(nodes.value[1]), NODES);
    // Jobs change state over time, but the simulator keeps their number.
    const jobs = await waitFor('sum(slurm_jobs)', async () => (await prom.query('sum(slurm_jobs)'))[0]);
    assert.equal(Number(jobs.value[1]), JOBS);
    const noCluster = await prom.query('count({__name__=~"slurm_.+",__name__!~"slurm_exporter_.+",cluster=""})');
    assert.deepEqual(noCluster, [], 'every Slurm series has a cluster label');
    const demo = await prom.query('count by (cluster) (slurm_nodes)');
    assert.equal(demo[0]!.metric.cluster, 'demo');
  });

  it('the text page passes promtool check metrics, and the sums match the page itself', async () => {
    const r = await httpGet(`${exp.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    execFileSync('promtool', ['check', 'metrics'], { input: r.text, encoding: 'utf8' });
    const nodes = [...sumBy(r.text, 'slurm_nodes', 'cluster').values()].reduce((a, b) => a + b, 0);
    assert.equal(nodes, NODES);
  });

  it('serves OpenMetrics when asked, ending in # EOF, and gzip when asked', async () => {
    const om = await httpGet(`${exp.url}/metrics`, { accept: 'application/openmetrics-text; version=1.0.0' });
    assert.match(om.headers.get('content-type') ?? '', /^application\/openmetrics-text; version=1\.0\.0/);
    assert.ok(om.text.endsWith('# EOF\n'));
    // Raw bytes: fetch() would transparently decompress.
    const res = await new Promise<{ enc: string | undefined; body: Buffer }>((resolve, reject) => {
      import('node:http').then(({ get }) => {
        get(`${exp.url}/metrics`, { headers: { 'accept-encoding': 'gzip' } }, (m) => {
          const chunks: Buffer[] = [];
          m.on('data', (c: Buffer) => chunks.push(c));
          m.on('end', () => resolve({ enc: m.headers['content-encoding'], body: Buffer.concat(chunks) }));
        }).on('error', reject);
      }, reject);
    });
    assert.equal(res.enc, 'gzip');
    const text = gunzipSync(res.body).toString('utf8');
    assert.match(text, /^slurm_nodes\{cluster="demo",state="idle"\} \d+$/m);
    execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  });
});
