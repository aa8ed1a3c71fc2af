// Sharded mode: each collector group has its own lease (`<leaseName>-<group>`), and the replicas share the
// groups. Every replica also keeps a membership lease, so each knows how many replicas are alive and takes its
// fair share, ceil(groups / replicas): it campaigns for free groups while it has fewer, and hands the excess
// back when replicas join. When a replica dies, its groups' leases expire and the survivors, whose share has
// grown, take them. Each replica polls and serves only the groups it leads; Prometheus scrapes every replica.
import { createHash } from 'node:crypto';
import type { ExporterConfig } from '../config/types.ts';
import type { MetricFamily } from '../exposition/types.ts';
import { LeaderElector, type Logger, errText } from './elector.ts';
import { type HaCoordinator, type LeaderElectionSettings as LE, type LeaseFactory, type PollControl, one } from './types.ts';

/** Renews our membership and returns the identities alive (ourselves included). */
function memberBeat(le: LE, factory: LeaseFactory) {
  const m = factory.membership(le);
  // How long each other member's record has looked the same, on our clock (as client-go judges leases).
  const seen = new Map<string, { key: string; at: number }>();
  return {
    async beat(signal: AbortSignal): Promise<string[]> {
      await m.own.tryAcquireOrRenew(signal);
      const now = Date.now();
      const alive = new Set([le.identity]);
      for (const r of await m.list(signal)) {
        if (!r.holder) continue;
        if (r.serverExpires) {
          alive.add(r.holder);
          continue;
        }
        const prev = seen.get(r.holder);
        if (!prev || prev.key !== r.key) seen.set(r.holder, { key: r.key, at: now });
        if (prev === undefined || now - seen.get(r.holder)!.at <= Math.max(r.durationMs, le.leaseDurationMs)) alive.add(r.holder);
      }
      return [...alive];
    },
    leave: (signal: AbortSignal) => m.own.release(signal),
    close: () => m.close(),
  };
}

/**
 * A unit as a lease name part: Kubernetes names are lower-case DNS labels, so `Alpha_1/jobs` becomes
 * `alpha-1-jobs-<hash>` (the hash keeps two names that clean up the same apart). Group names stay as they are.
 */
export function leaseSuffix(unit: string): string {
  if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(unit)) return unit;
  const clean = unit.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return `${clean}-${createHash('sha256').update(unit).digest('hex').slice(0, 8)}`;
}

export function createSharded(cfg: ExporterConfig, log: Logger, poll: PollControl, factory: LeaseFactory): HaCoordinator {
  const le = cfg.server.leaderElection;
  const groups = poll.units;
  const timings = { leaseDurationMs: le.leaseDurationMs, renewDeadlineMs: le.renewDeadlineMs, retryPeriodMs: le.retryPeriodMs };
  const electors = new Map<string, LeaderElector>();
  const apply = () => poll.only(led());
  for (const g of groups) {
    const backend = factory.lease({ ...le, leaseName: `${le.leaseName}-${leaseSuffix(g)}` });
    electors.set(g, new LeaderElector(backend, le.identity, timings, log, { onStartedLeading: apply, onStoppedLeading: apply }));
  }
  const led = () => groups.filter((g) => electors.get(g)!.isLeader());
  const members = memberBeat(le, factory);
  // Which groups to hand back first: a per-replica order, so replicas do not all shed the same group.
  const order = (g: string) => createHash('sha256').update(`${le.identity}/${g}`).digest().readUInt32BE(0);
  let alive: string[] = [le.identity];
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let membershipErrors = 0;

  const balance = async () => {
    try {
      alive = await members.beat(AbortSignal.timeout(le.renewDeadlineMs));
    } catch (err) {
      membershipErrors++;
      log.debug({ err: errText(err) }, 'sharded: membership update failed');
    }
    const share = Math.ceil(groups.length / Math.max(1, alive.length));
    const mine = led();
    if (mine.length > share) {
      const excess = mine.sort((a, b) => order(b) - order(a)).slice(0, mine.length - share);
      for (const g of excess) {
        log.info({ group: g, replicas: alive.length, share }, 'sharded: handing a collector group over');
        await electors.get(g)!.handOver(`rebalancing: ${alive.length} replicas, share ${share}`);
      }
    }
    const room = led().length < share;
    for (const [, e] of electors) if (!e.isLeader()) e.candidate = room;
  };
  const loop = () => {
    if (stopped) return;
    timer = setTimeout(() => void balance().finally(loop), le.retryPeriodMs);
  };

  return {
    mode: 'sharded',
    servesSlurm: () => led().length > 0,
    servedGroups: () => new Set(led()),
    readyProblem: () => (led().length > 0 ? undefined : `standby: leads no collector group (sharded, ${alive.length} replicas alive)`),
    leaderJson: () => ({
      is_leader: led().length > 0,
      identity: le.identity,
      mode: 'sharded',
      backend: le.backend,
      replicas: alive,
      groups: Object.fromEntries(
        groups.map((g) => {
          const s = electors.get(g)!.status();
          return [g, { is_leader: s.isLeader, holder: s.isLeader ? le.identity : s.holder || null, since: s.since === undefined ? null : new Date(s.since).toISOString() }];
        }),
      ),
      election: true,
    }),
    families: (): MetricFamily[] => {
      const st = [...electors.values()].map((e) => e.status());
      const renewAges = st.filter((s) => s.isLeader && s.lastRenewAt !== undefined).map((s) => (Date.now() - s.lastRenewAt!) / 1000);
      return [
        one('slurm_exporter_leader_renew_failures_total', st.reduce((n, s) => n + s.renewFailures, 0)),
        one('slurm_exporter_leader_backend_errors_total', st.reduce((n, s) => n + s.backendErrors, 0) + membershipErrors),
        ...(renewAges.length ? [one('slurm_exporter_leader_last_renew_age_seconds', Math.max(...renewAges))] : []),
      ];
    },
    leaderChanges: () => [...electors.values()].reduce((n, e) => n + e.status().leaderChanges, 0),
    start: () => {
      poll.only([]);
      // Campaign only once we know how many replicas there are, so the first one up does not grab everything.
      for (const e of electors.values()) e.candidate = false;
      void balance().finally(() => {
        for (const e of electors.values()) e.start();
        loop();
      });
    },
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.all([...electors.values()].map((e) => e.stop()));
      await members.leave(AbortSignal.timeout(2000)).catch(() => undefined);
      await members.close();
    },
  };
}
