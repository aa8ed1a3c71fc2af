import type { ResourceKind } from '../slurm/model.ts';
import { FETCH_ERROR_KINDS, SlurmFetchError, type SlurmSource } from '../slurm/source.ts';
import { endpointOf, groupOf } from '../slurm/resources.ts';
import type { CollectorGroupConfig } from '../config/types.ts';
import type { Logger } from '../logger.ts';
import type { SnapshotStore } from './snapshot-store.ts';
import type { AnomalyLog } from './anomalies.ts';
import { nextDelayMs } from './backoff.ts';
import { LabelledCounter } from './counters.ts';

/** Error kinds of a poll; 'unsupported' is an answer, not an error, and 'collect' is the runner's. */
export const POLL_ERROR_KINDS = FETCH_ERROR_KINDS.filter((k) => k !== 'unsupported');


/** Per-group state, read by /ready, /health and the exporter's own metrics. */
export interface GroupStatus {
  group: string;
  kind: ResourceKind;
  active: boolean;
  polls: number;
  consecutiveFailures: number;
  lastAttemptAt: number | undefined;
  lastSuccessAt: number | undefined;
  lastDurationSeconds: number | undefined;
  lastSuccess: boolean | undefined;
  lastError: string | undefined;
  lastErrorKind: string | undefined;
  /** The cluster does not serve this resource (API version too old, plugin or slurmdbd not configured). */
  unsupported: boolean;
}

interface GroupRuntime {
  status: GroupStatus;
  cfg: CollectorGroupConfig;
  timer: NodeJS.Timeout | undefined;
  inflight: AbortController | undefined;
  running: Promise<void> | undefined;
}

export interface PollerStats {
  requests: LabelledCounter; // [endpoint]
  responseBytes: LabelledCounter; // [endpoint]
  apiErrors: LabelledCounter; // [endpoint, reason]
  errors: LabelledCounter; // [collector, kind]
}

/**
 * Runs one loop per resource kind on its group's interval and timeout. Never more than one request in
 * flight per kind; a failed poll leaves the last good snapshot in place. Scrapes never reach this.
 */
export class Poller {
  readonly stats: PollerStats = {
    requests: new LabelledCounter(),
    responseBytes: new LabelledCounter(),
    apiErrors: new LabelledCounter(),
    errors: new LabelledCounter(),
  };
  private readonly groups = new Map<ResourceKind, GroupRuntime>();
  private stopped = false;
  private initDone: Promise<void> | undefined;

  private source: SlurmSource;
  private readonly store: SnapshotStore;
  private readonly log: Logger;
  private readonly anomalies: AnomalyLog;

  constructor(
    source: SlurmSource,
    store: SnapshotStore,
    kinds: readonly ResourceKind[],
    groupConfig: Record<string, CollectorGroupConfig>,
    log: Logger,
    anomalies: AnomalyLog,
  ) {
    this.source = source;
    this.store = store;
    this.log = log;
    this.anomalies = anomalies;
    for (const kind of kinds) {
      const group = groupOf(kind);
      const endpoint = endpointOf(kind);
      // Zero series from the start, so rate() and increase() see the first request and the first error.
      this.stats.requests.inc([endpoint], 0);
      this.stats.responseBytes.inc([endpoint], 0);
      for (const reason of POLL_ERROR_KINDS) this.stats.apiErrors.inc([endpoint, reason], 0);
      for (const reason of POLL_ERROR_KINDS) this.stats.errors.inc([group, reason], 0);
      const cfg = groupConfig[group];
      if (!cfg) throw new Error(`no collector group configuration for "${group}"`);
      this.groups.set(kind, {
        cfg,
        timer: undefined,
        inflight: undefined,
        running: undefined,
        status: {
          group,
          kind,
          active: false,
          polls: 0,
          consecutiveFailures: 0,
          lastAttemptAt: undefined,
          lastSuccessAt: undefined,
          lastDurationSeconds: undefined,
          lastSuccess: undefined,
          lastError: undefined,
          lastErrorKind: undefined,
          unsupported: false,
        },
      });
    }
  }

  /** One status per polled resource kind. */
  statuses(): GroupStatus[] {
    return [...this.groups.values()].map((g) => ({ ...g.status }));
  }

  /**
   * One status per collector group, for the exporter's own metrics: a group that polls several kinds (slurmdbd:
   * diag and ping) succeeded when all its served kinds did, is as old as its oldest, and is supported when any
   * of its kinds is served.
   */
  groupStatuses(): GroupStatus[] {
    const byGroup = new Map<string, GroupStatus[]>();
    for (const s of this.statuses()) byGroup.set(s.group, [...(byGroup.get(s.group) ?? []), s]);
    return [...byGroup.values()].map(mergeStatuses);
  }

  /** Starts polling the given kinds (all when omitted); others stay as they are. */
  activate(kinds?: readonly ResourceKind[]): void {
    for (const [kind, g] of this.groups) {
      if (kinds && !kinds.includes(kind)) continue;
      if (g.status.active || this.stopped) continue;
      g.status.active = true;
      // A small random start spread keeps groups from hitting slurmrestd in the same millisecond.
      this.schedule(kind, g, Math.round(Math.random() * 200));
    }
  }

  /** Stops polling the given kinds (all when omitted), aborting requests in flight. */
  deactivate(kinds?: readonly ResourceKind[]): void {
    for (const [kind, g] of this.groups) {
      if (kinds && !kinds.includes(kind)) continue;
      g.status.active = false;
      if (g.timer) clearTimeout(g.timer);
      g.timer = undefined;
      g.inflight?.abort(new SlurmFetchError('aborted', 'polling stopped'));
    }
  }

  /**
   * New intervals and timeouts (SIGHUP). An idle group is rescheduled on its new interval at once; a poll in
   * flight finishes under its old timeout.
   */
  reconfigure(groupConfig: Record<string, CollectorGroupConfig>): void {
    for (const [kind, g] of this.groups) {
      const cfg = groupConfig[g.status.group];
      if (!cfg) continue;
      const changed = cfg.intervalMs !== g.cfg.intervalMs;
      g.cfg = cfg;
      if (changed && g.timer && g.status.active && !this.stopped) {
        clearTimeout(g.timer);
        g.timer = undefined;
        this.schedule(kind, g, nextDelayMs({ intervalMs: cfg.intervalMs, consecutiveFailures: g.status.consecutiveFailures, noFastRetry: g.status.lastErrorKind === 'auth' }));
      }
    }
  }

  /** Polls another source from the next poll on (SIGHUP with new slurm settings); returns the old one to close. */
  replaceSource(source: SlurmSource): SlurmSource {
    const old = this.source;
    this.source = source;
    this.initDone = undefined;
    return old;
  }

  isActive(kind: ResourceKind): boolean {
    return this.groups.get(kind)?.status.active ?? false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.deactivate();
    await Promise.allSettled([...this.groups.values()].map((g) => g.running));
  }

  /** Polls one kind now (tests, benchmarks); resolves when the attempt is done. */
  async pollOnce(kind: ResourceKind): Promise<void> {
    const g = this.groups.get(kind);
    if (!g) throw new Error(`kind ${kind} is not polled`);
    await this.runOnce(kind, g, false);
  }

  private schedule(kind: ResourceKind, g: GroupRuntime, delayMs: number): void {
    if (!g.status.active || this.stopped) return;
    g.timer = setTimeout(() => {
      g.timer = undefined;
      g.running = this.runOnce(kind, g, true).finally(() => {
        g.running = undefined;
        const auth = g.status.lastErrorKind === 'auth';
        this.schedule(
          kind,
          g,
          nextDelayMs({ intervalMs: g.cfg.intervalMs, consecutiveFailures: g.status.consecutiveFailures, noFastRetry: auth }),
        );
      });
    }, delayMs);
    g.timer.unref?.();
  }

  private async ensureInit(signal: AbortSignal): Promise<void> {
    // Shared by all groups; reset after a failure so the next poll negotiates again.
    this.initDone ??= this.source.init(signal).catch((err: unknown) => {
      this.initDone = undefined;
      throw err;
    });
    await this.initDone;
  }

  private async runOnce(kind: ResourceKind, g: GroupRuntime, scheduled: boolean): Promise<void> {
    const ctrl = new AbortController();
    g.inflight = ctrl;
    const timeout = setTimeout(
      () => ctrl.abort(new SlurmFetchError('timeout', `${kind}: no complete answer within ${g.cfg.timeoutMs} ms`)),
      g.cfg.timeoutMs,
    );
    const started = Date.now();
    const t0 = performance.now();
    g.status.lastAttemptAt = started;
    g.status.polls++;
    try {
      await this.ensureInit(ctrl.signal);
      const res = await this.source.fetch(kind, ctrl.signal);
      if (ctrl.signal.aborted) throw ctrl.signal.reason;
      this.stats.requests.inc([endpointOf(kind)], res.requests);
      this.stats.responseBytes.inc([endpointOf(kind)], res.bytes);
      for (const what of res.anomalies.unknown) this.anomalies.report(g.status.group, what);
      // A leader that lost its lease while this was in flight must not publish.
      if (this.stopped || (scheduled && !g.status.active)) return;
      this.store.set(kind, res.data, res.cachedAt ?? started);
      g.status.lastSuccess = true;
      g.status.lastSuccessAt = res.cachedAt ?? Date.now();
      g.status.consecutiveFailures = 0;
      g.status.lastError = undefined;
      g.status.lastErrorKind = undefined;
      g.status.unsupported = false;
    } catch (err) {
      const e = toFetchError(err, ctrl.signal);
      if (e.kind === 'aborted' && (!g.status.active || this.stopped)) return;
      if (e.kind === 'unsupported') return this.markUnsupported(g, e);
      this.recordFailure(kind, g, e);
    } finally {
      clearTimeout(timeout);
      g.status.lastDurationSeconds = (performance.now() - t0) / 1000;
      if (g.inflight === ctrl) g.inflight = undefined;
    }
  }

  // "Not served here" is an answer: no error counted, /ready unaffected, one log line until it changes.
  private markUnsupported(g: GroupRuntime, e: SlurmFetchError): void {
    if (!g.status.unsupported) this.log.info({ collector: g.status.group, reason: e.message }, 'not served by this cluster; the collector reports nothing until it is');
    g.status.unsupported = true;
    g.status.lastSuccess = undefined;
    g.status.consecutiveFailures = 0;
    g.status.lastError = e.message;
    g.status.lastErrorKind = e.kind;
    this.stats.requests.inc([endpointOf(g.status.kind)], 1);
  }

  private recordFailure(kind: ResourceKind, g: GroupRuntime, e: SlurmFetchError): void {
    g.status.lastSuccess = false;
    g.status.consecutiveFailures++;
    g.status.lastError = e.message;
    g.status.lastErrorKind = e.kind;
    this.stats.apiErrors.inc([endpointOf(kind), e.kind]);
    this.stats.errors.inc([g.status.group, e.kind]);
    this.stats.requests.inc([endpointOf(kind)], 1);
    const level = g.status.consecutiveFailures === 1 || g.status.consecutiveFailures % 10 === 0 ? 'warn' : 'debug';
    this.log[level](
      { collector: g.status.group, kind: e.kind, status: e.status, failures: g.status.consecutiveFailures, err: e.message },
      'poll failed; serving the last good data',
    );
  }
}

function mergeStatuses(list: GroupStatus[]): GroupStatus {
  const served = list.filter((s) => !s.unsupported);
  const first = list[0]!;
  if (list.length === 1 || served.length === 0) return { ...first, unsupported: served.length === 0 };
  const tried = served.filter((s) => s.lastSuccess !== undefined);
  const at = served.map((s) => s.lastSuccessAt);
  return {
    ...first,
    unsupported: false,
    polls: served.reduce((n, s) => n + s.polls, 0),
    consecutiveFailures: Math.max(...served.map((s) => s.consecutiveFailures)),
    lastDurationSeconds: served.reduce<number | undefined>((n, s) => (s.lastDurationSeconds === undefined ? n : (n ?? 0) + s.lastDurationSeconds), undefined),
    lastSuccess: tried.length === 0 ? undefined : tried.every((s) => s.lastSuccess),
    lastSuccessAt: at.some((t) => t === undefined) ? undefined : Math.min(...(at as number[])),
    lastError: served.find((s) => s.lastError)?.lastError,
    lastErrorKind: served.find((s) => s.lastErrorKind)?.lastErrorKind,
  };
}

function toFetchError(err: unknown, signal: AbortSignal): SlurmFetchError {
  // Our own abort reason (timeout vs. stop) says more than whatever the HTTP layer threw on abort.
  if (signal.aborted && signal.reason instanceof SlurmFetchError) return signal.reason;
  if (err instanceof SlurmFetchError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new SlurmFetchError('parse', `unexpected error: ${msg}`, { cause: err });
}
