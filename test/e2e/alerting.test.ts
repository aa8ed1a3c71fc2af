// The shipped rules and routing, end to end: a real Prometheus 2.42 loads monitoring/prometheus-rules.yaml
// and scrapes the exporter while it collects from the real Slurm 22.05 lab through a fault proxy; a real
// Alertmanager 0.25 runs monitoring/alertmanager.yaml with its receivers pointed at a local sink (PagerDuty,
// Slack, SMTP). Cutting the proxy fires SlurmApiUnreachable, which reaches exactly the receiver the routing
// names, on every channel of that receiver; restoring the proxy resolves it. Only a test overlay written at
// test time shortens `for:`, the evaluation interval and the grouping timers, and swaps the receivers'
// endpoints: the shipped files are read, never changed.
// A second part posts alerts to a real Alertmanager and reads back which ones the shipped inhibitions hold.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { type ExporterProcess, REPO_ROOT, httpGet, spawnExporter, sumBy, waitFor } from '../support/exporter-process.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { readLabEnv } from '../support/slurm-lab.ts';
import { freePort, startDaemon, type Daemon } from '../support/daemon.ts';
import {
  type AlertmanagerProcess,
  type Channel,
  type NotificationSink,
  alertmanagerTestOverlay,
  receiverChannels,
  startAlertmanager,
  startNotificationSink,
  tool,
} from '../support/alertmanager.ts';
import { COLLECTOR_GROUPS } from '../../src/slurm/resources.ts';

const RULES = path.join(REPO_ROOT, 'monitoring/prometheus-rules.yaml');
const AM_CONFIG = path.join(REPO_ROOT, 'monitoring/alertmanager.yaml');
const JOB = 'slurm-exporter';

interface RuleGroup {
  name: string;
  interval?: string;
  rules: { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string> }[];
}

/** The rules as shipped, with every `for:` of a minute or more cut to `forShort` and no group interval. */
function rulesTestOverlay(text: string, forShort: string): string {
  const doc = parse(text) as { groups: RuleGroup[] };
  for (const g of doc.groups) {
    delete g.interval;
    for (const r of g.rules) if (r.for !== undefined && r.for !== '0m' && r.for !== '0s') r.for = forShort;
  }
  return stringify(doc);
}

/** amtool's answer for a label set against the SHIPPED configuration: the receivers, in order. */
function shippedReceivers(labels: Record<string, string>): string[] {
  const out = execFileSync(tool('amtool'), ['config', 'routes', 'test', `--config.file=${AM_CONFIG}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out.trim().split(',').filter(Boolean);
}

interface PromQuery {
  (promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
}

describe('shipped rules and routing, end to end against the Slurm lab', { timeout: 120_000 }, () => {
  const lab = readLabEnv();
  let dir: string;
  let sink: NotificationSink;
  let am: AlertmanagerProcess;
  let proxy: FaultProxy;
  let exp: ExporterProcess;
  let prom: Daemon;
  let promUrl: string;
  let query: PromQuery;
  const t0 = Date.now();

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'alerting-e2e-'));
    sink = await startNotificationSink();
    am = await startAlertmanager({ config: alertmanagerTestOverlay(readFileSync(AM_CONFIG, 'utf8'), sink, dir) });

    const u = new URL(lab.SLURM_REST_URL);
    proxy = new FaultProxy({ host: u.hostname, port: Number(u.port) });
    const slurmUrl = await proxy.start();
    const conf = path.join(dir, 'exporter.yaml');
    writeFileSync(conf, ['server:', '  stalenessLimit: 5s', 'collectors:', ...COLLECTOR_GROUPS.map((g) => `  ${g}: { interval: 1s, timeout: 800ms }`), ''].join('\n'));
    exp = await spawnExporter(['--slurm.url', slurmUrl, '--config.file', conf], { env: { SLURM_JWT: lab.SLURM_JWT, SLURM_USER: lab.SLURM_USER } });
    await waitFor('exporter /ready', async () => (await httpGet(`${exp.url}/ready`)).status === 200, 30_000);

    const rules = path.join(dir, 'rules.yaml');
    writeFileSync(rules, rulesTestOverlay(readFileSync(RULES, 'utf8'), '3s'));
    execFileSync(tool('promtool'), ['check', 'rules', rules], { stdio: 'pipe' });
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const promDir = path.join(dir, 'prometheus');
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        rule_files: [rules],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(am.url).host] }] }] },
        scrape_configs: [{ job_name: JOB, static_configs: [{ targets: [new URL(exp.url).host] }] }],
      }),
    );
    prom = await startDaemon({
      binary: '/usr/bin/prometheus',
      pkg: 'prometheus',
      dir: promDir,
      args: [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      what: 'Prometheus /-/ready',
      ready: async () => (await fetch(`${promUrl}/-/ready`)).ok,
      timeoutMs: 30_000,
    });
    query = async (promql) => {
      const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error}`);
      return body.data.result;
    };
  });

  after(async () => {
    await prom?.stop();
    const code = exp ? await exp.stop() : 0;
    await proxy?.stop();
    await am?.stop();
    await sink?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, 'the exporter exits 0 on SIGTERM');
    assert.ok(Date.now() - t0 < 90_000, `the whole test took ${Math.round((Date.now() - t0) / 1000)} s`);
  });

  it('Prometheus scrapes the exporter (up == 1) and the recording rules evaluate on the lab data', async () => {
    await waitFor('up{job="slurm-exporter"} == 1', async () => (await query(`up{job="${JOB}"} == 1`)).length === 1, 30_000);
    // Per-partition CPU utilisation: the recorded ratio equals the one computed from the exporter's own page.
    const recorded = await waitFor('slurm_partition:cpus_allocated:ratio', async () => {
      const r = await query('slurm_partition:cpus_allocated:ratio{cluster="lab"}');
      return r.length > 0 ? r : undefined;
    }, 20_000);
    for (const s of recorded) {
      assert.equal(s.metric.job, JOB);
      assert.equal(s.metric.instance, undefined, 'deduplicated over replicas: no instance label');
    }
    // The lab's workload moves (jobs start and time out): compare once the page and the recorded series agree
    // on the same poll, which is within a scrape and an evaluation (1 s each).
    let last = '';
    await waitFor('recorded CPU ratios equal the page\'s', async () => {
      const page = (await httpGet(`${exp.url}/metrics`)).text;
      const cpus = sumBy(page, 'slurm_partition_cpus', 'partition', { cluster: 'lab' });
      const alloc = sumBy(page, 'slurm_partition_cpus_allocated', 'partition', { cluster: 'lab' });
      const rec = await query('slurm_partition:cpus_allocated:ratio{cluster="lab"}');
      const want = [...cpus].map(([p, n]) => `${p}=${(alloc.get(p)! / n).toFixed(6)}`).sort();
      const got = rec.map((s) => `${s.metric.partition}=${Number(s.value[1]).toFixed(6)}`).sort();
      last = `page ${want.join(' ')}; recorded ${got.join(' ')}`;
      return want.length > 0 && JSON.stringify(want) === JSON.stringify(got);
    }, 20_000, 250).catch((err: Error) => assert.fail(`${err.message}: ${last}`));
    // The SLIs: every scrape succeeded, nothing failed yet.
    const avail = await waitFor('availability SLI', async () => (await query(`slurm_exporter:sli_availability_errors:ratio_rate5m{job="${JOB}"}`))[0], 10_000);
    assert.equal(Number(avail.value[1]), 0);
    const errors = await waitFor('error SLI', async () => (await query(`slurm_exporter:sli_errors:ratio_rate5m{job="${JOB}"}`))[0], 10_000);
    assert.equal(Number(errors.value[1]), 0, 'no failed scrape, no failed Slurm request');
    const latency = await waitFor('latency SLI', async () => (await query(`slurm_exporter:sli_latency_errors:ratio_rate5m{job="${JOB}"}`))[0], 10_000);
    assert.equal(Number(latency.value[1]), 0, 'every scrape under 5 s');
    const waits = await query('slurm_partition:job_queue_wait_seconds:p50_rate1h{cluster="lab"}');
    assert.ok(waits.length > 0, 'wait quantiles are recorded per partition');
    assert.deepEqual(await query('ALERTS{alertname="SlurmApiUnreachable"}'), [], 'not firing while slurmrestd answers');
  });

  let firingLabels: Record<string, string> = {};
  let expected: string[] = [];

  it('cutting slurmrestd off fires SlurmApiUnreachable, delivered to the receiver the routing names on each of its channels', async () => {
    const cutAt = Date.now();
    proxy.set({ mode: 'reset' });
    const firing = await waitFor('SlurmApiUnreachable firing in Prometheus', async () => {
      const r = await query('ALERTS{alertname="SlurmApiUnreachable", alertstate="firing"}');
      return r[0];
    }, 30_000);
    firingLabels = Object.fromEntries(Object.entries(firing.metric).filter(([k]) => k !== '__name__' && k !== 'alertstate'));
    assert.equal(firingLabels.job, JOB);
    assert.equal(firingLabels.instance, new URL(exp.url).host);
    assert.equal(firingLabels.priority, 'P0');
    assert.equal(firingLabels.category, 'slurm');
    // What the shipped routing says, from amtool: the P0 receiver.
    expected = shippedReceivers(firingLabels);
    assert.deepEqual(expected, ['oncall-critical']);
    const channels = receiverChannels(readFileSync(AM_CONFIG, 'utf8'));
    const want = expected.flatMap((r) => channels.get(r)!.map((c) => `${r}/${c}`)).sort();
    assert.deepEqual(want, ['oncall-critical/email', 'oncall-critical/pagerduty', 'oncall-critical/slack'], 'P0 pages, posts and mails at once');

    const ours = (status: string) => sink.notifications.filter((n) => n.status === status && n.at >= cutAt && n.text.includes('SlurmApiUnreachable'));
    await waitFor('a firing notification on every channel', async () => {
      const got = new Set(ours('firing').map((n) => `${n.receiver}/${n.channel}`));
      return want.every((w) => got.has(w));
    }, 30_000, 100);
    const firingNotes = ours('firing');
    assert.deepEqual([...new Set(firingNotes.map((n) => n.receiver))], expected, 'no other receiver got it');
    // What each channel carries: the annotations, the runbook, the P0 subject.
    const byChannel = (c: Channel) => firingNotes.find((n) => n.channel === c)!.text;
    const pd = JSON.parse(byChannel('pagerduty')) as { event_action: string; payload: { severity: string; summary: string }; links: { href: string }[] };
    assert.equal(pd.event_action, 'trigger');
    assert.equal(pd.payload.severity, 'critical');
    assert.match(pd.payload.summary, /SlurmApiUnreachable/);
    assert.match(pd.links[0]!.href, /docs\/runbooks\.md#slurmapiunreachable$/);
    const slack = JSON.parse(byChannel('slack')) as { channel: string; attachments: { title: string; text: string }[] };
    assert.equal(slack.channel, '#slurm-oncall');
    assert.match(slack.attachments[0]!.title, /^\[FIRING:1\] P0 SlurmApiUnreachable$/);
    assert.match(slack.attachments[0]!.text, /cannot reach slurmrestd/);
    assert.match(slack.attachments[0]!.text, /Every collector group of 127\.0\.0\.1:\d+ \(slurm-exporter\) failed its last poll/);
    assert.match(slack.attachments[0]!.text, /runbooks\.md#slurmapiunreachable/);
    assert.match(byChannel('email'), /^Subject: \[P0 FIRING\] SlurmApiUnreachable/m);
    assert.match(byChannel('email'), /^To: slurm-oncall@example\.org/m);
    // The same alert as Alertmanager holds it.
    const held = (await am.alerts()).find((a) => a.labels.alertname === 'SlurmApiUnreachable')!;
    assert.deepEqual(held.receivers.map((r) => r.name), expected);
    assert.equal(held.status.state, 'active');
  });

  it('restoring the path resolves it: every channel gets the resolved notification', async () => {
    assert.ok(expected.length > 0, 'the firing test ran');
    const restoredAt = Date.now();
    proxy.set({ mode: 'pass' });
    await waitFor('SlurmApiUnreachable gone from Prometheus', async () => (await query('ALERTS{alertname="SlurmApiUnreachable"}')).length === 0, 30_000);
    const channels = receiverChannels(readFileSync(AM_CONFIG, 'utf8'));
    const want = expected.flatMap((r) => channels.get(r)!.map((c) => `${r}/${c}`));
    await waitFor('a resolved notification on every channel', async () => {
      const got = new Set(
        sink.notifications.filter((n) => n.status === 'resolved' && n.at >= restoredAt && n.text.includes('SlurmApiUnreachable')).map((n) => `${n.receiver}/${n.channel}`),
      );
      return want.every((w) => got.has(w));
    }, 30_000, 100);
    const resolved = sink.notifications.filter((n) => n.status === 'resolved' && n.at >= restoredAt && n.text.includes('SlurmApiUnreachable'));
    assert.equal((JSON.parse(resolved.find((n) => n.channel === 'pagerduty')!.text) as { event_action: string }).event_action, 'resolve');
    assert.match(resolved.find((n) => n.channel === 'email')!.text, /^Subject: \[P0 RESOLVED\] SlurmApiUnreachable/m);
    assert.equal((await httpGet(`${exp.url}/ready`)).status, 200, 'the exporter serves fresh data again');
  });
});

describe('the shipped inhibitions, in a real Alertmanager', { timeout: 60_000 }, () => {
  let dir: string;
  let sink: NotificationSink;
  let am: AlertmanagerProcess;
  const staticLabels = new Map<string, Record<string, string>[]>();

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'inhibit-e2e-'));
    sink = await startNotificationSink();
    am = await startAlertmanager({ config: alertmanagerTestOverlay(readFileSync(AM_CONFIG, 'utf8'), sink, dir) });
    for (const g of (parse(readFileSync(RULES, 'utf8')) as { groups: RuleGroup[] }).groups) {
      for (const r of g.rules) if (r.alert) staticLabels.set(r.alert, [...(staticLabels.get(r.alert) ?? []), r.labels ?? {}]);
    }
  });
  after(async () => {
    await am?.stop();
    await sink?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** An alert as Prometheus would send it: the rule's own labels plus the series' labels. */
  const alert = (name: string, labels: Record<string, string>, variant: Record<string, string> = {}): Record<string, string> => {
    const rules = staticLabels.get(name);
    assert.ok(rules, `no alert ${name} in the rules`);
    const rule = rules.find((l) => Object.entries(variant).every(([k, v]) => l[k] === v));
    assert.ok(rule, `no ${name} rule with ${JSON.stringify(variant)}`);
    return { alertname: name, ...rule, ...labels };
  };

  // [why, source, target, inhibited]. Each row has its own job and cluster, so rows do not touch each other.
  const rows: [string, (i: number) => Record<string, string>, (i: number) => Record<string, string>, boolean][] = [
    ['exporter down holds back a replica of the same job', (i) => alert('SlurmExporterDown', { job: `j${i}` }), (i) => alert('SlurmExporterReplicaDown', { job: `j${i}`, instance: 'a:9341' }), true],
    ['exporter down holds back stale data of the same job', (i) => alert('SlurmExporterDown', { job: `j${i}` }), (i) => alert('SlurmExporterCollectorStale', { job: `j${i}`, collector: 'nodes' }), true],
    ['exporter down holds back HA alerts of the same job', (i) => alert('SlurmExporterDown', { job: `j${i}` }), (i) => alert('SlurmExporterTooFewReplicas', { job: `j${i}` }), true],
    ['exporter down does not hold back another job', (i) => alert('SlurmExporterDown', { job: `j${i}` }), (i) => alert('SlurmExporterReplicaDown', { job: `other${i}`, instance: 'a:9341' }), false],
    ['exporter down does not hold back Slurm alerts', (i) => alert('SlurmExporterDown', { job: `j${i}` }), (i) => alert('SlurmPartitionDown', { job: `j${i}`, cluster: `c${i}`, partition: 'maint', state: 'down' }), false],
    ['Slurm API down holds back missing metrics', (i) => alert('SlurmApiUnreachable', { job: `j${i}`, instance: 'a:9341' }), (i) => alert('SlurmExporterMissingMetrics', { job: `j${i}` }), true],
    ['Slurm API down holds back stale collectors', (i) => alert('SlurmApiUnreachable', { job: `j${i}`, instance: 'a:9341' }), (i) => alert('SlurmExporterCollectorStale', { job: `j${i}`, collector: 'jobs' }), true],
    ['Slurm API down holds back the error rate of that replica', (i) => alert('SlurmApiUnreachable', { job: `j${i}`, instance: 'a:9341' }), (i) => alert('SlurmExporterHighErrorRate', { job: `j${i}`, instance: 'a:9341' }), true],
    ['Slurm API down on one replica does not hold back the error rate of another', (i) => alert('SlurmApiUnreachable', { job: `j${i}`, instance: 'a:9341' }), (i) => alert('SlurmExporterHighErrorRate', { job: `j${i}`, instance: 'b:9341' }), false],
    ['Slurm API down does not hold back Slurm alerts', (i) => alert('SlurmApiUnreachable', { job: `j${i}`, instance: 'a:9341' }), (i) => alert('SlurmJobsNodeFail', { job: `j${i}`, cluster: `c${i}`, partition: 'batch' }), false],
    ['cluster-wide nodes down holds back a partition of that cluster', (i) => alert('SlurmClusterNodesUnavailable', { job: `j${i}`, cluster: `c${i}` }), (i) => alert('SlurmPartitionNodesUnavailable', { job: `j${i}`, cluster: `c${i}`, partition: 'gpu' }), true],
    ['cluster-wide nodes down does not hold back another cluster', (i) => alert('SlurmClusterNodesUnavailable', { job: `j${i}`, cluster: `c${i}` }), (i) => alert('SlurmPartitionNodesUnavailable', { job: `j${i}`, cluster: `d${i}`, partition: 'gpu' }), false],
    ['cluster-wide nodes down does not hold back another family', (i) => alert('SlurmClusterNodesUnavailable', { job: `j${i}`, cluster: `c${i}` }), (i) => alert('SlurmPartitionGPUsUnavailable', { job: `j${i}`, cluster: `c${i}`, partition: 'gpu', model: 'a100' }), false],
    ['cluster-wide a100 GPUs holds back the a100 GPUs of a partition', (i) => alert('SlurmClusterGPUsUnavailable', { job: `j${i}`, cluster: `c${i}`, model: 'a100' }), (i) => alert('SlurmPartitionGPUsUnavailable', { job: `j${i}`, cluster: `c${i}`, partition: 'gpu', model: 'a100' }), true],
    ['cluster-wide a100 GPUs does not hold back h100 GPUs', (i) => alert('SlurmClusterGPUsUnavailable', { job: `j${i}`, cluster: `c${i}`, model: 'a100' }), (i) => alert('SlurmPartitionGPUsUnavailable', { job: `j${i}`, cluster: `c${i}`, partition: 'gpu', model: 'h100' }), false],
    ['cluster-wide queue wait holds back a partition queue wait', (i) => alert('SlurmClusterQueueWaitRising', { job: `j${i}`, cluster: `c${i}` }), (i) => alert('SlurmPartitionQueueWaitRising', { job: `j${i}`, cluster: `c${i}`, partition: 'batch' }), true],
    ['no slurmctld holds back other Slurm alerts of the cluster', (i) => alert('SlurmControllerDown', { job: `j${i}`, cluster: `c${i}` }), (i) => alert('SlurmPartitionDown', { job: `j${i}`, cluster: `c${i}`, partition: 'batch', state: 'down' }), true],
    ['no slurmctld does not hold back another cluster', (i) => alert('SlurmControllerDown', { job: `j${i}`, cluster: `c${i}` }), (i) => alert('SlurmControllerDown', { job: `j${i}`, cluster: `d${i}` }), false],
    ['the burn-rate page holds back the ticket of the same SLO', (i) => alert('SlurmExporterErrorBudgetBurn', { job: `j${i}` }, { long_window: '1h' }), (i) => alert('SlurmExporterErrorBudgetBurn', { job: `j${i}` }, { long_window: '1d' }), true],
    ['the burn-rate page does not hold back another SLO', (i) => alert('SlurmExporterErrorBudgetBurn', { job: `j${i}` }, { long_window: '1h' }), (i) => alert('SlurmExporterLatencyBudgetBurn', { job: `j${i}` }, { long_window: '1d' }), false],
  ];

  it('holds back exactly the alerts it should', async () => {
    const posted = rows.map(([why, src, dst, inhibited], i) => ({ why, source: src(i), target: dst(i), inhibited }));
    await am.post(posted.flatMap((r) => [{ labels: r.source }, { labels: r.target }]));
    const key = (l: Record<string, string>) => JSON.stringify(Object.entries(l).sort());
    const state = async () => new Map((await am.alerts()).map((a) => [key(a.labels), a]));
    // Inhibition is decided as the alerts arrive: wait until every expected one is held back.
    await waitFor('the expected inhibitions', async () => {
      const s = await state();
      return posted.every((r) => s.has(key(r.source)) && s.has(key(r.target)) && (!r.inhibited || s.get(key(r.target))!.status.inhibitedBy.length > 0));
    }, 20_000, 200);
    const s = await state();
    for (const r of posted) {
      const target = s.get(key(r.target))!;
      const source = s.get(key(r.source))!;
      assert.equal(target.status.inhibitedBy.length > 0, r.inhibited, r.why);
      if (r.inhibited) assert.deepEqual(target.status.inhibitedBy, [source.fingerprint], `${r.why}: by its source`);
      if (key(r.source) !== key(r.target)) assert.deepEqual(source.status.inhibitedBy, [], `${r.why}: the source itself is not held back`);
    }
  });
});
