// The Grafana dashboards in monitoring/dashboards/: each parses and imports as is (uid, title, tags, a
// datasource variable every panel and target uses, a multi-value cluster variable), every panel has a unit,
// and every query names only metrics and labels the exporter (or Prometheus itself, for its scrape series)
// emits, with the cluster filter on every Slurm selector. Metric names come from the collectors' own
// declarations, not from a hand-kept list, so a renamed metric breaks this test, not the dashboards. The
// queries are parsed by promtool (as recording rules); test/e2e/dashboards.test.ts runs them for real.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ALL_COLLECTORS } from '../../src/collectors/registry.ts';
import { EXPORTER_METRICS } from '../../src/collectors/exporter-metrics.ts';
import { DASHBOARD_DIR, driftedFiles } from '../../scripts/gen-dashboards.ts';
import { BACKUP_DEFAULT_SCHEDULES, BACKUP_METRIC_LABELS, BACKUP_METRIC_NAMES } from '../../src/backup/metric-names.ts';
import { BACKUP_METRICS } from '../../src/backup/metrics.ts';

// ---------------------------------------------------------------------------------------------------------
// What the exporter emits, from the code

/** Labels every scraped series gets from its target. */
const TARGET_LABELS = ['job', 'instance'];

interface Known {
  labels: Set<string>;
  source: 'slurm' | 'exporter' | 'prometheus' | 'backup';
}

function knownMetrics(): Map<string, Known> {
  const out = new Map<string, Known>();
  const add = (name: string, labels: readonly string[], source: Known['source']) => out.set(name, { labels: new Set([...labels, ...TARGET_LABELS]), source });
  for (const c of ALL_COLLECTORS) {
    for (const d of c.metrics) {
      if (d.type === 'histogram') {
        add(`${d.name}_bucket`, [...d.labels, 'le'], 'slurm');
        add(`${d.name}_sum`, d.labels, 'slurm');
        add(`${d.name}_count`, d.labels, 'slurm');
      } else add(d.name, d.labels, 'slurm');
    }
  }
  for (const d of Object.values(EXPORTER_METRICS)) add(d.name, d.labels, 'exporter');
  // Prometheus' own series about each scrape of the exporter.
  for (const name of ['up', 'scrape_duration_seconds', 'scrape_samples_scraped']) add(name, [], 'prometheus');
  // The backup tooling's metrics (`backup schedule`'s /metrics or a textfile collector), from the one list the
  // rules' test and the dashboard generator share.
  for (const name of BACKUP_METRIC_NAMES) add(name, BACKUP_METRIC_LABELS[name], 'backup');
  return out;
}

const KNOWN = knownMetrics();

// ---------------------------------------------------------------------------------------------------------
// A PromQL tokenizer: enough to find metric names, their label matchers and the labels named in by/without/
// on/ignoring/group_left/group_right, skipping strings, durations, numbers, function names, keywords and
// Grafana variables.

const FUNCTIONS = new Set(
  (
    'abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp clamp_max clamp_min cos cosh ' +
    'count_over_time day_of_month day_of_week day_of_year days_in_month deg delta deriv exp floor histogram_count histogram_fraction ' +
    'histogram_quantile histogram_sum holt_winters hour idelta increase irate label_join label_replace last_over_time ln log10 log2 ' +
    'max_over_time min_over_time minute month pi predict_linear present_over_time quantile_over_time rad rate resets round scalar sgn ' +
    'sin sinh sort sort_desc sqrt stddev_over_time stdvar_over_time sum_over_time tan tanh time timestamp vector year start end'
  ).split(' '),
);
const AGGREGATIONS = new Set('sum avg count min max group stddev stdvar topk bottomk quantile count_values'.split(' '));
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['bool', 'offset', 'and', 'or', 'unless', 'atan2']);
const NUMBER_WORDS = new Set(['inf', 'nan']);

interface Token {
  kind: 'ident' | 'string' | 'number' | 'duration' | 'var' | 'op';
  text: string;
}

function tokenize(expr: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const rest = () => expr.slice(i);
  while (i < expr.length) {
    const ch = expr[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '`') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== ch) j += expr[j] === '\\' && ch !== '`' ? 2 : 1;
      if (j >= expr.length) throw new Error(`unterminated string at ${i} in ${expr}`);
      out.push({ kind: 'string', text: expr.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    let m: RegExpExecArray | null;
    if ((m = /^(?:\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)\]\])/.exec(rest()))) {
      out.push({ kind: 'var', text: m[1] ?? m[2] ?? m[3]! });
      i += m[0].length;
      continue;
    }
    if ((m = /^(?:\d+(?:ms|[smhdwy]))+(?![\w.])/.exec(rest()))) {
      out.push({ kind: 'duration', text: m[0] });
      i += m[0].length;
      continue;
    }
    if ((m = /^(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(rest()))) {
      out.push({ kind: 'number', text: m[0] });
      i += m[0].length;
      continue;
    }
    if ((m = /^[a-zA-Z_][a-zA-Z0-9_:]*/.exec(rest()))) {
      out.push({ kind: 'ident', text: m[0] });
      i += m[0].length;
      continue;
    }
    if ((m = /^(?:=~|!~|!=|==|>=|<=|[=<>+\-*/%^@,(){}[\]:])/.exec(rest()))) {
      out.push({ kind: 'op', text: m[0] });
      i += m[0].length;
      continue;
    }
    throw new Error(`unexpected character ${JSON.stringify(ch)} at ${i} in ${expr}`);
  }
  return out;
}

interface Matcher {
  label: string;
  op: string;
  value: string;
  /** The value is a Grafana variable ($cluster) rather than a literal. */
  variable: boolean;
}

interface Selector {
  metric: string;
  matchers: Matcher[];
}

interface Analysis {
  selectors: Selector[];
  /** Labels named in by/without/on/ignoring/group_left/group_right lists. */
  groupingLabels: string[];
  /** Grafana variables used anywhere ($cluster, $__rate_interval, ...). */
  variables: string[];
}

function analyze(expr: string): Analysis {
  const toks = tokenize(expr);
  const selectors: Selector[] = [];
  const groupingLabels: string[] = [];
  // Variables stand alone ([$__rate_interval]) or inside a matcher's string ("$cluster").
  const variables = toks.flatMap((t) => (t.kind === 'var' ? [t.text] : t.kind === 'string' ? [...t.text.matchAll(/\$\{?(\w+)/g)].map((m) => m[1]!) : []));
  const readMatchers = (at: number): [Matcher[], number] => {
    // toks[at] is '{'.
    const matchers: Matcher[] = [];
    let i = at + 1;
    while (i < toks.length && toks[i]!.text !== '}') {
      const label = toks[i];
      const op = toks[i + 1];
      const value = toks[i + 2];
      if (label?.kind !== 'ident' || op?.kind !== 'op' || !['=', '!=', '=~', '!~'].includes(op.text) || (value?.kind !== 'string' && value?.kind !== 'var')) {
        throw new Error(`bad label matcher at token ${i} in ${expr}`);
      }
      const variable = value.kind === 'var' || /\$\w+|\$\{\w+/.test(value.text);
      matchers.push({ label: label.text, op: op.text, value: value.text, variable });
      i += 3;
      if (toks[i]?.text === ',') i++;
    }
    if (toks[i]?.text !== '}') throw new Error(`unterminated selector in ${expr}`);
    return [matchers, i + 1];
  };
  let i = 0;
  while (i < toks.length) {
    const t = toks[i]!;
    const next = toks[i + 1];
    if (t.kind === 'op' && t.text === '{') throw new Error(`selector without a metric name in ${expr}`);
    if (t.kind !== 'ident') {
      i++;
      continue;
    }
    const word = t.text;
    if (GROUPING.has(word)) {
      i++;
      if (toks[i]?.text === '(') {
        i++;
        while (i < toks.length && toks[i]!.text !== ')') {
          if (toks[i]!.kind === 'ident') groupingLabels.push(toks[i]!.text);
          i++;
        }
        i++;
      }
      continue;
    }
    if (KEYWORDS.has(word) || NUMBER_WORDS.has(word.toLowerCase())) {
      i++;
      continue;
    }
    if (AGGREGATIONS.has(word) && (next?.text === '(' || (next && GROUPING.has(next.text)))) {
      i++;
      continue;
    }
    if (next?.text === '(') {
      if (!FUNCTIONS.has(word)) throw new Error(`unknown function ${word}() in ${expr}`);
      i++;
      continue;
    }
    // A metric name, with or without matchers.
    if (next?.text === '{') {
      const [matchers, after] = readMatchers(i + 1);
      selectors.push({ metric: word, matchers });
      i = after;
    } else {
      selectors.push({ metric: word, matchers: [] });
      i++;
    }
  }
  return { selectors, groupingLabels, variables };
}

// ---------------------------------------------------------------------------------------------------------
// The dashboards

type Json = Record<string, unknown>;

interface Dashboard {
  file: string;
  json: Json;
  panels: Json[];
  variables: Json[];
}

function loadDashboards(): Dashboard[] {
  const files = readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json')).sort();
  return files.map((file) => {
    const json = JSON.parse(readFileSync(path.join(DASHBOARD_DIR, file), 'utf8')) as Json;
    const flat: Json[] = [];
    for (const p of (json.panels ?? []) as Json[]) {
      flat.push(p);
      for (const q of (p.panels ?? []) as Json[]) flat.push(q);
    }
    return { file, json, panels: flat, variables: ((json.templating as { list?: Json[] } | undefined)?.list ?? []) as Json[] };
  });
}

const dataPanels = (d: Dashboard) => d.panels.filter((p) => p.type !== 'row');
const targetsOf = (p: Json) => (p.targets ?? []) as Json[];

/** Grafana's built-in variables the queries may use. */
const BUILTIN_VARS = new Set(['__rate_interval', '__interval', '__range', '__range_s', '__interval_ms']);

/** Grafana units the panels may use (ids of Grafana's unit picker), plus custom `suffix:` units. */
const UNITS = new Set(['short', 'none', 'percentunit', 'percent', 's', 'ms', 'bytes', 'decbytes', 'Bps', 'binBps', 'reqps', 'ops', 'opm', 'dateTimeAsIso', 'dateTimeFromNow', 'dtdurations']);

/** Slurm series whose partition label is where jobs run or nodes belong: filtered by $partition where the
 * dashboard has it. (Fairshare and reservation series carry a partition label of another meaning.) */
function partitionScoped(metric: string): boolean {
  return metric.startsWith('slurm_partition_') || metric.startsWith('slurm_job_queue_wait_seconds_') || metric === 'slurm_jobs_finished_total';
}

/** Every query of a dashboard: panel targets and variable queries, with where they come from. */
function queriesOf(d: Dashboard): { where: string; expr: string; legend?: string; panel?: Json }[] {
  const out: { where: string; expr: string; legend?: string; panel?: Json }[] = [];
  for (const p of dataPanels(d)) {
    for (const t of targetsOf(p)) out.push({ where: `${d.file} panel "${String(p.title)}" ${String(t.refId)}`, expr: String(t.expr), legend: t.legendFormat as string | undefined, panel: p });
  }
  for (const v of d.variables) {
    if (v.type !== 'query') continue;
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(String(v.query));
    assert.ok(m, `${d.file} variable ${String(v.name)}: label_values(selector, label), got ${String(v.query)}`);
    out.push({ where: `${d.file} variable ${String(v.name)}`, expr: m[1]!, legend: `{{${m[2]}}}` });
  }
  return out;
}

/** Variables replaced by example values, so promtool can parse the query. */
function substituted(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?(\w+)\}?/g, '.*');
}

const DASHBOARDS = loadDashboards();

describe('monitoring/dashboards', () => {
  it('are up to date with scripts/gen-dashboards.ts (run: node scripts/gen-dashboards.ts)', () => {
    assert.deepEqual(driftedFiles(), [], 'monitoring/dashboards differs from what scripts/gen-dashboards.ts writes; run: node scripts/gen-dashboards.ts');
  });

  it('are the four dashboards, each with a stable uid, a title and tags', () => {
    assert.deepEqual(
      DASHBOARDS.map((d) => d.json.uid),
      ['slurm-cluster-overview', 'slurm-exporter-slo', 'slurm-partitions-jobs', 'slurm-scheduler'],
    );
    for (const d of DASHBOARDS) {
      assert.equal(d.file, `${String(d.json.uid)}.json`);
      assert.ok(typeof d.json.title === 'string' && d.json.title.length > 0, `${d.file}: title`);
      assert.ok(Array.isArray(d.json.tags) && d.json.tags.includes('slurm'), `${d.file}: tags include slurm`);
      assert.equal(d.json.id, null, `${d.file}: id null, so an import creates the dashboard`);
      assert.ok(typeof d.json.schemaVersion === 'number' && d.json.schemaVersion >= 36, `${d.file}: schemaVersion`);
      assert.equal(new Set(DASHBOARDS.map((x) => x.json.title)).size, DASHBOARDS.length, 'titles are distinct');
    }
  });

  it('have a datasource variable (Prometheus) and a multi-value cluster variable from slurm_nodes', () => {
    for (const d of DASHBOARDS) {
      const ds = d.variables.find((v) => v.name === 'datasource');
      assert.ok(ds, `${d.file}: datasource variable`);
      assert.equal(ds.type, 'datasource');
      assert.equal(ds.query, 'prometheus');
      const cluster = d.variables.find((v) => v.name === 'cluster');
      assert.ok(cluster, `${d.file}: cluster variable`);
      assert.equal(cluster.type, 'query');
      assert.equal(cluster.query, 'label_values(slurm_nodes, cluster)');
      assert.equal(cluster.multi, true);
      assert.equal(cluster.includeAll, true);
      assert.equal(cluster.allValue, '.*', 'All means every cluster, also ones not yet listed');
      for (const v of d.variables.filter((x) => x.type === 'query')) {
        assert.deepEqual(v.datasource, { type: 'prometheus', uid: '${datasource}' }, `${d.file} variable ${String(v.name)} uses $datasource`);
      }
    }
  });

  it('every panel and target uses ${datasource}, has a unit, a description and at least one query', () => {
    for (const d of DASHBOARDS) {
      const ids = new Set<unknown>();
      for (const p of d.panels) {
        assert.ok(!ids.has(p.id), `${d.file}: panel id ${String(p.id)} is unique`);
        ids.add(p.id);
        const g = p.gridPos as { x: number; w: number; h: number };
        assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `${d.file} "${String(p.title)}": gridPos within 24 columns`);
      }
      const panels = dataPanels(d);
      assert.ok(panels.length >= 8, `${d.file}: has panels`);
      for (const p of panels) {
        const what = `${d.file} "${String(p.title)}"`;
        assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `${what}: datasource`);
        const unit = (p.fieldConfig as { defaults?: { unit?: unknown } } | undefined)?.defaults?.unit;
        assert.ok(typeof unit === 'string' && (UNITS.has(unit) || unit.startsWith('suffix:')), `${what}: unit ${String(unit)}`);
        assert.ok(typeof p.description === 'string' && p.description.length > 20, `${what}: description`);
        const targets = targetsOf(p);
        assert.ok(targets.length > 0, `${what}: targets`);
        const refs = new Set<unknown>();
        for (const t of targets) {
          assert.deepEqual(t.datasource, { type: 'prometheus', uid: '${datasource}' }, `${what} ${String(t.refId)}: datasource`);
          assert.ok(typeof t.expr === 'string' && t.expr.length > 0, `${what}: expr`);
          assert.ok(!refs.has(t.refId), `${what}: refId ${String(t.refId)} unique`);
          refs.add(t.refId);
        }
        for (const o of ((p.fieldConfig as { overrides?: Json[] }).overrides ?? [])) {
          for (const prop of (o.properties ?? []) as Json[]) if (prop.id === 'unit') assert.ok(UNITS.has(String(prop.value)), `${what}: override unit ${String(prop.value)}`);
        }
      }
    }
  });

  it('name only metrics the exporter emits (from the collectors\' declarations) or Prometheus\' own scrape series', () => {
    const seen = new Set<string>();
    for (const d of DASHBOARDS) {
      for (const q of queriesOf(d)) {
        const a = analyze(q.expr);
        assert.ok(a.selectors.length > 0, `${q.where}: names a metric`);
        for (const sel of a.selectors) {
          assert.ok(!sel.metric.includes(':'), `${q.where}: ${sel.metric} is a recording rule; dashboards query raw metrics`);
          assert.ok(KNOWN.has(sel.metric), `${q.where}: ${sel.metric} is not a metric the exporter emits`);
          seen.add(sel.metric);
        }
      }
    }
    // The dashboards cover every collector and the exporter's SLO figures.
    for (const name of ['slurm_nodes', 'slurm_gres', 'slurm_job_queue_wait_seconds_bucket', 'slurm_jobs_finished_total', 'slurm_user_fairshare_factor', 'slurm_reservation_info', 'slurm_license_used', 'slurm_rpc_calls_total', 'slurm_slurmdbd_up', 'slurm_controller_ping_seconds', 'up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'slurm_exporter_scrape_duration_seconds', 'slurm_exporter_scrapes_total', 'slurm_exporter_errors_total', 'slurm_exporter_leader', 'slurm_exporter_leader_changes_total', 'slurm_exporter_collector_staleness_seconds', 'slurm_exporter_collector_supported', 'process_resident_memory_bytes']) {
      assert.ok(seen.has(name), `some panel shows ${name}`);
    }
  });

  it('filter every Slurm selector by $cluster (and $partition where the dashboard has it), the exporter\'s by $job and $instance', () => {
    for (const d of DASHBOARDS) {
      const defined = new Set(d.variables.map((v) => String(v.name)));
      for (const q of queriesOf(d)) {
        const a = analyze(q.expr);
        for (const sel of a.selectors) {
          const known = KNOWN.get(sel.metric);
          if (!known) continue; // reported by the test above
          const has = (label: string, variable: string) => sel.matchers.some((m) => m.label === label && m.op === '=~' && m.value === `$${variable}`);
          const isClusterVariable = q.where.endsWith('variable cluster');
          if (known.source === 'slurm' && !isClusterVariable) assert.ok(has('cluster', 'cluster'), `${q.where}: ${sel.metric} needs cluster=~"$cluster"`);
          if (known.source === 'backup') {
            // Scraped under their own job: the backup_job variable, never the exporter's $job/$instance.
            if (!q.where.endsWith('variable backup_job')) assert.ok(has('job', 'backup_job'), `${q.where}: ${sel.metric} needs job=~"$backup_job"`);
          } else if (known.source !== 'slurm' && !q.where.endsWith('variable job') && !q.where.endsWith('variable instance')) {
            assert.ok(has('job', 'job') && has('instance', 'instance'), `${q.where}: ${sel.metric} needs job=~"$job",instance=~"$instance"`);
          }
          if (defined.has('partition') && partitionScoped(sel.metric) && !q.where.endsWith('variable partition')) {
            assert.ok(has('partition', 'partition'), `${q.where}: ${sel.metric} needs partition=~"$partition"`);
          }
          for (const m of sel.matchers) {
            assert.ok(known.labels.has(m.label), `${q.where}: ${sel.metric} has no label ${m.label}`);
          }
        }
        // Labels grouped by, matched on, or shown in the legend exist on some metric the query reads.
        const labels = new Set(a.selectors.flatMap((sel) => [...(KNOWN.get(sel.metric)?.labels ?? [])]));
        for (const l of a.groupingLabels) assert.ok(labels.has(l), `${q.where}: by/on label ${l} is on none of its metrics`);
        for (const m of (q.legend ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) assert.ok(labels.has(m[1]!), `${q.where}: legend label ${m[1]} is on none of its metrics`);
        for (const v of a.variables) assert.ok(defined.has(v) || BUILTIN_VARS.has(v), `${q.where}: variable $${v} is not defined`);
      }
      // Every variable is used, and the exporter's panels come with the variables they filter by.
      const used = new Set(queriesOf(d).flatMap((q) => analyze(q.expr).variables));
      for (const name of defined) if (name !== 'datasource') assert.ok(used.has(name), `${d.file}: variable $${name} is used`);
    }
  });

  it('put thresholds where the SLOs are: availability 99.9 %, p95 scrape 5 s, errors 1 %, burn rate 14.4', () => {
    const slo = DASHBOARDS.find((d) => d.json.uid === 'slurm-exporter-slo')!;
    const steps = (title: string) => {
      const p = dataPanels(slo).find((x) => x.title === title);
      assert.ok(p, `panel ${title}`);
      return (((p.fieldConfig as Json).defaults as Json).thresholds as { steps: { value: number | null }[] }).steps.map((x) => x.value);
    };
    assert.ok(steps('Availability').includes(0.999));
    assert.ok(steps('Availability per replica').includes(0.999));
    assert.ok(steps('p95 scrape duration').includes(5));
    assert.ok(steps('Scrape error ratio').includes(0.01));
    assert.ok(steps('Error ratio').includes(0.01));
    assert.ok(steps('Error budget burn rate').includes(14.4));
    const burn = dataPanels(slo).find((x) => x.title === 'Error budget burn rate')!;
    const exprs = targetsOf(burn).map((t) => String(t.expr));
    for (const w of ['5m', '1h', '6h']) assert.ok(exprs.some((e) => e.includes(`[${w}]`) && e.endsWith('/ 0.001')), `burn rate over ${w} against the 0.001 budget`);
  });

  it('the SLO dashboard has a Backups row that reads every backup metric, the age against each type\'s schedule', () => {
    // The shared name list agrees with what the backup code declares (src/backup/metrics.ts).
    assert.deepEqual(
      Object.values(BACKUP_METRICS).map((d) => [d.name, [...d.labels]]).sort(),
      BACKUP_METRIC_NAMES.map((n) => [n, [...BACKUP_METRIC_LABELS[n]]]).sort(),
    );
    const slo = DASHBOARDS.find((d) => d.json.uid === 'slurm-exporter-slo')!;
    const all = slo.panels;
    const start = all.findIndex((p) => p.type === 'row' && p.title === 'Backups');
    assert.ok(start >= 0, 'a row titled Backups');
    const next = all.findIndex((p, i) => i > start && p.type === 'row');
    const rowPanels = all.slice(start + 1, next < 0 ? undefined : next);
    const names = new Set(rowPanels.flatMap((p) => targetsOf(p).flatMap((t) => analyze(String(t.expr)).selectors.map((x) => x.metric))));
    assert.deepEqual([...names].sort(), [...BACKUP_METRIC_NAMES].sort(), 'the row shows every backup metric');
    // No backup metric outside the row, so the e2e test can skip the row as a whole.
    for (const p of dataPanels(slo).filter((p) => !rowPanels.includes(p))) {
      for (const t of targetsOf(p)) assert.ok(!String(t.expr).includes('slurm_backup_'), `${String(p.title)}: backup metrics only in the Backups row`);
    }
    const ratio = rowPanels.find((p) => p.title === 'Newest backup age / schedule')!;
    const expr = String(targetsOf(ratio)[0]!.expr);
    for (const [type, d] of Object.entries(BACKUP_DEFAULT_SCHEDULES)) assert.ok(expr.includes(`label_replace(vector(${d.periodSeconds}), "type", "${type}", "", "")`), `${type}: its period`);
  });

  it('use histogram_quantile over the queue-wait buckets by le, per partition', () => {
    const overview = DASHBOARDS.find((d) => d.json.uid === 'slurm-cluster-overview')!;
    const exprs = dataPanels(overview).flatMap((p) => targetsOf(p).map((t) => String(t.expr)));
    const q = exprs.filter((e) => e.startsWith('histogram_quantile('));
    assert.equal(q.length, 3);
    for (const e of q) assert.match(e, /sum by \(cluster, partition, le\) \(rate\(slurm_job_queue_wait_seconds_bucket\{[^}]*\}\[\$__rate_interval\]\)\)/);
  });

  const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  it('every query parses (promtool check rules, each query as a recording rule)', { skip: promtool.status === 0 ? false : 'promtool not installed' }, () => {
    const rules: string[] = ['groups:', '  - name: dashboards', '    rules:'];
    let n = 0;
    for (const d of DASHBOARDS) {
      for (const q of queriesOf(d)) {
        rules.push(`      - record: dashboard_query_${n++}`, `        expr: ${JSON.stringify(substituted(q.expr))}`);
      }
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'dashboards-promtool-'));
    try {
      const file = path.join(dir, 'rules.yml');
      writeFileSync(file, rules.join('\n') + '\n');
      const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, new RegExp(`SUCCESS: ${n} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the PromQL tokenizer of this test', () => {
  it('finds metric names, skipping label matchers, strings, functions, keywords, durations and variables', () => {
    const a = analyze(
      'sum by (state, le) (rate(foo_total{a="b{c} bar_x",d=~"$cluster"}[$__rate_interval] offset 1h30m)) / on (job) group_left (x) ' +
        'bar and ignoring (y) histogram_quantile(0.9, baz_bucket{le!="+Inf"}) > bool 0 or vector(1e3) unless topk by (q) (5, qux) * Inf',
    );
    assert.deepEqual(a.selectors.map((s) => s.metric), ['foo_total', 'bar', 'baz_bucket', 'qux']);
    assert.deepEqual(a.groupingLabels, ['state', 'le', 'job', 'x', 'y', 'q']);
    assert.deepEqual(a.variables, ['cluster', '__rate_interval']);
    assert.deepEqual(a.selectors[0]!.matchers, [
      { label: 'a', op: '=', value: 'b{c} bar_x', variable: false },
      { label: 'd', op: '=~', value: '$cluster', variable: true },
    ]);
  });

  it('refuses an unknown function and a selector without a metric name', () => {
    assert.throws(() => analyze('rates(foo[5m])'), /unknown function rates/);
    assert.throws(() => analyze('sum({__name__="foo"})'), /without a metric name/);
  });

  it('would catch a panel naming a metric the exporter does not emit', () => {
    const names = analyze('sum(slurm_cluster_nodes_total{cluster=~"$cluster"}) / sum(slurm_nodes{cluster=~"$cluster"})').selectors.map((s) => s.metric);
    assert.deepEqual(names.filter((n) => !KNOWN.has(n)), ['slurm_cluster_nodes_total']);
  });
});
