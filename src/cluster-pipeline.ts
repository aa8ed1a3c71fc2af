// One cluster's pipeline: its source (slurmrestd, the CLI or slurmctld's metrics, behind the rate limit and
// cache) → poller → snapshots → collectors → cached pieces. main.ts runs one per entry of `clusters:` (or one
// for the top-level sections) and joins their pages; nothing here is shared between clusters, so one
// cluster's failures never touch another's data.
import type { ClusterConfig, ExporterConfig } from './config/types.ts';
import { stalenessLimitFor } from './config/schema.ts';
import { type Logger, withFields } from './logger.ts';
import { type GroupStatus, Poller } from './poll/poller.ts';
import { SnapshotStore } from './poll/snapshot-store.ts';
import { CollectorRunner, type Format, type RunnerOptions } from './poll/collector-runner.ts';
import { LabelledCounter } from './poll/counters.ts';
import { AnomalyLog } from './poll/anomalies.ts';
import { ALL_COLLECTORS } from './collectors/registry.ts';
import type { Collector } from './collectors/collector.ts';
import { renderFamilies } from './exposition/writer.ts';
import type { PreparedPiece } from './exposition/prepared.ts';
import type { ResourceKind } from './slurm/model.ts';
import { RestSource } from './slurm/rest/client.ts';
import { CliSource } from './slurm/cli/source.ts';
import { NativeSource } from './slurm/native/source.ts';
import { RoutedSource } from './slurm/routed-source.ts';
import type { SlurmSource } from './slurm/source.ts';
import { GuardedSource } from './slurm/guarded-source.ts';
import { COLLECTOR_GROUPS } from './slurm/resources.ts';
import type { ClusterSelfInput } from './self-metrics.ts';
import { VERSION } from './version.ts';

/** slurmrestd, the Slurm commands or slurmctld's metrics (plus those beside either), behind the rate limit and cache. */
export function makeSource(identity: string, sc: ExporterConfig['slurm'], log: Logger): GuardedSource {
  const userAgent = `slurm-exporter/${VERSION} (${identity})`;
  const native = () =>
    new NativeSource({ url: sc.native.url!, endpoints: sc.native.endpoints, requestTimeoutMs: sc.requestTimeoutMs, maxResponseBytes: sc.maxResponseBytes, tls: sc.tls, userAgent, alone: sc.source === 'native' });
  let main: SlurmSource;
  if (sc.source === 'native') main = native();
  else if (sc.source === 'cli') main = new CliSource({ binDir: sc.cli.binDir, slurmConf: sc.cli.slurmConf, maxResponseBytes: sc.maxResponseBytes, apiVersion: sc.apiVersion }, log);
  else main = new RestSource(sc, log, { userAgent });
  if (sc.source !== 'native' && sc.native.url !== undefined) main = new RoutedSource(main, native(), ['native']);
  return new GuardedSource(main, { rateLimit: sc.rateLimit, cache: sc.cache });
}

/**
 * Whether a collector group runs for this cluster: enabled, and for the native group only where slurmctld's
 * metrics are configured (elsewhere it would only ever report itself unsupported).
 */
export function groupEnabled(c: Pick<ClusterConfig, 'collectors' | 'slurm'>, group: string): boolean {
  if (!(c.collectors[group]?.enabled ?? true)) return false;
  return group !== 'native' || c.slurm.source === 'native' || c.slurm.native.url !== undefined;
}

/** The collectors whose group runs and whose `limits` switch, if any, is on. */
export function enabledCollectors(c: Pick<ClusterConfig, 'collectors' | 'limits' | 'slurm'>): Collector[] {
  return ALL_COLLECTORS.filter((x) => groupEnabled(c, x.group) && (x.switch === undefined || c.limits[x.switch]));
}

/** Why a collection thread was restarted (slurm_exporter_collection_restarts_total). */
export const RESTART_REASONS = ['crash', 'hang'] as const;

/** The enabled collector groups of a cluster: its units of work. */
export function groupsOf(cfg: ClusterConfig): string[] {
  return COLLECTOR_GROUPS.filter((g) => groupEnabled(cfg, g));
}

/** The resource kinds the enabled collectors of these groups read. */
export function kindsOf(cfg: ClusterConfig, groups: readonly string[]): ResourceKind[] {
  return [...new Set(enabledCollectors(cfg).filter((c) => groups.includes(c.group)).flatMap((c) => c.needs))];
}

/** A cluster's state as plain data: what the exporter's own metrics and /ready read, wherever collection runs. */
export interface ClusterState extends ClusterSelfInput {
  /** Per polled resource kind (Poller.statuses). */
  kinds: GroupStatus[];
  /** The source, described without secrets. */
  source: string;
  /** Set until the collection thread has reported for the first time. */
  starting?: boolean;
  /** V8 heap of the collection thread (used, total), bytes; absent when collection runs on the main thread. */
  heap?: { used: number; total: number };
}

/** Problems that keep a cluster from being ready: an active group with no or stale data. */
export function problemsOf(state: ClusterState, cfg: ClusterConfig, server: ExporterConfig['server'], now: number): string[] {
  if (state.starting) return ['the collection thread is starting'];
  const out: string[] = [];
  for (const s of state.kinds) {
    if (!s.active || s.unsupported) continue;
    const limit = stalenessLimitFor({ server, collectors: cfg.collectors }, s.group);
    if (s.lastSuccessAt === undefined) out.push(`${s.group}: no successful collection yet${s.lastError ? ` (last error: ${s.lastError})` : ''}`);
    else if (now - s.lastSuccessAt > limit) out.push(`${s.group}: data is ${Math.round((now - s.lastSuccessAt) / 1000)} s old (limit ${limit / 1000} s)`);
  }
  return out;
}

/** What main.ts drives for each cluster, whether its collection runs in a worker thread or in the main one. */
export interface ClusterHandle {
  readonly cfg: ClusterConfig;
  /** Names of the collectors that run for this cluster. */
  readonly collectors: readonly string[];
  activate(kinds?: readonly ResourceKind[]): void;
  deactivate(kinds?: readonly ResourceKind[]): void;
  /** The cached pieces by collector name, of the groups in `only` (all when undefined). */
  pieces(format: Format, only?: ReadonlySet<string>): Map<string, PreparedPiece> | Promise<Map<string, PreparedPiece>>;
  state(): ClusterState;
  /** Grows whenever new data or state arrived: what is rendered from state() is current while it stays the same. */
  version(): number;
  /** New intervals, and a new source from the next poll when the slurm section changed (SIGHUP). */
  reload(next: ClusterConfig): void;
  stop(): Promise<void>;
}

/** The whole pipeline, for the thread that runs it. */
export interface ClusterPipeline {
  cfg: ClusterConfig;
  store: SnapshotStore;
  runner: CollectorRunner;
  poller: Poller;
  state(): ClusterState;
  reload(next: ClusterConfig): void;
  stop(): Promise<void>;
}

export function createClusterPipeline(identity: string, cluster: ClusterConfig, log: Logger, thread: Pick<RunnerOptions, 'onRendered' | 'lastKnownCluster'> = {}): ClusterPipeline {
  let cfg = cluster;
  let source = makeSource(identity, cfg.slurm, log);
  const store = new SnapshotStore();
  const clusterLog = cfg.name === undefined ? log : withFields(log, { cluster: cfg.name });
  const anomalies = new AnomalyLog(clusterLog);
  anomalies.seed(groupsOf(cfg));
  const errors = new LabelledCounter();
  const runner = new CollectorRunner(enabledCollectors(cfg), store, renderFamilies, { cluster: cfg.slurm.cluster, limits: cfg.limits, log: clusterLog, anomalies, errors, ...thread });
  const poller = new Poller(source, store, runner.neededKinds(), cfg.collectors, clusterLog, anomalies);
  return {
    get cfg() {
      return cfg;
    },
    store,
    runner,
    poller,
    state: () => ({
      cluster: runner.clusterLabel(),
      groups: poller.groupStatuses(),
      kinds: poller.statuses(),
      counters: { errors: poller.stats.errors.entries(), apiErrors: poller.stats.apiErrors.entries(), requests: poller.stats.requests.entries(), responseBytes: poller.stats.responseBytes.entries(), collectorErrors: errors.entries(), anomalies: anomalies.counter.entries() },
      guard: { cacheHits: source.cacheHits, rateLimitedMs: source.rateLimitedMs },
      restarts: RESTART_REASONS.map((r) => ({ labels: [r], value: 0 })),
      source: source.describe(),
    }),
    reload(next) {
      poller.reconfigure(next.collectors);
      if (JSON.stringify(next.slurm) !== JSON.stringify(cfg.slurm)) {
        const old = poller.replaceSource((source = makeSource(identity, next.slurm, clusterLog)));
        void old.close().catch(() => undefined);
        clusterLog.info({ source: source.describe() }, 'reload: new Slurm source from the next poll');
      }
      cfg = next;
    },
    async stop() {
      await poller.stop();
      await source.close();
    },
  };
}

/** A cluster collected on the main thread (server.collection.workers: false). */
export function inThisThread(p: ClusterPipeline): ClusterHandle {
  let changes = 0;
  p.store.onChange(() => changes++);
  return {
    version: () => changes,
    get cfg() {
      return p.cfg;
    },
    collectors: enabledCollectors(p.cfg).map((c) => c.name),
    activate: (kinds) => p.poller.activate(kinds),
    deactivate: (kinds) => p.poller.deactivate(kinds),
    pieces: (format, only) => p.runner.piecesByCollector(format, only),
    state: () => p.state(),
    reload: (next) => p.reload(next),
    stop: () => p.stop(),
  };
}
