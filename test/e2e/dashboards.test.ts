// Every query of every dashboard in monitoring/dashboards/, run for real: two exporter replicas in
// active-passive leader election (Kubernetes Lease backend against the in-repo API fake) on the simulated
// cluster (--demo: GPUs of several models, many users and accounts, a reservation, licenses, fairshare,
// slurmdbd statistics), every collector group polled every 1-2 s, scraped every second by a real Prometheus.
// Each panel target and each variable query, with the dashboard variables replaced as Grafana would
// ($cluster → the demo cluster, All → .*, $__rate_interval and $__range → 1m), must return at least one
// series with a finite value: a panel that would show "No data" on a healthy cluster fails here. The "Backups"
// row and its $backup_job variable read a real `slurm-exporter backup schedule` (a local destination, --run-now
// so a backup is stored and verified at start-up, not at the next scheduled minute), scraped as its own job.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, type ExporterProcess, httpGet, spawnExporter, waitFor } from '../support/exporter-process.ts';
import { freePort } from '../support/daemon.ts';
import { type PrometheusProcess, startPrometheus } from '../support/prometheus.ts';
import { FakeKubeApi, documentedRole } from '../support/fake-kube-api.ts';
import { COLLECTOR_GROUPS } from '../../src/slurm/resources.ts';
import { DASHBOARD_DIR } from '../../scripts/gen-dashboards.ts';

const NODES = 80;
const JOBS = 600;
const REPLICAS = ['r1', 'r2'];
/** How long the queries may take to all return data (rate windows filling, jobs starting and ending). */
const DATA_DEADLINE_MS = 40_000;

/** Groups whose data changes with every simulator tick are polled every second, the rest every 2 s. */
const INTERVALS: Record<string, string> = { cluster: '1s', nodes: '1s', jobs: '1s', partitions: '1s', scheduler: '1s' };

/** Grafana's variables, as a user looking at the demo cluster with everything else on All would have them. */
const VARIABLES: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '1m',
  __range: '1m',
  cluster: 'demo',
  partition: '.*',
  job: 'slurm',
  instance: '.*',
  backup_job: '.*',
};

/** The scrape job of the `backup schedule` process (Grafana's $backup_job, on All here). */
const BACKUP_JOB = 'slurm-exporter-backup';

function substitute(expr: string): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    const v = VARIABLES[name];
    if (v === undefined) throw new Error(`no value for $${name} in ${expr}`);
    return v;
  });
}

interface Query {
  where: string;
  expr: string;
}

type Json = Record<string, unknown>;

/** Every panel target and variable query of every dashboard file, variables substituted. */
function dashboardQueries(): Query[] {
  const out: Query[] = [];
  for (const file of readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json')).sort()) {
    const d = JSON.parse(readFileSync(path.join(DASHBOARD_DIR, file), 'utf8')) as Json;
    // Panels follow their row in the top-level list (or sit in a collapsed row's panels).
    const panels: Json[] = [];
    for (const p of (d.panels ?? []) as Json[]) {
      panels.push(p, ...((p.panels ?? []) as Json[]));
    }
    for (const p of panels) {
      for (const t of (p.targets ?? []) as Json[]) out.push({ where: `${file} "${String(p.title)}" ${String(t.refId)}`, expr: substitute(String(t.expr)) });
    }
    for (const v of ((d.templating as { list: Json[] }).list ?? []).filter((x) => x.type === 'query')) {
      // label_values(selector, label) is what Grafana asks Prometheus' series API; the same as a group by.
      const m = /^label_values\((.+),\s*(\w+)\)$/.exec(String(v.query));
      assert.ok(m, `${file} variable ${String(v.name)}`);
      out.push({ where: `${file} variable ${String(v.name)}`, expr: substitute(`group by (${m[2]}) (${m[1]})`) });
    }
  }
  return out;
}

describe('the Grafana dashboards against the demo cluster, scraped by a real Prometheus', () => {
  let api: FakeKubeApi;
  let dir: string;
  const replicas: ExporterProcess[] = [];
  let prom: PrometheusProcess;
  let backup: ChildProcess | undefined;
  const backupOutput: string[] = [];

  before(async () => {
    api = new FakeKubeApi({ tokens: REPLICAS.map((id) => `token-${id}`), rules: documentedRole().rules });
    const apiUrl = await api.start();
    dir = mkdtempSync(path.join(tmpdir(), 'dashboards-e2e-'));
    for (const id of REPLICAS) {
      const kubeconfig = path.join(dir, `${id}.kubeconfig`);
      writeFileSync(
        kubeconfig,
        `apiVersion: v1\nkind: Config\ncurrent-context: t\ncontexts: [{name: t, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: "${apiUrl}"}}]\nusers: [{name: u, user: {token: token-${id}}}]\n`,
      );
      const config = path.join(dir, `${id}.yaml`);
      writeFileSync(
        config,
        [
          'server:',
          '  leaderElection:',
          '    enabled: true',
          '    backend: kubernetes',
          '    mode: active-passive',
          '    retryPeriod: 1s',
          `    identity: ${id}`,
          '    namespace: monitoring',
          '    leaseName: slurm-exporter-dashboards',
          `    kubeconfig: ${kubeconfig}`,
          'slurm:',
          '  rateLimit:',
          '    enabled: false',
          'collectors:',
          ...COLLECTOR_GROUPS.map((g) => {
            const interval = INTERVALS[g] ?? '2s';
            return `  ${g}: { interval: ${interval}, timeout: ${interval === '1s' ? '900ms' : '1500ms'} }`;
          }),
          '',
        ].join('\n'),
      );
      replicas.push(await spawnExporter(['--demo', `--demo.nodes=${NODES}`, `--demo.jobs=${JOBS}`, `--config.file=${config}`]));
    }
    await waitFor('one leader', async () => {
      let leaders = 0;
      for (const r of replicas) if ((JSON.parse((await httpGet(`${r.url}/leader`)).text) as { is_leader: boolean }).is_leader) leaders++;
      return leaders === 1;
    }, 20_000);
    // The backup metrics: `backup schedule` with a local destination and an encryption key, configuration only (the
    // deployment and certificates types need a Kubernetes API and a web config, which this setup has not),
    // backed up and verified once at start-up.
    const store = path.join(dir, 'backups');
    mkdirSync(store);
    writeFileSync(path.join(dir, 'backup.key'), randomBytes(32).toString('hex'), { mode: 0o600 });
    const backupPort = await freePort();
    const backupConfig = path.join(dir, 'backup.yaml');
    writeFileSync(
      backupConfig,
      [
        'backup:',
        `  listenAddress: 127.0.0.1:${backupPort}`,
        '  deployment: { enabled: false }',
        '  certificates: { enabled: false }',
        '  logs: { enabled: false }',
        '  primary:',
        `    path: ${store}`,
        '  encryption:',
        `    keyFile: ${path.join(dir, 'backup.key')}`,
        '  paths:',
        `    configFile: ${path.join(dir, `${REPLICAS[0]}.yaml`)}`,
        '',
      ].join('\n'),
    );
    const proc = spawn(BIN, ['backup', 'schedule', `--config.file=${backupConfig}`, '--run-now', '--verify-schedule=30 4 * * *'], { stdio: ['ignore', 'ignore', 'pipe'] });
    backup = proc;
    proc.stderr?.on('data', (b: Buffer) => backupOutput.push(b.toString()));
    await waitFor('the backup schedule\'s start-up run', async () => {
      if (proc.exitCode !== null) assert.fail(`backup schedule exited (${proc.exitCode}):\n${backupOutput.join('')}`);
      return /^slurm_backup_validation_success_total [1-9]/m.test((await httpGet(`http://127.0.0.1:${backupPort}/metrics`).catch(() => ({ text: '' }))).text);
    }, 20_000);
    prom = await startPrometheus({ targets: replicas.map((r) => new URL(r.url).host), jobs: [{ name: BACKUP_JOB, targets: [`127.0.0.1:${backupPort}`] }] });
  });

  after(async () => {
    await prom?.stop();
    if (backup && backup.exitCode === null) {
      const exited = new Promise((r) => backup?.once('exit', r));
      backup.kill('SIGTERM');
      await exited;
    }
    for (const r of replicas) await r.stop();
    await api?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every panel target and variable query of every dashboard returns data with a finite value', async () => {
    const queries = dashboardQueries();
    assert.ok(queries.length > 150, `${queries.length} queries`);
    // The backup panels and variable are among them, none skipped.
    assert.ok(queries.some((q) => q.where.endsWith('variable backup_job')), 'the backup_job variable is queried');
    assert.ok(queries.filter((q) => /slurm_backup_/.test(q.expr)).length >= 12, 'every Backups panel target is queried');
    const pending = new Map(queries.map((q) => [q.where, { q, last: 'not run yet' }]));
    const end = Date.now() + DATA_DEADLINE_MS;
    while (pending.size > 0 && Date.now() < end) {
      for (const [where, p] of pending) {
        try {
          const r = await prom.query(p.q.expr);
          if (r.some((x) => Number.isFinite(Number(x.value[1])))) pending.delete(where);
          else p.last = r.length === 0 ? 'empty result' : `no finite value: ${JSON.stringify(r.slice(0, 3))}`;
        } catch (err) {
          p.last = (err as Error).message;
        }
      }
      if (pending.size > 0) await new Promise((r) => setTimeout(r, 1000));
    }
    const failed = [...pending.values()].map((p) => `${p.q.where}: ${p.last}\n    ${p.q.expr}`);
    assert.deepEqual(failed, [], `queries without data after ${DATA_DEADLINE_MS / 1000} s:\n${failed.join('\n')}`);
  });

  it('the HA panels see one leader and one standby, and the SLO figures are at their objectives', async () => {
    const leaders = await prom.query(substitute('sum(slurm_exporter_leader{job=~"$job",instance=~"$instance"})'));
    assert.equal(leaders[0]?.value[1], '1');
    const standbys = await prom.query(substitute('count(slurm_exporter_leader{job=~"$job",instance=~"$instance"} == 0)'));
    assert.equal(standbys[0]?.value[1], '1');
    // Scrapes of a healthy exporter succeed (a rare 1 s scrape timeout on a loaded machine is allowed for).
    const availability = await prom.query(substitute('avg(avg_over_time(up{job=~"$job",instance=~"$instance"}[$__range]))'));
    assert.ok(Number(availability[0]?.value[1]) > 0.9, `availability ${JSON.stringify(availability)}`);
    const errors = await prom.query(
      substitute('1 - sum(increase(slurm_exporter_scrapes_total{job=~"$job",instance=~"$instance",code=~"2.."}[$__range])) / sum(increase(slurm_exporter_scrapes_total{job=~"$job",instance=~"$instance"}[$__range]))'),
    );
    assert.equal(Number(errors[0]?.value[1]), 0, 'every /metrics request was answered 200');
    // Slurm series come from the leader only: the standby serves the exporter's own figures.
    const clusters = await prom.query('count by (instance) (slurm_nodes)');
    assert.equal(clusters.length, 1);
    // The backup series come from the backup schedule's own scrape job, which the dashboard's $backup_job lists.
    const backupJobs = await prom.query('group by (job) (slurm_backup_last_success_timestamp_seconds)');
    assert.deepEqual(backupJobs.map((r) => r.metric.job), [BACKUP_JOB]);
  });
});
