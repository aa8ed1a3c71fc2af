// Wiring only: config → one pipeline per cluster (source → poller → collectors → cached pieces) → leadership
// over them → HTTP, in named steps that read top to bottom. Signals live in cli.ts.
import type { ClusterConfig, ExporterConfig } from './config/types.ts';
import type { Logger } from './logger.ts';
import type { Format } from './poll/collector-runner.ts';
import { LabelledCounter } from './poll/counters.ts';
import { ALL_COLLECTORS } from './collectors/registry.ts';
import { renderFamilies } from './exposition/writer.ts';
import { PreparedPiece } from './exposition/prepared.ts';
import { MergeCache } from './exposition/merge.ts';
import { createHttpServer, type HttpLogger } from './http/server.ts';
import { clusterSelfFamilies, processSelfFamilies } from './self-metrics.ts';
import { VERSION } from './version.ts';
import { createHaCoordinator, type HaCoordinator } from './ha/coordinator.ts';
import { type ClusterHandle, createClusterPipeline, enabledCollectors, groupsOf, inThisThread, kindsOf, problemsOf } from './cluster-pipeline.ts';
import { availableParallelism } from 'node:os';
import { collectInThreads } from './worker/cluster-host.ts';

/** The simulator, loaded only for --demo: the exporter proper never imports it. */
type Simulator = { stop(): Promise<void> };

export interface RunningExporter {
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:9341 */
  url: string;
  /** One per cluster, in configuration order. */
  clusters: readonly ClusterHandle[];
  stop(): Promise<void>;
  /**
   * Applies a new configuration without a restart (SIGHUP): web config (TLS certificates, users), log level,
   * collector intervals and timeouts, and each cluster's slurm section (a new source from the next poll).
   * Returns what only a restart can change.
   */
  reload(next: ExporterConfig): Promise<string[]>;
}

type Log = Logger & HttpLogger;

/** Step 1: with --demo a simulated cluster in this process, which every configured cluster reads. */
async function demoSettings(cfg: ExporterConfig, log: Log): Promise<{ clusters: ClusterConfig[]; simulator: Simulator | undefined }> {
  if (!cfg.demo) return { clusters: cfg.clusters, simulator: undefined };
  const { SimulatedSlurmrestd } = await import('./simulator/slurmrestd.ts');
  const simulator = new SimulatedSlurmrestd({ nodes: cfg.demoNodes, jobs: cfg.demoJobs, host: '127.0.0.1', port: 0, clusterName: 'demo' });
  const { url } = await simulator.start();
  log.info({ url, nodes: cfg.demoNodes, jobs: cfg.demoJobs }, 'demo: simulated Slurm cluster started');
  const demo = (c: ClusterConfig): ClusterConfig => ({
    ...c,
    slurm: { ...c.slurm, source: 'rest', native: { ...c.slurm.native, url: undefined }, url, token: undefined, tokenFile: undefined, jwtKeyFile: undefined, user: c.slurm.user ?? 'demo' },
  });
  return { clusters: cfg.clusters.map(demo), simulator };
}

/** Several clusters name their units `cluster/group`; one cluster keeps plain group names (and its lease names). */
function unitsOf(clusters: readonly ClusterHandle[]): { units: string[]; groupsIn(c: ClusterHandle, units: readonly string[]): string[] } {
  if (clusters.length === 1) return { units: groupsOf(clusters[0]!.cfg), groupsIn: (_c, units) => [...units] };
  const prefix = (c: ClusterHandle) => `${c.cfg.name}/`;
  return {
    units: clusters.flatMap((c) => groupsOf(c.cfg).map((g) => prefix(c) + g)),
    groupsIn: (c, units) => units.filter((u) => u.startsWith(prefix(c))).map((u) => u.slice(prefix(c).length)),
  };
}

/** Step 3: leadership decides what this replica polls; sharded mode polls what its units' collectors need. */
function coordinate(cfg: ExporterConfig, log: Log, clusters: readonly ClusterHandle[]): { ha: HaCoordinator; servedGroups(c: ClusterHandle): ReadonlySet<string> | undefined } {
  const { units, groupsIn } = unitsOf(clusters);
  const ha = createHaCoordinator(cfg, log, {
    units,
    activate: () => clusters.forEach((c) => c.activate()),
    deactivate: () => clusters.forEach((c) => c.deactivate()),
    only: (led) => {
      for (const c of clusters) {
        const mine = groupsIn(c, led);
        // The ping names the cluster: a replica that leads any unit of a cluster polls it for its label too
        // (it serves the cluster collector's series only where it leads that group).
        const want = kindsOf(c.cfg, mine.length && groupsOf(c.cfg).includes('cluster') ? [...mine, 'cluster'] : mine);
        c.deactivate(kindsOf(c.cfg, groupsOf(c.cfg)).filter((k) => !want.includes(k)));
        c.activate(want);
      }
    },
  });
  const servedGroups = (c: ClusterHandle) => {
    const served = ha.servedGroups();
    return served === undefined ? undefined : new Set(groupsIn(c, [...served]));
  };
  return { ha, servedGroups };
}

type Readiness = ReturnType<Parameters<typeof createHttpServer>[0]['provider']['ready']>;

/** /ready: every required cluster has fresh data in every active group; a group a cluster does not serve does not count. */
function readiness(cfg: ExporterConfig, clusters: readonly ClusterHandle[], ha: HaCoordinator): Readiness {
  const standby = ha.readyProblem();
  if (standby) return { ok: false, reason: standby };
  const now = Date.now();
  if (clusters.length === 1 && clusters[0]!.cfg.name === undefined) {
    const problems = problemsOf(clusters[0]!.state(), clusters[0]!.cfg, cfg.server, now);
    return problems.length ? { ok: false, reason: problems.join('; ') } : { ok: true, reason: 'ready' };
  }
  const each: NonNullable<Readiness['clusters']> = {};
  const failing: string[] = [];
  for (const c of clusters) {
    const problems = problemsOf(c.state(), c.cfg, cfg.server, now);
    each[c.cfg.name!] = { ready: problems.length === 0, required: c.cfg.required, reason: problems.join('; ') || 'ready' };
    if (problems.length && c.cfg.required) failing.push(`cluster ${c.cfg.name}: ${problems.join('; ')}`);
  }
  const optional = clusters.filter((c) => !c.cfg.required && !each[c.cfg.name!]!.ready).map((c) => c.cfg.name);
  const note = optional.length ? ` (not required and not ready: ${optional.join(', ')})` : '';
  return failing.length ? { ok: false, reason: failing.join('; '), clusters: each } : { ok: true, reason: `ready${note}`, clusters: each };
}

/** What restartOnlyChanges names when the cluster list itself changed: then no cluster takes its new settings. */
const CLUSTERS_CHANGED = 'clusters (names, order, required)';

/** The names of the collectors that run for any of the clusters. */
function collectorNames(clusters: readonly ClusterHandle[]): string[] {
  return [...new Set(clusters.flatMap((c) => c.collectors))];
}

/** The first configuration differences that only a restart applies. */
function restartOnlyChanges(next: ExporterConfig, current: ExporterConfig): string[] {
  const out: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (next.server.listenAddress !== current.server.listenAddress) out.push('server.listenAddress');
  if (next.server.telemetryPath !== current.server.telemetryPath) out.push('server.telemetryPath');
  if (next.server.webConfigFile !== current.server.webConfigFile) out.push('server.webConfigFile');
  if (!same(next.server.leaderElection, current.server.leaderElection)) out.push('server.leaderElection');
  // The collection threads are started once, with their count and hang timeout.
  if (!same(next.server.collection, current.server.collection)) out.push('server.collection');
  if (next.demo !== current.demo) out.push('demo');
  const names = (c: ExporterConfig) => c.clusters.map((x) => `${x.name}:${x.required}`).join(',');
  if (names(next) !== names(current)) out.push(CLUSTERS_CHANGED);
  const enabled = (c: ExporterConfig) => c.clusters.map((x) => enabledCollectors(x).map((e) => e.name).join(',')).join('|');
  if (enabled(next) !== enabled(current)) out.push('collectors.<group>.enabled / limits.jobs');
  return out;
}

/**
 * The Slurm part of the page, collector by collector in registry order: one cluster's piece as it is, several
 * clusters' pieces of the same collector merged so that each metric family appears once.
 */
async function slurmPieces(clusters: readonly ClusterHandle[], served: (c: ClusterHandle) => ReadonlySet<string> | undefined, format: Format, merges: MergeCache): Promise<PreparedPiece[]> {
  const per = await Promise.all(clusters.map((c) => c.pieces(format, served(c))));
  const out: PreparedPiece[] = [];
  for (const { name } of ALL_COLLECTORS) {
    const pieces = per.flatMap((m) => m.get(name) ?? []);
    if (pieces.length) out.push(merges.merged(`${format}/${name}`, pieces));
  }
  return out;
}

/** Step 4: the HTTP endpoints; /metrics joins the cached pieces and the exporter's own metrics. */
function serve(cfg: ExporterConfig, log: Log, clusters: readonly ClusterHandle[], co: ReturnType<typeof coordinate>): ReturnType<typeof createHttpServer> {
  const { ha } = co;
  const scrapes = new LabelledCounter();
  const merges = new MergeCache();
  let lastScrapeSeconds = 0;
  const startedAt = Date.now();
  // Each cluster's own figures, rendered again only when its data or state changed, or a second has passed (the
  // ages): at hundreds of series per cluster, rendering them on every one of thousands of scrapes a second
  // would cost the serving thread more than the page.
  const selfCache = new Map<string, { at: number; version: number; piece: PreparedPiece }>();
  const clusterSelf = (c: ClusterHandle, i: number, format: Format): PreparedPiece => {
    const key = `${i}/${format}`;
    const hit = selfCache.get(key);
    if (hit && hit.version === c.version() && Date.now() - hit.at < 1000) return hit.piece;
    const piece = new PreparedPiece(renderFamilies(clusterSelfFamilies([c.state()]), format));
    selfCache.set(key, { at: Date.now(), version: c.version(), piece });
    return piece;
  };
  const page = async (format: Format): Promise<(string | PreparedPiece)[]> => {
    // A standby serves only the exporter's own metrics: its Slurm data would be stale or absent.
    const pieces: (string | PreparedPiece)[] = ha.servesSlurm() ? await slurmPieces(clusters, co.servedGroups, format, merges) : [];
    pieces.push(merges.merged(`self/${format}`, clusters.map((c, i) => clusterSelf(c, i, format))));
    pieces.push(renderFamilies(processSelfFamilies({ scrapes, lastScrapeSeconds, isLeader: ha.servesSlurm(), leaderChanges: ha.leaderChanges(), extra: ha.families() }), format));
    return pieces;
  };
  const describe = () => clusters.map((c) => (c.cfg.name ? `${c.cfg.name}: ` : '') + c.state().source).join('; ');
  const landing = () => ({
    title: 'Slurm Exporter',
    version: VERSION,
    links: [
      { href: cfg.server.telemetryPath, text: 'Metrics' },
      { href: '/health', text: 'Health' },
      { href: '/ready', text: 'Readiness' },
      { href: '/leader', text: 'Leader' },
    ],
    info: { source: describe(), cluster: clusters.map((c) => c.state().cluster).join(', '), collectors: collectorNames(clusters).join(', ') },
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
      health: () => ({ ok: true, detail: { status: 'ok', uptime_seconds: Math.round((Date.now() - startedAt) / 1000), source: describe() } }),
      ready: () => readiness(cfg, clusters, ha),
      leader: () => ha.leaderJson(),
      landing,
    },
  });
}

export async function startExporter(cfg: ExporterConfig, log: Log): Promise<RunningExporter> {
  const { clusters: clusterCfgs, simulator } = await demoSettings(cfg, log);
  const identity = cfg.server.leaderElection.identity;
  const hangTimeoutMs = cfg.server.collection.hangTimeoutMs;
  const threads = cfg.server.collection.threads ?? availableParallelism();
  const clusters: ClusterHandle[] = cfg.server.collection.workers
    ? collectInThreads(clusterCfgs, threads, { identity, hangTimeoutMs, debug: cfg.log.level === 'debug', log })
    : clusterCfgs.map((c) => inThisThread(createClusterPipeline(identity, c, log)));
  const co = coordinate(cfg, log, clusters);
  const http = await serve(cfg, log, clusters, co);
  let current = cfg;

  co.ha.start();
  const addr = http.address();
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.port}`;
  log.info({ address: `${addr.host}:${addr.port}`, url, clusters: clusters.length, workers: cfg.server.collection.workers, collectors: collectorNames(clusters) }, 'listening');

  return {
    url,
    clusters,
    async reload(next: ExporterConfig) {
      const restartOnly = restartOnlyChanges(next, current);
      // Validate the new web config before anything changes: a bad file refuses the whole reload.
      await http.reloadWebConfig();
      if ('level' in log) (log as { level: string }).level = next.log.level;
      // The cluster list itself only changes with a restart (see restartOnly); each cluster takes its new settings.
      if (!restartOnly.includes(CLUSTERS_CHANGED)) {
        // With --demo the slurm sections point at the simulator and stay so; only the schedules change.
        clusters.forEach((c, i) => c.reload(current.demo ? { ...next.clusters[i]!, slurm: c.cfg.slurm } : next.clusters[i]!));
      }
      current = next;
      return restartOnly;
    },
    async stop() {
      // Leadership first: releasing the lease lets a standby take over while we drain.
      await co.ha.stop();
      await http.close();
      await Promise.all(clusters.map((c) => c.stop()));
      await simulator?.stop();
    },
  };
}
