// Wiring only: config → source → poller → collectors → exposition cache → HTTP, in named steps that read top
// to bottom. Signals live in cli.ts.
import type { ExporterConfig } from './config/types.ts';
import { stalenessLimitFor } from './config/schema.ts';
import type { Logger } from './logger.ts';
import { Poller } from './poll/poller.ts';
import { SnapshotStore } from './poll/snapshot-store.ts';
import { CollectorRunner, type Format } from './poll/collector-runner.ts';
import { LabelledCounter } from './poll/counters.ts';
import { AnomalyLog } from './poll/anomalies.ts';
import { ALL_COLLECTORS } from './collectors/registry.ts';
import type { Collector } from './collectors/collector.ts';
import { renderFamilies } from './exposition/writer.ts';
import type { PreparedPiece } from './exposition/prepared.ts';
import { createHttpServer, type HttpLogger } from './http/server.ts';
import { RestSource } from './slurm/rest/client.ts';
import type { SlurmSource } from './slurm/source.ts';
import { GuardedSource } from './slurm/guarded-source.ts';
import { COLLECTOR_GROUPS } from './slurm/resources.ts';
import { selfMetricFamilies } from './self-metrics.ts';
import { VERSION } from './version.ts';
import { createHaCoordinator, type HaCoordinator } from './ha/coordinator.ts';

/** The simulator, loaded only for --demo: the exporter proper never imports it. */
type Simulator = { stop(): Promise<void> };

export interface RunningExporter {
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:9341 */
  url: string;
  poller: Poller;
  runner: CollectorRunner;
  store: SnapshotStore;
  source: SlurmSource;
  stop(): Promise<void>;
  /**
   * Applies a new configuration without a restart (SIGHUP): web config (TLS certificates, users), log level,
   * collector intervals and timeouts, and the slurm section (a new source from the next poll). Returns what
   * only a restart can change.
   */
  reload(next: ExporterConfig): Promise<string[]>;
}

type Log = Logger & HttpLogger;

/** Step 1: where Slurm data comes from; with --demo a simulated cluster in this process. */
async function slurmSettings(cfg: ExporterConfig, log: Log): Promise<{ slurm: ExporterConfig['slurm']; simulator: Simulator | undefined }> {
  if (!cfg.demo) return { slurm: cfg.slurm, simulator: undefined };
  const { SimulatedSlurmrestd } = await import('./simulator/slurmrestd.ts');
  const simulator = new SimulatedSlurmrestd({ nodes: cfg.demoNodes, jobs: cfg.demoJobs, host: '127.0.0.1', port: 0, clusterName: 'demo' });
  const { url } = await simulator.start();
  log.info({ url, nodes: cfg.demoNodes, jobs: cfg.demoJobs }, 'demo: simulated Slurm cluster started');
  return { slurm: { ...cfg.slurm, url, token: undefined, tokenFile: undefined, jwtKeyFile: undefined, user: cfg.slurm.user ?? 'demo' }, simulator };
}

/** Step 2: slurmrestd behind the rate limit and cache. */
function makeSource(cfg: ExporterConfig, sc: ExporterConfig['slurm'], log: Log): GuardedSource {
  const rest = new RestSource(sc, log, { userAgent: `slurm-exporter/${VERSION} (${cfg.server.leaderElection.identity})` });
  return new GuardedSource(rest, { rateLimit: sc.rateLimit, cache: sc.cache });
}

/** Step 3: the collectors whose group is enabled and whose `limits` switch, if any, is on. */
export function enabledCollectors(cfg: ExporterConfig): Collector[] {
  return ALL_COLLECTORS.filter((c) => (cfg.collectors[c.group]?.enabled ?? true) && (c.switch === undefined || cfg.limits[c.switch]));
}

/** Step 4, within the pipeline: leadership decides what this replica polls; sharded mode polls what its groups' collectors need. */
function coordinate(cfg: ExporterConfig, log: Log, poller: Poller, enabled: readonly Collector[]): HaCoordinator {
  const kindsFor = (groups: readonly string[]) => [...new Set(enabled.filter((c) => groups.includes(c.group)).flatMap((c) => c.needs))];
  const all = kindsFor(COLLECTOR_GROUPS);
  return createHaCoordinator(cfg, log, {
    activate: () => poller.activate(),
    deactivate: () => poller.deactivate(),
    only: (groups) => {
      const want = kindsFor(groups);
      poller.deactivate(all.filter((k) => !want.includes(k)));
      poller.activate(want);
    },
  });
}

/** /ready: every active group has fresh data; a group the cluster does not serve does not count. */
function readiness(cfg: ExporterConfig, poller: Poller, ha: HaCoordinator): { ok: boolean; reason: string } {
  const now = Date.now();
  const standby = ha.readyProblem();
  if (standby) return { ok: false, reason: standby };
  const problems: string[] = [];
  for (const s of poller.statuses()) {
    if (!s.active || s.unsupported) continue;
    if (s.lastSuccessAt === undefined) {
      problems.push(`${s.group}: no successful collection yet${s.lastError ? ` (last error: ${s.lastError})` : ''}`);
    } else if (now - s.lastSuccessAt > stalenessLimitFor(cfg, s.group)) {
      problems.push(`${s.group}: data is ${Math.round((now - s.lastSuccessAt) / 1000)} s old (limit ${stalenessLimitFor(cfg, s.group) / 1000} s)`);
    }
  }
  return problems.length ? { ok: false, reason: problems.join('; ') } : { ok: true, reason: 'ready' };
}

/** The first configuration differences that only a restart applies. */
function restartOnlyChanges(next: ExporterConfig, current: ExporterConfig): string[] {
  const out: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (next.server.listenAddress !== current.server.listenAddress) out.push('server.listenAddress');
  if (next.server.telemetryPath !== current.server.telemetryPath) out.push('server.telemetryPath');
  if (next.server.webConfigFile !== current.server.webConfigFile) out.push('server.webConfigFile');
  if (!same(next.server.leaderElection, current.server.leaderElection)) out.push('server.leaderElection');
  if (next.demo !== current.demo) out.push('demo');
  const enabled = (c: ExporterConfig) => enabledCollectors(c).map((x) => x.name).join(',');
  if (enabled(next) !== enabled(current)) out.push('collectors.<group>.enabled / limits.jobs');
  return out;
}

/** What the wiring steps share: the pipeline from Slurm to the cached page, and leadership over it. */
interface Pipeline {
  source(): GuardedSource;
  store: SnapshotStore;
  enabled: Collector[];
  runner: CollectorRunner;
  poller: Poller;
  anomalies: AnomalyLog;
  errors: LabelledCounter;
  ha: HaCoordinator;
}

/** Step 4: Slurm answer → snapshots → collectors → cached bytes; leadership decides what is polled. */
function pipeline(cfg: ExporterConfig, slurm: ExporterConfig['slurm'], log: Log, source: () => GuardedSource): Pipeline {
  const store = new SnapshotStore();
  const enabled = enabledCollectors(cfg);
  const anomalies = new AnomalyLog(log);
  anomalies.seed(COLLECTOR_GROUPS.filter((g) => cfg.collectors[g]?.enabled ?? true));
  const errors = new LabelledCounter();
  const runner = new CollectorRunner(enabled, store, renderFamilies, { cluster: slurm.cluster, limits: cfg.limits, log, anomalies, errors });
  const poller = new Poller(source(), store, runner.neededKinds(), cfg.collectors, log, anomalies);
  const ha = coordinate(cfg, log, poller, enabled);
  return { source, store, enabled, runner, poller, anomalies, errors, ha };
}

/** Step 5: the HTTP endpoints; /metrics joins the cached pieces and the exporter's own metrics. */
function serve(cfg: ExporterConfig, log: Log, p: Pipeline): ReturnType<typeof createHttpServer> {
  const scrapes = new LabelledCounter();
  let lastScrapeSeconds = 0;
  const startedAt = Date.now();
  const page = (format: Format): (string | PreparedPiece)[] => {
    // A standby serves only the exporter's own metrics: its Slurm data would be stale or absent.
    const pieces: (string | PreparedPiece)[] = p.ha.servesSlurm() ? p.runner.pieces(format, p.ha.servedGroups()) : [];
    const self = selfMetricFamilies({
      cluster: p.runner.clusterLabel(),
      poller: p.poller,
      runner: p.runner,
      collectorErrors: p.errors,
      anomalies: p.anomalies.counter,
      guard: p.source(),
      scrapes,
      lastScrapeSeconds,
      isLeader: p.ha.servesSlurm(),
      leaderChanges: p.ha.leaderChanges(),
      extra: p.ha.families(),
    });
    pieces.push(renderFamilies(self, format));
    return pieces;
  };
  const landing = () => ({
    title: 'Slurm Exporter',
    version: VERSION,
    links: [
      { href: cfg.server.telemetryPath, text: 'Metrics' },
      { href: '/health', text: 'Health' },
      { href: '/ready', text: 'Readiness' },
      { href: '/leader', text: 'Leader' },
    ],
    info: { source: p.source().describe(), cluster: p.runner.clusterLabel(), collectors: p.enabled.map((c) => c.name).join(', ') },
  });
  return createHttpServer({
    listenAddress: cfg.server.listenAddress,
    telemetryPath: cfg.server.telemetryPath,
    maxConcurrentScrapes: cfg.server.maxConcurrentScrapes,
    scrapeTimeoutMs: cfg.server.scrapeTimeoutMs,
    webConfigFile: cfg.server.webConfigFile,
    logger: log,
    onScrape: (seconds: number, status: number) => {
      lastScrapeSeconds = seconds;
      scrapes.inc([String(status)]);
    },
    provider: {
      metrics: (format: Format) => page(format),
      health: () => ({ ok: true, detail: { status: 'ok', uptime_seconds: Math.round((Date.now() - startedAt) / 1000), source: p.source().describe() } }),
      ready: () => readiness(cfg, p.poller, p.ha),
      leader: () => p.ha.leaderJson(),
      landing,
    },
  });
}

export async function startExporter(cfg: ExporterConfig, log: Log): Promise<RunningExporter> {
  const { slurm, simulator } = await slurmSettings(cfg, log);
  let source = makeSource(cfg, slurm, log);
  let current = cfg;
  const p = pipeline(cfg, slurm, log, () => source);
  const { store, runner, poller, ha, enabled } = p;
  const http = await serve(cfg, log, p);

  ha.start();
  const addr = http.address();
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.port}`;
  log.info({ address: `${addr.host}:${addr.port}`, url, source: source.describe(), collectors: enabled.map((c) => c.name) }, 'listening');

  return {
    url,
    poller,
    runner,
    store,
    get source() {
      return source;
    },
    async reload(next: ExporterConfig) {
      const restartOnly = restartOnlyChanges(next, current);
      // Validate the new web config before anything changes: a bad file refuses the whole reload.
      await http.reloadWebConfig();
      if ('level' in log) (log as { level: string }).level = next.log.level;
      poller.reconfigure(next.collectors);
      if (!current.demo && JSON.stringify(next.slurm) !== JSON.stringify(current.slurm)) {
        const old = poller.replaceSource((source = makeSource(next, next.slurm, log)));
        void old.close().catch(() => undefined);
        log.info({ source: source.describe() }, 'reload: new Slurm source from the next poll');
      }
      current = next;
      return restartOnly;
    },
    async stop() {
      // Leadership first: releasing the lease lets a standby take over while we drain.
      await ha.stop();
      await http.close();
      await poller.stop();
      await source.close();
      await simulator?.stop();
    },
  };
}
