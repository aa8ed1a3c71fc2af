import type { Collector, CardinalityLimits, CollectContext } from '../collectors/collector.ts';
import type { MetricFamily } from '../exposition/types.ts';
import type { ResourceData, ResourceKind } from '../slurm/model.ts';
import type { SnapshotStore } from './snapshot-store.ts';
import type { Logger } from '../logger.ts';
import type { LabelledCounter } from './counters.ts';
import type { AnomalyLog } from './anomalies.ts';
import { PreparedPiece } from '../exposition/prepared.ts';

export type Format = 'text' | 'openmetrics';
export type Renderer = (families: MetricFamily[], format: Format) => string;

interface Entry {
  collector: Collector;
  /** Versions of the snapshots the cached text was built from; a mismatch means re-render. */
  builtFrom: string;
  text: PreparedPiece | undefined;
  openmetrics: PreparedPiece | undefined;
  lastRenderSeconds: number;
  failures: number;
  /** Whether onRendered has been given a piece of it: only then does "nothing now" need telling. */
  told: boolean;
}

export interface RunnerOptions {
  /** Fixed cluster label from configuration, or undefined to use the name Slurm reports. */
  cluster: string | undefined;
  /** The name Slurm reported to an earlier collection thread: used until this one has heard it itself. */
  lastKnownCluster?: string | undefined;
  limits: CardinalityLimits;
  log: Logger;
  anomalies: AnomalyLog;
  /** [collector group, kind]: a collector that failed on the data counts as kind "collect". */
  errors: LabelledCounter;
  /** Told of every piece rendered anew (undefined: the collector has nothing now), to hand it to another thread. */
  onRendered?: (collector: string, format: Format, piece: PreparedPiece | undefined) => void;
}

/**
 * Runs the pure collectors when the snapshots they read change and keeps their rendered text, so a scrape
 * only joins strings. Text 0.0.4 is rendered at once; OpenMetrics on the first scrape that asks for it.
 */
export class CollectorRunner {
  private readonly entries: Entry[];
  private readonly formats = new Set<Format>(['text']);

  private readonly store: SnapshotStore;
  private readonly render: Renderer;
  private readonly opts: RunnerOptions;

  constructor(collectors: readonly Collector[], store: SnapshotStore, render: Renderer, opts: RunnerOptions) {
    this.store = store;
    this.render = render;
    this.opts = opts;
    this.entries = collectors.map((collector) => ({
      collector,
      builtFrom: '',
      text: undefined,
      openmetrics: undefined,
      lastRenderSeconds: 0,
      failures: 0,
      told: false,
    }));
    for (const c of collectors) opts.errors.inc([c.group, 'collect'], 0);
    store.onChange(() => this.refresh());
  }

  /** Kinds any collector needs: what the poller must fetch. */
  neededKinds(): ResourceKind[] {
    const kinds = new Set<ResourceKind>();
    for (const e of this.entries) for (const k of e.collector.needs) kinds.add(k);
    return [...kinds];
  }

  clusterLabel(): string {
    // Slurm 23.02+ names the cluster in every answer's meta; 22.05 only in job records.
    return this.opts.cluster || this.store.get('cluster')?.data.clusterName || this.store.get('jobs')?.data.find((j) => j.cluster)?.cluster || this.opts.lastKnownCluster || 'default';
  }

  /**
   * Whether the cluster label is known: configured, heard by an earlier thread, named by Slurm, or the ping is in
   * (or not polled here) and names none. Until then nothing is rendered, so no series appears for a moment under
   * cluster="default" and then again under the real name.
   */
  private labelSettled(): boolean {
    if (this.opts.cluster || this.opts.lastKnownCluster) return true;
    if (this.store.get('cluster') || this.store.get('jobs')?.data.some((j) => j.cluster)) return true;
    return !this.entries.some((e) => e.collector.needs.includes('cluster'));
  }

  /** Re-renders every collector whose inputs changed. Cheap when nothing did. */
  refresh(): void {
    if (!this.labelSettled()) return;
    const cluster = this.clusterLabel();
    for (const e of this.entries) {
      const key = this.inputKey(e.collector, cluster);
      if (key === e.builtFrom) continue;
      this.build(e, key, cluster);
    }
  }

  /**
   * Cached pieces for a scrape, in collector order. Formats are rendered when a collector's inputs change, for
   * every format asked for so far (text at start; Prometheus asks for OpenMetrics). The metric families are
   * not kept: at 10k nodes they weigh more than both texts. The first scrape in a new format renders it now.
   */
  pieces(format: Format, only?: ReadonlySet<string>): PreparedPiece[] {
    return [...this.piecesByCollector(format, only).values()];
  }

  /** Renders `format` from now on (text is rendered from the start; OpenMetrics once a scraper asks for it). */
  wantFormat(format: Format): void {
    if (this.formats.has(format)) return;
    this.formats.add(format);
    for (const e of this.entries) e.builtFrom = '';
    this.refresh();
  }

  /** The same pieces keyed by collector name, for joining several clusters' pages collector by collector. */
  piecesByCollector(format: Format, only?: ReadonlySet<string>): Map<string, PreparedPiece> {
    this.wantFormat(format);
    const out = new Map<string, PreparedPiece>();
    for (const e of this.entries) {
      if (only && !only.has(e.collector.group)) continue;
      const piece = format === 'text' ? e.text : e.openmetrics;
      if (piece) out.set(e.collector.name, piece);
    }
    return out;
  }

  renderSeconds(): { collector: string; seconds: number }[] {
    return this.entries.map((e) => ({ collector: e.collector.name, seconds: e.lastRenderSeconds }));
  }

  private tell(e: Entry): void {
    if (!this.opts.onRendered) return;
    // A new thread has nothing yet for a collector whose data the last one left: that is not news to tell.
    if (!e.told && !e.text && !e.openmetrics) return;
    for (const f of this.formats) this.opts.onRendered(e.collector.name, f, f === 'text' ? e.text : e.openmetrics);
    e.told = Boolean(e.text || e.openmetrics);
  }

  private inputKey(c: Collector, cluster: string): string {
    const parts = [cluster];
    for (const k of c.needs) {
      const s = this.store.get(k);
      if (!s) return 'missing';
      parts.push(`${k}:${s.version}`);
    }
    return parts.join('|');
  }

  private build(e: Entry, key: string, cluster: string): void {
    if (key === 'missing') {
      // Before the first success, or on a standby: no Slurm series rather than zeros.
      e.builtFrom = key;
      e.text = undefined;
      e.openmetrics = undefined;
      this.tell(e);
      return;
    }
    const data: Partial<ResourceData> = {};
    for (const k of e.collector.needs) {
      (data as Record<string, unknown>)[k] = this.store.get(k)?.data;
    }
    let newest = 0;
    for (const k of e.collector.needs) newest = Math.max(newest, this.store.get(k)?.takenAt ?? 0);
    const ctx: CollectContext = {
      cluster,
      data,
      now: newest / 1000,
      limits: this.opts.limits,
      anomaly: (what) => this.opts.anomalies.report(e.collector.group, what),
    };
    const t0 = performance.now();
    try {
      const families = e.collector.collect(ctx);
      const piece = (f: Format): PreparedPiece | undefined => {
        if (!this.formats.has(f)) return undefined;
        const text = this.render(families, f);
        return text ? new PreparedPiece(text) : undefined;
      };
      e.text = piece('text');
      e.openmetrics = piece('openmetrics');
      e.builtFrom = key;
      this.tell(e);
    } catch (err) {
      // A collector bug on odd data costs that collector its update, not the page: the old text stays.
      e.failures++;
      e.builtFrom = key;
      this.opts.errors.inc([e.collector.group, 'collect']);
      this.opts.log.error({ collector: e.collector.name, err: err instanceof Error ? err.message : String(err) }, 'collector failed; keeping its previous output');
    } finally {
      e.lastRenderSeconds = (performance.now() - t0) / 1000;
    }
  }
}
