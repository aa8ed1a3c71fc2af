// The main thread's side of clusters collected in worker threads. Each WorkerCluster keeps the last pieces and
// the last state its thread sent, so scrapes, /ready and the exporter's own metrics never wait for collection.
// A CollectionThread carries one or more clusters (server.collection.threads) and is supervised: one that exits
// or throws (crash) or sends nothing for hangTimeout (hang) is ended, counted for each of its clusters, logged
// and started again with the same clusters and activation, while their last good data stays served with its age.
import { Worker } from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterConfig } from '../config/types.ts';
import { type Logger, withFields } from '../logger.ts';
import type { Format } from '../poll/collector-runner.ts';
import { LabelledCounter } from '../poll/counters.ts';
import { PreparedPiece } from '../exposition/prepared.ts';
import { collectorByName } from '../collectors/registry.ts';
import type { ResourceKind } from '../slurm/model.ts';
import { type ClusterHandle, type ClusterState, RESTART_REASONS, enabledCollectors, groupsOf, kindsOf } from '../cluster-pipeline.ts';
import type { ClusterInit, FromWorker, PieceUpdate, ToWorker, WorkerInit } from './protocol.ts';

// The thread's entry beside this file: collect-worker.ts from the sources, collect-worker.js once built.
const ENTRY = new URL(`./collect-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** Time a new thread has to load its modules and say its first word. */
const STARTUP_MS = 60_000;

export interface HostOptions {
  identity: string;
  /** No message for this long: the thread is ended and started again. */
  hangTimeoutMs: number;
  debug: boolean;
  log: Logger;
}

type Reason = (typeof RESTART_REASONS)[number];
type Entries = ClusterState['restarts'];

/** What the page shows before the thread has said anything: no Slurm data, every group waiting. */
function initialState(cfg: ClusterConfig): ClusterState {
  return {
    cluster: cfg.slurm.cluster ?? 'default',
    groups: [],
    kinds: [],
    counters: { errors: [], apiErrors: [], requests: [], responseBytes: [], collectorErrors: [], anomalies: [] },
    guard: { cacheHits: 0, rateLimitedMs: 0 },
    restarts: [],
    source: 'collection thread starting',
    starting: true,
  };
}

function addEntries(a: Entries, b: Entries): Entries {
  const sum = new LabelledCounter();
  for (const e of [...a, ...b]) sum.inc(e.labels, e.value);
  return sum.entries();
}

/** A status of the new thread that still knows when the old one last succeeded: the data it left is that old. */
function carryStatuses(old: ClusterState['kinds'], now: ClusterState['kinds']): ClusterState['kinds'] {
  const byKey = new Map(old.map((s) => [`${s.group}/${s.kind}`, s]));
  const out = now.map((s) => {
    const o = byKey.get(`${s.group}/${s.kind}`);
    byKey.delete(`${s.group}/${s.kind}`);
    return o ? { ...s, polls: s.polls + o.polls, lastSuccessAt: s.lastSuccessAt ?? o.lastSuccessAt } : s;
  });
  return [...out, ...byKey.values()];
}

/**
 * The state across restarts: counters keep counting from where the dead thread left them (no reset in the
 * middle of a series), and the age of the data it left keeps growing until the new thread replaces it.
 */
function combine(before: ClusterState | undefined, now: ClusterState): ClusterState {
  if (!before) return now;
  const c = (k: keyof ClusterState['counters']) => addEntries(before.counters[k], now.counters[k]);
  return {
    ...now,
    groups: carryStatuses(before.groups, now.groups),
    kinds: carryStatuses(before.kinds, now.kinds),
    counters: { errors: c('errors'), apiErrors: c('apiErrors'), requests: c('requests'), responseBytes: c('responseBytes'), collectorErrors: c('collectorErrors'), anomalies: c('anomalies') },
    guard: { cacheHits: before.guard.cacheHits + now.guard.cacheHits, rateLimitedMs: before.guard.rateLimitedMs + now.guard.rateLimitedMs },
  };
}

/** One cluster collected in a worker thread, as main.ts sees it. */
export class WorkerCluster implements ClusterHandle {
  readonly id: number;
  private current: ClusterConfig;
  private thread: CollectionThread | undefined;
  readonly log: Logger;
  private last: ClusterState;
  /** What the threads before the current one counted and last saw. */
  private carried: ClusterState | undefined;
  private readonly pieceMap = new Map<Format, Map<string, PreparedPiece>>([['text', new Map()]]);
  private readonly formatWaiters = new Map<Format, (() => void)[]>();
  private readonly restarts = new LabelledCounter();
  private readonly active = new Set<ResourceKind>();
  private received = 0;

  constructor(id: number, cfg: ClusterConfig, log: Logger) {
    this.id = id;
    this.current = cfg;
    this.log = cfg.name === undefined ? log : withFields(log, { cluster: cfg.name });
    this.last = initialState(cfg);
    for (const r of RESTART_REASONS) this.restarts.inc([r], 0);
  }

  /** Set once, by the thread that carries it. */
  attach(thread: CollectionThread): void {
    this.thread = thread;
  }

  get cfg(): ClusterConfig {
    return this.current;
  }

  get collectors(): readonly string[] {
    return enabledCollectors(this.current).map((c) => c.name);
  }

  /** What a (re)started thread needs to carry this cluster on. */
  initFor(): ClusterInit {
    return { id: this.id, cfg: this.current, formats: [...this.pieceMap.keys()], lastKnownCluster: this.last.starting ? undefined : this.last.cluster, active: [...this.active] };
  }

  activate(kinds?: readonly ResourceKind[]): void {
    for (const k of kinds ?? kindsOf(this.current, groupsOf(this.current))) this.active.add(k);
    this.thread?.post({ t: 'activate', id: this.id, kinds: kinds ? [...kinds] : undefined });
  }

  deactivate(kinds?: readonly ResourceKind[]): void {
    for (const k of kinds ?? [...this.active]) this.active.delete(k);
    this.thread?.post({ t: 'deactivate', id: this.id, kinds: kinds ? [...kinds] : undefined });
  }

  pieces(format: Format, only?: ReadonlySet<string>): Map<string, PreparedPiece> | Promise<Map<string, PreparedPiece>> {
    const have = this.pieceMap.get(format);
    if (have) return this.filter(have, only);
    // The first scrape in a new format: the thread renders it once, from then on with every change.
    this.pieceMap.set(format, new Map());
    this.thread?.post({ t: 'format', id: this.id, format });
    return new Promise((resolve) => {
      const done = () => resolve(this.filter(this.pieceMap.get(format)!, only));
      const timer = setTimeout(done, 10_000);
      this.formatWaiters.set(format, [...(this.formatWaiters.get(format) ?? []), () => (clearTimeout(timer), done())]);
    });
  }

  state(): ClusterState {
    const s = combine(this.carried, this.last);
    // What this replica is to poll is what leadership last said here; the thread may not have heard it yet.
    const kinds = s.kinds.map((k) => ({ ...k, active: this.active.has(k.kind) }));
    return { ...s, kinds, restarts: this.restarts.entries() };
  }

  reload(next: ClusterConfig): void {
    this.current = next;
    this.thread?.post({ t: 'reload', id: this.id, cfg: next });
  }

  /** The thread that carries this cluster, for the crash and hang tests. */
  collectionThread(): CollectionThread | undefined {
    return this.thread;
  }

  async stop(): Promise<void> {
    await this.thread?.stop();
  }

  version(): number {
    return this.received;
  }

  receivePieces(pieces: PieceUpdate[]): void {
    this.received++;
    for (const p of pieces) {
      const map = this.pieceMap.get(p.format) ?? new Map<string, PreparedPiece>();
      this.pieceMap.set(p.format, map);
      if (p.bytes) map.set(p.collector, PreparedPiece.fromBytes(p.bytes));
      else map.delete(p.collector);
    }
  }

  receiveState(state: ClusterState): void {
    this.received++;
    this.last = state;
  }

  formatReady(format: Format): void {
    for (const w of this.formatWaiters.get(format) ?? []) w();
    this.formatWaiters.delete(format);
  }

  /** Its thread ended: keep what it counted and served, count the restart, drop what this replica no longer polls. */
  threadEnded(reason: Reason): void {
    this.carried = combine(this.carried, this.last);
    // Between threads the carried statuses say how old the served data is; readiness follows that age.
    this.last = { ...initialState(this.current), cluster: this.last.cluster, source: this.last.source, starting: false };
    this.restarts.inc([reason]);
    for (const map of this.pieceMap.values()) {
      for (const name of [...map.keys()]) if (!(collectorByName(name)?.needs.some((k) => this.active.has(k)) ?? false)) map.delete(name);
    }
  }

  private filter(m: Map<string, PreparedPiece>, only?: ReadonlySet<string>): Map<string, PreparedPiece> {
    if (!only) return m;
    return new Map([...m].filter(([name]) => only.has(collectorByName(name)?.group ?? '')));
  }
}

/** One worker thread carrying some clusters, supervised. */
export class CollectionThread {
  private readonly members: ReadonlyMap<number, WorkerCluster>;
  private readonly opts: HostOptions;
  private worker: Worker | undefined;
  private lastHeardAt = Date.now();
  /** Whether the current thread has said anything yet: loading its modules is not a hang. */
  private heard = false;
  private ending: Reason | 'stop' | undefined;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private backoffMs = 1000;
  private startedAt = 0;
  private readonly watchdog: NodeJS.Timeout;

  constructor(members: readonly WorkerCluster[], opts: HostOptions) {
    this.members = new Map(members.map((m) => [m.id, m]));
    this.opts = opts;
    for (const m of members) m.attach(this);
    this.spawn();
    this.watchdog = setInterval(() => this.checkAlive(), Math.min(1000, opts.hangTimeoutMs / 4));
    this.watchdog.unref();
  }

  post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  /** Ends the thread's event loop for `ms` (the hang tests). */
  block(ms: number): void {
    this.post({ t: 'block', ms });
  }

  /** The worker itself, for the crash tests. */
  current(): Worker | undefined {
    return this.worker;
  }

  /** Stops every cluster on it; called once per member, done once. */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<void> {
    this.stopped = true;
    clearInterval(this.watchdog);
    const w = this.worker;
    if (!w) return;
    this.ending = 'stop';
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void w.terminate().then(() => resolve()), 5000);
      w.once('exit', () => (clearTimeout(timer), resolve()));
      w.postMessage({ t: 'stop' } satisfies ToWorker);
    });
  }

  private spawn(): void {
    const init: WorkerInit = { identity: this.opts.identity, clusters: [...this.members.values()].map((m) => m.initFor()), debug: this.opts.debug };
    const names = [...this.members.values()].map((m) => m.cfg.name ?? 'cluster').join(',');
    const w = new Worker(ENTRY, {
      workerData: init,
      name: `collect ${names}`,
      // Not the parent's flags (a test runner's or an inspector's do not belong in a collection thread).
      execArgv: process.execArgv.filter((a) => a === '--enable-source-maps'),
      // The same small nursery bin/slurm-exporter gives the main thread (--max-semi-space-size=16): parsing makes
      // short-lived garbage only, and a smaller young generation keeps the peak RSS down (docs/performance.md).
      resourceLimits: { maxYoungGenerationSizeMb: 48 },
    });
    this.worker = w;
    this.startedAt = Date.now();
    this.lastHeardAt = Date.now();
    this.heard = false;
    this.ending = undefined;
    w.on('message', (m: FromWorker) => this.receive(m));
    w.on('error', (err) => this.opts.log.error({ err: err.message, clusters: names }, 'collection thread failed'));
    w.on('exit', (code) => this.exited(w, code));
  }

  private receive(m: FromWorker): void {
    this.lastHeardAt = Date.now();
    this.heard = true;
    switch (m.t) {
      case 'update': {
        const c = this.members.get(m.id);
        c?.receivePieces(m.pieces);
        c?.receiveState(m.state);
        return;
      }
      case 'states':
        for (const s of m.states) this.members.get(s.id)?.receiveState(s.state);
        return;
      case 'format-ready':
        return this.members.get(m.id)?.formatReady(m.format);
      case 'log': {
        const log = m.id === undefined ? this.opts.log : (this.members.get(m.id)?.log ?? this.opts.log);
        return log[m.level](m.obj, m.msg);
      }
      case 'stopped':
        return;
    }
  }

  private checkAlive(): void {
    if (this.stopped || !this.worker || this.ending) return;
    const silent = Date.now() - this.lastHeardAt;
    if (silent <= (this.heard ? this.opts.hangTimeoutMs : Math.max(STARTUP_MS, this.opts.hangTimeoutMs))) return;
    this.ending = 'hang';
    this.opts.log.error({ silent_ms: silent, hang_timeout_ms: this.opts.hangTimeoutMs, clusters: this.names() }, 'collection thread hangs; restarting it (its last data stays served)');
    void this.worker.terminate();
  }

  private names(): string {
    return [...this.members.values()].map((m) => m.cfg.name ?? 'cluster').join(',');
  }

  private exited(w: Worker, code: number): void {
    if (w !== this.worker) return;
    this.worker = undefined;
    if (this.stopped || this.ending === 'stop') return;
    const reason: Reason = this.ending === 'hang' ? 'hang' : 'crash';
    for (const m of this.members.values()) m.threadEnded(reason);
    // A thread that ran a minute before dying starts again at once; one that keeps dying waits longer each time.
    if (Date.now() - this.startedAt > 60_000) this.backoffMs = 1000;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(30_000, this.backoffMs * 2);
    if (reason === 'crash') this.opts.log.error({ exit_code: code, restart_in_ms: wait, clusters: this.names() }, 'collection thread exited; restarting it (its last data stays served)');
    setTimeout(() => {
      if (!this.stopped) this.spawn();
    }, wait).unref();
  }
}

/** The clusters spread over `threads` collection threads, round robin (cluster i on thread i mod threads). */
export function collectInThreads(clusters: readonly ClusterConfig[], threads: number, opts: HostOptions): WorkerCluster[] {
  const handles = clusters.map((c, i) => new WorkerCluster(i, c, opts.log));
  const n = Math.max(1, Math.min(threads, handles.length));
  for (let t = 0; t < n; t++) new CollectionThread(handles.filter((_, i) => i % n === t), opts);
  return handles;
}
