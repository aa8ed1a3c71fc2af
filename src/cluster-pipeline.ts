// One cluster's pipeline: its source (slurmrestd, the CLI or slurmctld's metrics, behind the rate limit and
// cache) → poller → snapshots → collectors → cached pieces. main.ts runs one per entry of `clusters:` (or one
// for the top-level sections) and joins their pages; nothing here is shared between clusters, so one
// cluster's failures never touch another's data.
import type { ClusterConfig, ExporterConfig } from './config/types.ts';
import { stalenessLimitFor } from './config/schema.ts';
import { type Logger, withFields } from './logger.ts';
import { Poller } from './poll/poller.ts';
import { SnapshotStore } from './poll/snapshot-store.ts';
import { CollectorRunner } from './poll/collector-runner.ts';
import { LabelledCounter } from './poll/counters.ts';
import { AnomalyLog } from './poll/anomalies.ts';
import { ALL_COLLECTORS } from './collectors/registry.ts';
import type { Collector } from './collectors/collector.ts';
import { renderFamilies } from './exposition/writer.ts';
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

export interface ClusterPipeline {
  cfg: ClusterConfig;
  source(): GuardedSource;
  store: SnapshotStore;
  enabled: Collector[];
  runner: CollectorRunner;
  poller: Poller;
  anomalies: AnomalyLog;
  errors: LabelledCounter;
  /** The resource kinds the collectors of these groups read. */
  kindsFor(groups: readonly string[]): ResourceKind[];
  /** The enabled collector groups: this cluster's units of work. */
  groups(): string[];
  /** What its self-metrics need. */
  self(): ClusterSelfInput;
  /** Problems that keep this cluster from being ready: a group with no or stale data. */
  problems(server: ExporterConfig['server'], now: number): string[];
  /** New intervals, and a new source from the next poll when the slurm section changed (SIGHUP). */
  reload(next: ClusterConfig, identity: string, log: Logger): void;
  stop(): Promise<void>;
}

export function createClusterPipeline(identity: string, cluster: ClusterConfig, log: Logger): ClusterPipeline {
  let cfg = cluster;
  let source = makeSource(identity, cfg.slurm, log);
  const store = new SnapshotStore();
  const enabled = enabledCollectors(cfg);
  const clusterLog = cfg.name === undefined ? log : withFields(log, { cluster: cfg.name });
  const anomalies = new AnomalyLog(clusterLog);
  const groups = () => COLLECTOR_GROUPS.filter((g) => groupEnabled(cfg, g));
  anomalies.seed(groups());
  const errors = new LabelledCounter();
  const runner = new CollectorRunner(enabled, store, renderFamilies, { cluster: cfg.slurm.cluster, limits: cfg.limits, log: clusterLog, anomalies, errors });
  const poller = new Poller(source, store, runner.neededKinds(), cfg.collectors, clusterLog, anomalies);
  return {
    get cfg() {
      return cfg;
    },
    source: () => source,
    store,
    enabled,
    runner,
    poller,
    anomalies,
    errors,
    kindsFor: (gs) => [...new Set(enabled.filter((c) => gs.includes(c.group)).flatMap((c) => c.needs))],
    groups,
    self: () => ({ cluster: runner.clusterLabel(), poller, collectorErrors: errors, anomalies: anomalies.counter, guard: source }),
    problems(server, now) {
      const out: string[] = [];
      for (const s of poller.statuses()) {
        if (!s.active || s.unsupported) continue;
        const limit = stalenessLimitFor({ server, collectors: cfg.collectors }, s.group);
        if (s.lastSuccessAt === undefined) out.push(`${s.group}: no successful collection yet${s.lastError ? ` (last error: ${s.lastError})` : ''}`);
        else if (now - s.lastSuccessAt > limit) out.push(`${s.group}: data is ${Math.round((now - s.lastSuccessAt) / 1000)} s old (limit ${limit / 1000} s)`);
      }
      return out;
    },
    reload(next, id, l) {
      poller.reconfigure(next.collectors);
      if (JSON.stringify(next.slurm) !== JSON.stringify(cfg.slurm)) {
        const old = poller.replaceSource((source = makeSource(id, next.slurm, l)));
        void old.close().catch(() => undefined);
        l.info({ cluster: next.name, source: source.describe() }, 'reload: new Slurm source from the next poll');
      }
      cfg = next;
    },
    async stop() {
      await poller.stop();
      await source.close();
    },
  };
}
