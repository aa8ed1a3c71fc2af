// Each collector once, on the answers just fetched, through the exporter's own collector runner and text
// renderer: supported (and how many series it makes), unsupported on this cluster, failing, or disabled.
import type { Collector } from '../collectors/collector.ts';
import { ALL_COLLECTORS } from '../collectors/registry.ts';
import { groupEnabled } from '../cluster-pipeline.ts';
import type { ExporterConfig } from '../config/types.ts';
import { renderFamilies } from '../exposition/writer.ts';
import type { Logger } from '../logger.ts';
import { AnomalyLog } from '../poll/anomalies.ts';
import { CollectorRunner } from '../poll/collector-runner.ts';
import { LabelledCounter } from '../poll/counters.ts';
import { SnapshotStore } from '../poll/snapshot-store.ts';
import type { ResourceKind } from '../slurm/model.ts';
import { endpointOf, RESOURCES } from '../slurm/resources.ts';
import type { Report } from './report.ts';
import type { Fetched } from './resources-check.ts';

function disabledBy(c: Collector, cfg: ExporterConfig): string | undefined {
  if (!(cfg.collectors[c.group]?.enabled ?? true)) return `collectors.${c.group}.enabled is false`;
  if (!groupEnabled(cfg, c.group)) return 'slurm.native.url is not set';
  if (c.switch !== undefined && !cfg.limits[c.switch]) return `limits.${c.switch} is false`;
  return undefined;
}

function storeOf(fetched: Fetched): SnapshotStore {
  const store = new SnapshotStore();
  for (const [kind, o] of fetched.outcomes) if (o.state === 'ok') store.set(kind, fetched.data[kind]!, o.takenAt);
  return store;
}

/** Renders one collector; the series count, or the error it threw. */
function render(c: Collector, store: SnapshotStore, cfg: ExporterConfig): { series: number } | { error: string } {
  let error: string | undefined;
  const log: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (obj) => (error = String((obj as { err?: unknown }).err ?? 'failed')),
  };
  const runner = new CollectorRunner([c], store, renderFamilies, { cluster: cfg.slurm.cluster, limits: cfg.limits, log, anomalies: new AnomalyLog(log), errors: new LabelledCounter() });
  runner.refresh();
  if (error !== undefined) return { error };
  const text = runner.pieces('text').map((p) => p.raw.toString('utf8')).join('');
  return { series: text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length };
}

function unsupportedFix(c: Collector, kind: ResourceKind, reason: string): string {
  const alone = ALL_COLLECTORS.filter((x) => x.group === c.group).length === 1;
  const off = alone ? `; --no-collector.${c.group} stops asking` : '';
  const r = RESOURCES[kind];
  // slurmctld's own metrics never come through slurmrestd: only the native source reads them.
  if (r.plugin === 'slurmctld') return `slurmctld serves these itself (Slurm 25.11+, MetricsType=metrics/openmetrics): read them with slurm.source native${off}`;
  if (/newer Slurm releases/.test(reason)) return `nothing to fix on Slurm's side: /${r.plugin}/${r.since}/${r.path} comes with API ${r.since} (a newer Slurm)${off}`;
  return `nothing to fix if that part of Slurm is not set up here (e.g. slurmdbd); else set it up on the Slurm side${off}`;
}

function reasonOf(fetched: Fetched, kind: ResourceKind): string {
  const o = fetched.outcomes.get(kind);
  return o && 'reason' in o ? o.reason : '';
}

function one(report: Report, c: Collector, cfg: ExporterConfig, fetched: Fetched, store: SnapshotStore): void {
  const entry = { collector: c.name, group: c.group };
  const off = disabledBy(c, cfg);
  if (off) {
    report.collectors.push({ ...entry, state: 'disabled', series: 0 });
    report.add({ section: 'collectors', check: c.name, status: 'skip', message: `disabled (${off})` });
    return;
  }
  const outcome = (k: ResourceKind) => fetched.outcomes.get(k)?.state ?? 'skipped';
  const unsupported = c.needs.filter((k) => outcome(k) === 'unsupported');
  const failing = c.needs.filter((k) => outcome(k) !== 'ok' && outcome(k) !== 'unsupported');
  if (unsupported.length) {
    report.collectors.push({ ...entry, state: 'unsupported', series: 0 });
    report.add({ section: 'collectors', check: c.name, status: 'warn', message: `unsupported on this cluster: ${reasonOf(fetched, unsupported[0]!)}`, fix: unsupportedFix(c, unsupported[0]!, reasonOf(fetched, unsupported[0]!)) });
    return;
  }
  if (failing.length) {
    const names = failing.map(endpointOf).join(', ');
    report.collectors.push({ ...entry, state: 'failing', series: 0 });
    // The failed request is the problem, reported (with its fix) once under resources.
    report.add({ section: 'collectors', check: c.name, status: 'skip', message: `failing: no data, the ${names} request failed (see resources)` });
    return;
  }
  const r = render(c, store, cfg);
  if ('error' in r) {
    report.collectors.push({ ...entry, state: 'failing', series: 0 });
    report.add({ section: 'collectors', check: c.name, status: 'fail', message: `failing: the collector threw on this cluster's data: ${r.error}`, fix: 'report it with this output (the exporter keeps serving the other collectors)' });
    return;
  }
  report.collectors.push({ ...entry, state: 'supported', series: r.series });
  report.add({ section: 'collectors', check: c.name, status: 'ok', message: `${r.series} series`, data: { series: r.series } });
}

export function checkCollectors(report: Report, cfg: ExporterConfig, fetched: Fetched): void {
  if (![...fetched.outcomes.values()].some((o) => o.state === 'ok')) {
    for (const c of ALL_COLLECTORS) report.collectors.push({ collector: c.name, group: c.group, state: disabledBy(c, cfg) ? 'disabled' : 'failing', series: 0 });
    report.add({ section: 'collectors', check: 'all', status: 'skip', message: 'not rendered: no request answered (see resources)' });
    return;
  }
  const store = storeOf(fetched);
  for (const c of ALL_COLLECTORS) one(report, c, cfg, fetched, store);
  const supported = report.collectors.filter((x) => x.state === 'supported');
  const total = supported.reduce((n, x) => n + x.series, 0);
  report.add({ section: 'collectors', check: 'total', status: 'ok', message: `${total} series from ${supported.length} collector(s), plus the exporter's own slurm_exporter_* metrics`, data: { series: total } });
}

/** Resource kinds the enabled collectors read. */
export function neededKinds(cfg: ExporterConfig): ResourceKind[] {
  return [...new Set(ALL_COLLECTORS.filter((c) => !disabledBy(c, cfg)).flatMap((c) => c.needs))];
}
