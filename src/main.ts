// Wiring only: config → source → poller → collectors → exposition cache → HTTP. Signals in cli.ts.
import type { ExporterConfig } from './config/types.ts';
import type { Logger } from './poll/poller.ts';
import { Poller, GROUP_OF_KIND } from './poll/poller.ts';
import { SnapshotStore } from './poll/snapshot-store.ts';
import { CollectorRunner, type Format } from './poll/collector-runner.ts';
import { LabelledCounter } from './poll/counters.ts';
import { ALL_COLLECTORS } from './collectors/registry.ts';
import { renderFamilies } from './exposition/writer.ts';
import type { PreparedPiece } from './exposition/prepared.ts';
import { createHttpServer, type HttpLogger } from './http/server.ts';
import { RestSource } from './slurm/rest/client.ts';
import type { SlurmSource } from './slurm/source.ts';
import { GuardedSource } from './slurm/guarded-source.ts';
import { SlurmSimulator } from './simulator/server.ts';
import { selfMetricFamilies } from './self-metrics.ts';
import { VERSION } from './version.ts';
import { createHaCoordinator } from './ha/coordinator.ts';

export interface RunningExporter {
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:9341 */
  url: string;
  poller: Poller;
  runner: CollectorRunner;
  store: SnapshotStore;
  source: SlurmSource;
  simulator: SlurmSimulator | undefined;
  stop(): Promise<void>;
  /**
   * Applies a new configuration without a restart (SIGHUP): web config (TLS certificates, users), log level,
   * collector intervals and timeouts, and the slurm section (a new source from the next poll). Returns what
   * only a restart can change.
   */
  reload(next: ExporterConfig): Promise<string[]>;
}

export async function startExporter(cfg: ExporterConfig, log: Logger & HttpLogger): Promise<RunningExporter> {
  let simulator: SlurmSimulator | undefined;
  let slurmCfg = cfg.slurm;
  if (cfg.demo) {
    simulator = new SlurmSimulator({ nodes: cfg.demoNodes, jobs: cfg.demoJobs, host: '127.0.0.1', port: 0, clusterName: 'demo' });
    const { url } = await simulator.start();
    slurmCfg = { ...cfg.slurm, url, token: undefined, tokenFile: undefined, jwtKeyFile: undefined, user: cfg.slurm.user ?? 'demo' };
    log.info({ url, nodes: cfg.demoNodes, jobs: cfg.demoJobs }, 'demo: simulated Slurm cluster started');
  }

  const makeSource = (sc: ExporterConfig['slurm']): SlurmSource =>
    new GuardedSource(new RestSource(sc, log, { userAgent: `slurm-exporter/${VERSION} (${cfg.server.leaderElection.identity})` }), {
      rateLimit: sc.rateLimit,
      cache: sc.cache,
    });
  let source: SlurmSource = makeSource(slurmCfg);
  let current = cfg;
  const store = new SnapshotStore();
  const scrapes = new LabelledCounter();
  const enabled = ALL_COLLECTORS.filter((c) => cfg.collectors[c.name]?.enabled ?? c.defaultEnabled);
  const errors = new LabelledCounter();
  const anomalies = new LabelledCounter();
  const runner = new CollectorRunner(enabled, store, renderFamilies, {
    cluster: slurmCfg.cluster,
    limits: cfg.limits,
    log,
    anomalies,
    errors,
  });
  const poller = new Poller(source, store, runner.neededKinds(), cfg.collectors, log);
  poller.seenAnomalies = runner.seenAnomalies;
  let lastScrapeSeconds = 0;
  const startedAt = Date.now();
  // Sharded mode polls what the collectors of the groups it leads need (collector names are group names).
  const kindsFor = (groups: readonly string[]) => [...new Set(enabled.filter((c) => groups.includes(c.name)).flatMap((c) => c.needs))];
  const ha = createHaCoordinator(cfg, log, {
    activate: () => poller.activate(),
    deactivate: () => poller.deactivate(),
    only: (groups) => {
      const want = kindsFor(groups);
      poller.deactivate(runner.neededKinds().filter((k) => !want.includes(k)));
      poller.activate(want);
    },
  });

  const page = (format: Format): (string | PreparedPiece)[] => {
    // A standby serves only the exporter's own metrics: its Slurm data would be stale or absent.
    const pieces: (string | PreparedPiece)[] = ha.servesSlurm() ? runner.pieces(format, ha.servedGroups()) : [];
    const self = selfMetricFamilies({
      cluster: runner.clusterLabel(),
      poller,
      runner,
      collectorErrors: errors,
      collectorAnomalies: anomalies,
      scrapes,
      lastScrapeSeconds,
      isLeader: ha.servesSlurm(),
      leaderChanges: ha.leaderChanges(),
      extra: ha.families(),
    });
    pieces.push(renderFamilies(self, format));
    return pieces;
  };

  const ready = (): { ok: boolean; reason: string } => {
    const now = Date.now();
    const standby = ha.readyProblem();
    if (standby) return { ok: false, reason: standby };
    const problems: string[] = [];
    for (const s of poller.statuses()) {
      if (!s.active) continue;
      if (s.lastSuccessAt === undefined) {
        problems.push(`${s.group}: no successful collection yet${s.lastError ? ` (last error: ${s.lastError})` : ''}`);
      } else if (now - s.lastSuccessAt > cfg.server.stalenessLimitMs) {
        problems.push(`${s.group}: data is ${Math.round((now - s.lastSuccessAt) / 1000)} s old (limit ${cfg.server.stalenessLimitMs / 1000} s)`);
      }
    }
    return problems.length ? { ok: false, reason: problems.join('; ') } : { ok: true, reason: 'ready' };
  };

  const http = await createHttpServer({
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
      health: () => ({ ok: true, detail: { status: 'ok', uptime_seconds: Math.round((Date.now() - startedAt) / 1000), source: source.describe() } }),
      ready,
      leader: () => ha.leaderJson(),
      landing: () => ({
        title: 'Slurm Exporter',
        version: VERSION,
        links: [
          { href: cfg.server.telemetryPath, text: 'Metrics' },
          { href: '/health', text: 'Health' },
          { href: '/ready', text: 'Readiness' },
          { href: '/leader', text: 'Leader' },
        ],
        info: { source: source.describe(), cluster: runner.clusterLabel(), collectors: enabled.map((c) => c.name).join(', ') },
      }),
    },
  });

  ha.start();
  const addr = http.address();
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.port}`;
  log.info({ address: `${addr.host}:${addr.port}`, url, source: source.describe(), collectors: enabled.map((c) => c.name), groups: Object.values(GROUP_OF_KIND) }, 'listening');

  return {
    url,
    poller,
    runner,
    store,
    get source() {
      return source;
    },
    simulator,
    async reload(next: ExporterConfig) {
      const restartOnly: string[] = [];
      const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
      if (next.server.listenAddress !== current.server.listenAddress) restartOnly.push('server.listenAddress');
      if (next.server.telemetryPath !== current.server.telemetryPath) restartOnly.push('server.telemetryPath');
      if (next.server.webConfigFile !== current.server.webConfigFile) restartOnly.push('server.webConfigFile');
      if (!same(next.server.leaderElection, current.server.leaderElection)) restartOnly.push('server.leaderElection');
      if (next.demo !== current.demo) restartOnly.push('demo');
      const enabled = (c: ExporterConfig) => Object.entries(c.collectors).map(([k, v]) => `${k}:${v.enabled}`).join(',');
      if (enabled(next) !== enabled(current)) restartOnly.push('collectors.<name>.enabled');
      // Validate the new web config before anything changes: a bad file refuses the whole reload.
      await http.reloadWebConfig();
      if ('level' in log) (log as { level: string }).level = next.log.level;
      poller.reconfigure(next.collectors);
      if (!current.demo && !same(next.slurm, current.slurm)) {
        const old = poller.replaceSource((source = makeSource(next.slurm)));
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
