// The shipped monitoring files, checked by the real tools: promtool check rules and promtool test rules on
// monitoring/prometheus-rules.yaml (every alert fires in a test with its exact labels and annotations, and
// stays quiet in another), the rules' conventions (labels, runbooks, only documented metrics, the job
// selector), amtool check-config on monitoring/alertmanager.yaml and a table of `amtool config routes test`
// cases: every route with the receivers it must reach, and every shipped alert by its category and priority.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/exporter-process.ts';
import { tool } from '../support/alertmanager.ts';
import { BACKUP_METRIC_NAMES } from '../../src/backup/metric-names.ts';

const RULES_FILE = path.join(REPO_ROOT, 'monitoring/prometheus-rules.yaml');
const TESTS_DIR = path.join(REPO_ROOT, 'monitoring/tests');
const AM_FILE = path.join(REPO_ROOT, 'monitoring/alertmanager.yaml');
const RUNBOOKS = path.join(REPO_ROOT, 'docs/runbooks.md');
const METRICS_DOC = path.join(REPO_ROOT, 'docs/metrics.md');
const RUNBOOK_BASE = 'https://github.com/slurm-exporter/slurm-exporter/blob/main/docs/runbooks.md#';
const JOB_SELECTOR = 'job="slurm-exporter"';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Group {
  name: string;
  rules: Rule[];
}
type Labels = Record<string, string>;

const groups = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Group[] }).groups;
const alerts = groups.flatMap((g) => g.rules.filter((r) => r.alert).map((r) => ({ ...r, group: g.name, alert: r.alert! })));
const records = new Set(groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))));
const alertNames = [...new Set(alerts.map((a) => a.alert))];
const testFiles = readdirSync(TESTS_DIR).filter((f) => f.endsWith('.yaml')).sort();

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

const runbookText = readFileSync(RUNBOOKS, 'utf8');
const runbookSections = [...runbookText.matchAll(/^(#{2,3}) (.+)$/gm)].map((m) => ({ level: m[1]!.length, title: m[2]!, anchor: slug(m[2]!) }));

/** Metric names docs/metrics.md documents (histograms with their _bucket, _sum and _count series). */
function documentedMetrics(): Set<string> {
  const out = new Set<string>();
  for (const m of readFileSync(METRICS_DOC, 'utf8').matchAll(/^\| `([a-z_][a-z0-9_]*)` \| (gauge|counter|histogram|summary) \|/gm)) {
    out.add(m[1]!);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(m[1]! + s);
  }
  return out;
}
/** Series Prometheus itself writes for every target. */
const PROMETHEUS_OWN = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
/**
 * The backup metrics: served by `slurm-exporter backup schedule` or written by one-shot runs for a textfile
 * collector, not by the exporter's /metrics, so docs/metrics.md does not list them and they are scraped under
 * another job than job="slurm-exporter" (src/backup/metric-names.ts).
 */
const BACKUP_METRICS = new Set<string>(BACKUP_METRIC_NAMES);

/** Expands one level of alternatives: slurm_(a|b)_folded → slurm_a_folded, slurm_b_folded. */
function expandAlternatives(re: string): string[] {
  const m = /^([a-z_]*)\(([a-z_|]+)\)([a-z_]*)$/.exec(re);
  return m ? m[2]!.split('|').map((alt) => m[1]! + alt + m[3]!) : [re];
}

/** Every metric an expression reads, with the selector written after it ("" when none). */
function metricRefs(expr: string): { name: string; selector: string }[] {
  const strings: string[] = [];
  const masked = expr.replace(/"(?:[^"\\]|\\.)*"/g, (s) => `"#${strings.push(s) - 1}"`);
  const unmask = (s: string) => s.replace(/"#(\d+)"/g, (_, i: string) => strings[Number(i)]!);
  const out: { name: string; selector: string }[] = [];
  for (const m of masked.matchAll(/(?<![\w:#])([a-zA-Z_][a-zA-Z0-9_:]*)(\s*\{[^}]*\})?/g)) {
    const name = m[1]!;
    if (!/^(slurm_|process_|nodejs_|scrape_|up$)/.test(name) && !name.includes(':')) continue;
    out.push({ name, selector: unmask(m[2] ?? '') });
  }
  for (const m of masked.matchAll(/\{([^}]*)\}/g)) {
    const sel = unmask(m[0]);
    const re = /__name__\s*=~\s*"([^"]+)"/.exec(sel);
    if (re) for (const name of expandAlternatives(re[1]!)) out.push({ name, selector: sel });
  }
  return out;
}

// ------------------------------------------------------------------ Alertmanager helpers
interface Route {
  receiver?: string;
  matchers?: string[];
  continue?: boolean;
  routes?: Route[];
  active_time_intervals?: string[];
  mute_time_intervals?: string[];
}
const amText = readFileSync(AM_FILE, 'utf8');
const am = parse(amText) as {
  global: Record<string, unknown>;
  route: Route;
  receivers: Record<string, unknown>[];
  inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[];
  time_intervals: { name: string; time_intervals: { weekdays?: string[]; times?: { start_time: string; end_time: string }[]; location?: string }[] }[];
};

function amtoolRoute(labels: Labels): string[] {
  const out = execFileSync(tool('amtool'), ['config', 'routes', 'test', `--config.file=${AM_FILE}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out.trim().split(',').filter(Boolean);
}

/** Does a label set satisfy an Alertmanager matcher ("name=value", "name=~regex", "!=", "!~")? */
function matches(matcher: string, labels: Labels): boolean {
  const m = /^(\w+)\s*(=~|!~|!=|=)\s*"(.*)"$/.exec(matcher.trim());
  assert.ok(m, `cannot read matcher ${matcher}`);
  const v = labels[m[1]!] ?? '';
  const re = new RegExp(`^(?:${m[3]!})$`);
  return m[2] === '=' ? v === m[3] : m[2] === '!=' ? v !== m[3] : m[2] === '=~' ? re.test(v) : !re.test(v);
}

/** The receivers an alert of this category, priority and name must reach: the routing policy, written out. */
function mustReach(l: Labels): string[] {
  if (l.category === 'security') return ['security-team'];
  if (l.category === 'backup') return [l.priority === 'P2' ? 'sre-info' : 'sre-warning'];
  const out: string[] = [];
  if (l.category === 'sla' && /SLABreach$/.test(l.alertname ?? '')) out.push('sla-executives');
  if (l.category === 'capacity') return [...out, 'capacity-planning'];
  if (l.priority === 'P0') return [...out, 'oncall-critical'];
  if (l.category === 'slurm') return [...out, l.priority === 'P2' ? 'hpc-admins-info' : 'hpc-admins'];
  return [...out, l.priority === 'P2' ? 'sre-info' : 'sre-warning'];
}

describe('monitoring/prometheus-rules.yaml', () => {
  it('promtool check rules accepts it', () => {
    const out = execFileSync(tool('promtool'), ['check', 'rules', RULES_FILE], { encoding: 'utf8' });
    const total = groups.reduce((n, g) => n + g.rules.length, 0);
    assert.match(out, new RegExp(`SUCCESS: ${total} rules found`));
    assert.ok(alerts.length >= 50 && records.size >= 40, `${alerts.length} alerts, ${records.size} recording rules`);
  });

  it('promtool test rules passes every test file of monitoring/tests', { timeout: 180_000 }, () => {
    assert.ok(testFiles.length > 0);
    const r = spawnSync(tool('promtool'), ['test', 'rules', ...testFiles], { cwd: TESTS_DIR, encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    for (const f of testFiles) assert.match(r.stdout, new RegExp(`Unit Testing:\\s+${f.replace('.', '\\.')}\\s+SUCCESS`), f);
  });

  it('every alert has priority, severity and category that agree, a summary, a description with its values, and a runbook section', () => {
    const severityOf: Record<string, string> = { P0: 'critical', P1: 'warning', P2: 'info' };
    const categoryOfGroup: Record<string, string[]> = {
      'slurm-exporter.sla': ['sla'],
      'slurm-exporter.operational': ['exporter'],
      'slurm-exporter.ha': ['ha'],
      'slurm-exporter.data': ['data'],
      'slurm.dependencies': ['slurm'],
      'slurm.capacity': ['capacity'],
      'slurm-exporter.security': ['security'],
      'slurm-exporter.backup': ['backup'],
    };
    const anchors = new Set(runbookSections.map((s) => s.anchor));
    for (const a of alerts) {
      const l = a.labels ?? {};
      assert.ok(l.priority && severityOf[l.priority], `${a.alert}: priority P0, P1 or P2`);
      assert.equal(l.severity, severityOf[l.priority], `${a.alert}: severity of ${l.priority}`);
      assert.ok(categoryOfGroup[a.group]?.includes(l.category ?? ''), `${a.alert}: category ${l.category} in group ${a.group}`);
      assert.deepEqual(Object.keys(a.annotations ?? {}).sort(), ['description', 'runbook_url', 'summary'], a.alert);
      assert.match(a.annotations!.description!, /\$value|\$labels/, `${a.alert}: the description names the values`);
      assert.match(a.annotations!.summary!, /\S/);
      assert.equal(a.annotations!.runbook_url, RUNBOOK_BASE + a.alert.toLowerCase(), `${a.alert}: runbook_url`);
      assert.ok(anchors.has(a.alert.toLowerCase()), `${a.alert}: docs/runbooks.md has a section #${a.alert.toLowerCase()}`);
      assert.ok(a.for !== undefined, `${a.alert}: an explicit for:`);
    }
    // Families: one cluster-wide alert and its per-partition counterparts.
    const families = new Map<string, Set<string>>();
    for (const a of alerts) {
      const l = a.labels ?? {};
      assert.equal('alert_family' in l, 'scope' in l, `${a.alert}: alert_family and scope come together`);
      if (l.alert_family) families.set(l.alert_family, new Set([...(families.get(l.alert_family) ?? []), l.scope!]));
    }
    assert.ok(families.size >= 3);
    for (const [f, scopes] of families) assert.deepEqual([...scopes].sort(), ['cluster', 'partition'], `family ${f}`);
  });

  it('docs/runbooks.md: each alert section says what it means, how to check it and what to do; no section without an alert', () => {
    const sections = runbookText.split(/^### /m).slice(1);
    const titles = sections.map((s) => s.slice(0, s.indexOf('\n')).trim());
    assert.deepEqual([...titles].sort(), [...alertNames].sort());
    for (const s of sections) {
      const title = s.slice(0, s.indexOf('\n')).trim();
      for (const part of ['**Means.**', '**Check.**', '**Act.**']) assert.ok(s.includes(part), `${title}: ${part}`);
    }
    for (const m of runbookText.matchAll(/\]\(#([a-z0-9-]+)\)/g)) {
      assert.ok(runbookSections.some((s) => s.anchor === m[1]), `link to #${m[1]} has a section`);
    }
    assert.match(runbookText, /job="slurm-exporter"/, 'the job convention is documented');
  });

  it('monitoring/tests: every alert rule fires in a case with its exact labels and annotations, and every alert stays quiet in one', () => {
    const firing: { alertname: string; labels: Labels; annotations: Labels }[] = [];
    const quiet = new Set<string>();
    for (const f of testFiles) {
      const doc = parse(readFileSync(path.join(TESTS_DIR, f), 'utf8')) as {
        rule_files: string[];
        tests: { alert_rule_test?: { alertname: string; exp_alerts?: { exp_labels?: Labels; exp_annotations?: Labels }[] }[] }[];
      };
      assert.deepEqual(doc.rule_files, ['../prometheus-rules.yaml'], `${f} tests the shipped file`);
      for (const t of doc.tests) {
        for (const c of t.alert_rule_test ?? []) {
          assert.ok(alertNames.includes(c.alertname), `${f}: ${c.alertname} is an alert of the rules`);
          if (!c.exp_alerts || c.exp_alerts.length === 0) quiet.add(c.alertname);
          for (const e of c.exp_alerts ?? []) firing.push({ alertname: c.alertname, labels: e.exp_labels ?? {}, annotations: e.exp_annotations ?? {} });
        }
      }
    }
    for (const a of alerts) {
      const own = a.labels ?? {};
      const hit = firing.find((e) => e.alertname === a.alert && Object.entries(own).every(([k, v]) => e.labels[k] === v));
      assert.ok(hit, `${a.alert} ${JSON.stringify(own)}: a firing case with these labels`);
      assert.deepEqual(Object.keys(hit.annotations).sort(), ['description', 'runbook_url', 'summary'], `${a.alert}: its annotations are checked`);
      assert.equal(hit.annotations.runbook_url, a.annotations!.runbook_url);
      assert.doesNotMatch(hit.annotations.description!, /\{\{/, `${a.alert}: the expected text is rendered`);
    }
    for (const name of alertNames) assert.ok(quiet.has(name), `${name}: a case where it does not fire`);
  });

  it('reads only metrics docs/metrics.md documents, Prometheus\' own series, or recorded ones; exporter series always with job="slurm-exporter"', () => {
    const documented = documentedMetrics();
    assert.ok(documented.has('slurm_nodes') && !documented.has('slurm_cluster_nodes_total'));
    const seen = new Set<string>();
    for (const g of groups) {
      for (const r of g.rules) {
        const what = r.alert ?? r.record!;
        for (const ref of metricRefs(r.expr)) {
          seen.add(ref.name);
          if (ref.name.includes(':')) {
            assert.ok(records.has(ref.name), `${what}: ${ref.name} is recorded in the file`);
            continue;
          }
          if (BACKUP_METRICS.has(ref.name)) {
            // Another job scrapes them: the rules select the metric name only.
            assert.ok(!ref.selector.includes(JOB_SELECTOR), `${what}: ${ref.name}${ref.selector} does not require ${JOB_SELECTOR}`);
            assert.ok(g.name === 'slurm-exporter.backup', `${what}: backup metrics are read in the backup group`);
            continue;
          }
          assert.ok(documented.has(ref.name) || PROMETHEUS_OWN.has(ref.name), `${what}: ${ref.name} is in docs/metrics.md`);
          assert.ok(ref.selector.includes(JOB_SELECTOR), `${what}: ${ref.name}${ref.selector} selects ${JOB_SELECTOR}`);
        }
        // Queries inside annotation templates.
        for (const text of Object.values(r.annotations ?? {})) {
          for (const m of text.matchAll(/printf "([^"]*)"/g)) {
            for (const ref of metricRefs(m[1]!)) assert.ok(documented.has(ref.name), `${what}: template query reads ${ref.name}`);
          }
        }
      }
    }
    for (const name of BACKUP_METRIC_NAMES.filter((n) => n !== 'slurm_backup_size_bytes' && n !== 'slurm_backup_duration_seconds' && n !== 'slurm_backup_validation_success_total')) {
      assert.ok(seen.has(name), `the backup rules read ${name}`);
    }
    for (const name of ['slurm_exporter_collector_staleness_seconds', 'slurm_users_folded', 'slurm_accounts_folded', 'slurm_fairshare_users_folded', 'slurm_job_series_folded', 'slurm_job_queue_wait_seconds_bucket']) {
      assert.ok(seen.has(name), `the rules read ${name}`);
    }
    // The Slurm-API alert must not be a bare counter threshold.
    const api = alerts.find((a) => a.alert === 'SlurmApiUnreachable')!;
    assert.doesNotMatch(api.expr, /slurm_exporter_api_errors_total\{[^}]*\}\s*>/);
    assert.match(api.expr, /rate\(slurm_exporter_api_errors_total/);
  });
});

describe('monitoring/alertmanager.yaml', () => {
  it('amtool check-config accepts it', () => {
    const out = execFileSync(tool('amtool'), ['check-config', AM_FILE], { encoding: 'utf8' });
    assert.match(out, /SUCCESS/);
  });

  // [why, labels, receivers in order]
  const table: [string, Labels, string[]][] = [
    ['security P1: the security team and the SOC', { alertname: 'SlurmExporterSlurmAuthRejected', category: 'security', priority: 'P1' }, ['security-team']],
    ['security P2: the same, whatever the priority', { alertname: 'SlurmUserRPCFlood', category: 'security', priority: 'P2' }, ['security-team']],
    ['security P0 stays with the security team', { alertname: 'X', category: 'security', priority: 'P0' }, ['security-team']],
    ['an SLA breach: the executives, then the SRE team', { alertname: 'SlurmExporterAvailabilitySLABreach', category: 'sla', priority: 'P1' }, ['sla-executives', 'sre-warning']],
    ['a burn-rate page: on-call', { alertname: 'SlurmExporterErrorBudgetBurn', category: 'sla', priority: 'P0', long_window: '1h' }, ['oncall-critical']],
    ['a burn-rate ticket: the SRE team, not the executives', { alertname: 'SlurmExporterErrorBudgetBurn', category: 'sla', priority: 'P1', long_window: '1d' }, ['sre-warning']],
    ['capacity P1: capacity planning only', { alertname: 'SlurmLicensesExhausted', category: 'capacity', priority: 'P1' }, ['capacity-planning']],
    ['capacity P2: capacity planning only', { alertname: 'SlurmPartitionCPUsSaturated', category: 'capacity', priority: 'P2' }, ['capacity-planning']],
    ['Slurm P0: on-call', { alertname: 'SlurmApiUnreachable', category: 'slurm', priority: 'P0' }, ['oncall-critical']],
    ['exporter P0: on-call', { alertname: 'SlurmExporterDown', category: 'exporter', priority: 'P0' }, ['oncall-critical']],
    ['HA P0: on-call', { alertname: 'SlurmExporterNoLeader', category: 'ha', priority: 'P0' }, ['oncall-critical']],
    ['Slurm P1: the HPC admins', { alertname: 'SlurmPartitionDown', category: 'slurm', priority: 'P1' }, ['hpc-admins']],
    ['Slurm P2: the HPC admins\' info channel', { alertname: 'X', category: 'slurm', priority: 'P2' }, ['hpc-admins-info']],
    ['exporter P1: the SRE team', { alertname: 'SlurmExporterHighMemory', category: 'exporter', priority: 'P1' }, ['sre-warning']],
    ['HA P1: the SRE team', { alertname: 'SlurmExporterLeaderFlapping', category: 'ha', priority: 'P1' }, ['sre-warning']],
    ['data P2: the SRE info channel', { alertname: 'SlurmExporterAnomalies', category: 'data', priority: 'P2' }, ['sre-info']],
    ['backup P1: the SRE team', { alertname: 'SlurmBackupFailed', category: 'backup', priority: 'P1' }, ['sre-warning']],
    ['backup P2: the SRE info channel', { alertname: 'SlurmBackupDestinationFillingUp', category: 'backup', priority: 'P2' }, ['sre-info']],
    ['backup P0 stays with the SRE team, not on-call', { alertname: 'X', category: 'backup', priority: 'P0' }, ['sre-warning']],
    ['an alert without the labels: the default receiver', { alertname: 'Watchdog' }, ['sre-warning']],
  ];
  for (const [why, labels, receivers] of table) {
    it(`amtool config routes test: ${why}`, () => {
      assert.deepEqual(amtoolRoute(labels), receivers);
      // --verify.receivers is amtool's own check of the same expectation.
      const r = spawnSync(tool('amtool'), ['config', 'routes', 'test', `--config.file=${AM_FILE}`, `--verify.receivers=${receivers.join(',')}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });
  }

  it('the table reaches every route of the tree', () => {
    const paths: { receiver: string; matchers: string[] }[] = [];
    const walk = (r: Route, above: string[]) => {
      const ms = [...above, ...(r.matchers ?? [])];
      paths.push({ receiver: r.receiver ?? '(inherited)', matchers: ms });
      for (const c of r.routes ?? []) walk(c, ms);
    };
    walk(am.route, []);
    assert.ok(paths.length >= 9);
    for (const p of paths) {
      const row = table.find(([, labels, receivers]) => p.matchers.every((m) => matches(m, labels)) && receivers.includes(p.receiver));
      assert.ok(row, `route ${JSON.stringify(p.matchers)} → ${p.receiver}: a table row reaches it`);
    }
    const used = new Set(table.flatMap(([, , r]) => r));
    for (const r of am.receivers) assert.ok(used.has(String(r.name)), `receiver ${String(r.name)} is reached by a row`);
  });

  it('every shipped alert reaches the receivers its category and priority call for', () => {
    const seen = new Set<string>();
    for (const a of alerts) {
      const labels: Labels = { alertname: a.alert, ...(a.labels ?? {}) };
      const key = JSON.stringify(labels);
      if (seen.has(key)) continue;
      seen.add(key);
      assert.deepEqual(amtoolRoute(labels), mustReach(labels), `${a.alert} ${a.labels?.priority} ${a.labels?.category}`);
    }
  });

  it('P0 reaches PagerDuty, Slack and email at once; security the security PagerDuty and the SOC; SLA breaches an executive mailbox', () => {
    const byName = new Map(am.receivers.map((r) => [String(r.name), r]));
    const kinds = (name: string) => Object.keys(byName.get(name) ?? {}).filter((k) => k.endsWith('_configs')).sort();
    assert.deepEqual(kinds('oncall-critical'), ['email_configs', 'pagerduty_configs', 'slack_configs']);
    assert.deepEqual(kinds('security-team'), ['email_configs', 'pagerduty_configs']);
    const pd = (name: string) => (byName.get(name)!.pagerduty_configs as Record<string, string>[])[0]!.routing_key_file;
    assert.notEqual(pd('security-team'), pd('oncall-critical'), 'the security team has its own PagerDuty service');
    assert.deepEqual(kinds('sla-executives'), ['email_configs']);
  });

  it('holds no secret: every credential comes from a *_file', () => {
    const inline = ['routing_key', 'service_key', 'api_url', 'slack_api_url', 'smtp_auth_password', 'smtp_auth_secret', 'auth_password', 'auth_secret', 'api_key', 'opsgenie_api_key', 'victorops_api_key', 'wechat_api_secret', 'token', 'bot_token', 'credentials', 'password'];
    const walk = (v: unknown, at: string) => {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`));
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          assert.ok(!inline.includes(k), `${at}.${k}: a secret written inline; use ${k}_file`);
          if (k.endsWith('_file')) assert.match(String(x), /^\/etc\/alertmanager\/secrets\/[a-z0-9-]+$/, `${at}.${k}`);
          walk(x, `${at}.${k}`);
        }
      }
    };
    walk(am, 'config');
    assert.doesNotMatch(amText, /hooks\.slack\.com\/services\/|xox[abp]-|[0-9a-f]{32}/i, 'nothing that looks like a real key or webhook');
    for (const r of am.receivers) {
      for (const c of (r.pagerduty_configs as Record<string, unknown>[] | undefined) ?? []) assert.ok(c.routing_key_file || c.service_key_file, `${String(r.name)}: PagerDuty key from a file`);
      for (const c of (r.slack_configs as Record<string, unknown>[] | undefined) ?? []) assert.ok(c.api_url_file || am.global.slack_api_url_file, `${String(r.name)}: Slack URL from a file`);
    }
    if (am.global.smtp_auth_username) assert.ok(am.global.smtp_auth_password_file, 'SMTP password from a file');
  });

  it('capacity alerts are notified in business hours only; nothing else is muted', () => {
    const capacity = am.route.routes!.find((r) => r.matchers?.includes('category="capacity"'))!;
    assert.deepEqual(capacity.active_time_intervals, ['business-hours']);
    const bh = am.time_intervals.find((t) => t.name === 'business-hours')!;
    assert.deepEqual(bh.time_intervals.map((t) => ({ weekdays: t.weekdays, times: t.times })), [{ weekdays: ['monday:friday'], times: [{ start_time: '08:00', end_time: '18:00' }] }]);
    assert.ok(bh.time_intervals[0]!.location, 'a time zone');
    const muted: string[] = [];
    const walk = (r: Route) => {
      if ((r.active_time_intervals || r.mute_time_intervals) && r !== capacity) muted.push(r.receiver ?? '?');
      for (const c of r.routes ?? []) walk(c);
    };
    walk(am.route);
    assert.deepEqual(muted, []);
  });

  it('the inhibitions name alerts and labels the rules define', () => {
    const values = new Map<string, Set<string>>();
    for (const a of alerts) {
      for (const [k, v] of Object.entries({ alertname: a.alert, ...(a.labels ?? {}) })) values.set(k, new Set([...(values.get(k) ?? []), v]));
    }
    for (const rule of am.inhibit_rules) {
      for (const m of [...rule.source_matchers, ...rule.target_matchers]) {
        const [, name] = /^(\w+)/.exec(m) ?? [];
        const known = values.get(name!);
        assert.ok(known, `${m}: the rules set label ${name}`);
        assert.ok([...known].some((v) => matches(m, { [name!]: v })), `${m}: matches some alert of the rules`);
      }
      assert.ok(rule.equal.length > 0, 'every inhibition is scoped by equal labels');
    }
    const families = am.inhibit_rules.find((r) => r.source_matchers.includes('scope="cluster"'))!;
    assert.deepEqual(families.target_matchers, ['scope="partition"']);
    assert.ok(families.equal.includes('alert_family') && families.equal.includes('cluster'));
  });
});
