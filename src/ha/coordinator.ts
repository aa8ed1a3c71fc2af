// What high availability changes in a running exporter, by mode:
//   single, active-active  no election; this replica polls and serves (active-active: every replica does);
//   active-passive         only the lease holder polls Slurm; a standby serves only the exporter's own
//                          metrics, answers /ready 503, and takes over when the leader goes.
// The backends (Kubernetes Lease, etcd) live in their own files; this file only turns leadership into
// poller activation and into what /ready, /leader and the metrics say.
import type { ExporterConfig } from '../config/types.ts';
import { LeaderElector, type Logger } from './elector.ts';
import { makeLeaseFactory } from './backends.ts';
import { createSharded } from './sharded.ts';
import { type HaCoordinator, type LeaseFactory, type PollControl, one } from './types.ts';

export type { HaCoordinator, PollControl };

export function createHaCoordinator(cfg: ExporterConfig, log: Logger, poll: PollControl, factory?: LeaseFactory): HaCoordinator {
  const le = cfg.server.leaderElection;
  const mode = le.enabled ? le.mode : le.mode === 'active-active' ? 'active-active' : 'single';
  if (!le.enabled || mode === 'active-active' || mode === 'single') {
    return {
      mode,
      servesSlurm: () => true,
      servedGroups: () => undefined,
      readyProblem: () => undefined,
      leaderJson: () => ({ is_leader: true, identity: le.identity, mode, election: false }),
      families: () => [],
      leaderChanges: () => 0,
      start: () => poll.activate(),
      stop: async () => undefined,
    };
  }
  const leases = factory ?? makeLeaseFactory(le);
  if (mode === 'sharded') return createSharded(cfg, log, poll, leases);
  const backend = leases.lease(le);
  const elector = new LeaderElector(
    backend,
    le.identity,
    { leaseDurationMs: le.leaseDurationMs, renewDeadlineMs: le.renewDeadlineMs, retryPeriodMs: le.retryPeriodMs },
    log,
    { onStartedLeading: () => poll.activate(), onStoppedLeading: () => poll.deactivate() },
  );
  return {
    mode,
    servesSlurm: () => elector.isLeader(),
    servedGroups: () => undefined,
    readyProblem: () => {
      if (elector.isLeader()) return undefined;
      const h = elector.status().holder;
      return `standby: ${h ? `${h} is the leader` : 'no leader elected yet'} (active-passive, ${backend.describe()})`;
    },
    leaderJson: () => {
      const s = elector.status();
      return {
        is_leader: s.isLeader,
        identity: s.identity,
        holder: s.isLeader ? s.identity : s.holder || null,
        since: s.since === undefined ? null : new Date(s.since).toISOString(),
        last_renew: s.lastRenewAt === undefined ? null : new Date(s.lastRenewAt).toISOString(),
        mode,
        backend: s.backend,
        election: true,
      };
    },
    families: () => {
      const s = elector.status();
      return [
        one('slurm_exporter_leader_renew_failures_total', s.renewFailures),
        one('slurm_exporter_leader_backend_errors_total', s.backendErrors),
        ...(s.lastRenewAt === undefined ? [] : [one('slurm_exporter_leader_last_renew_age_seconds', (Date.now() - s.lastRenewAt) / 1000)]),
      ];
    },
    leaderChanges: () => elector.status().leaderChanges,
    start: () => elector.start(),
    stop: () => elector.stop(),
  };
}
