// What high availability changes in a running exporter, by mode:
//   single, active-active  no election; this replica polls and serves (active-active: every replica does);
//   active-passive         only the lease holder polls Slurm; a standby serves only the exporter's own
//                          metrics, answers /ready 503, and takes over when the leader goes.
// The backends (Kubernetes Lease, etcd) live in their own files; this file only turns leadership into
// poller activation and into what /ready, /leader and the metrics say.
import type { ExporterConfig } from '../config/types.ts';
import type { MetricFamily } from '../exposition/types.ts';
import { type LeaseBackend, LeaderElector, type Logger } from './elector.ts';
import { EtcdLeaseBackend } from './etcd-lease.ts';
import { KubeLeaseBackend, inClusterConnection, kubeconfigConnection } from './kube-lease.ts';
import { EXPORTER_METRICS } from '../collectors/exporter-metrics.ts';
import { createSharded } from './sharded.ts';

export interface PollControl {
  activate(): void;
  deactivate(): void;
  /** Sharded mode: poll exactly what these collector groups need. */
  only(groups: readonly string[]): void;
}

export interface HaCoordinator {
  readonly mode: string;
  /** Whether this replica polls Slurm and serves Slurm metrics now. */
  servesSlurm(): boolean;
  /** The collector groups whose metrics this replica serves; undefined means all. */
  servedGroups(): ReadonlySet<string> | undefined;
  /** Why /ready must answer 503 because of leadership, or undefined. */
  readyProblem(): string | undefined;
  leaderJson(): Record<string, unknown>;
  /** slurm_exporter_leader_* families beyond slurm_exporter_leader and _changes_total. */
  families(): MetricFamily[];
  leaderChanges(): number;
  start(): void;
  /** Stops leading and releases the lease (SIGTERM: the next replica takes over within a retry period). */
  stop(): Promise<void>;
}

export function makeBackend(le: ExporterConfig['server']['leaderElection'], env: NodeJS.ProcessEnv = process.env): LeaseBackend {
  if (le.backend === 'etcd') {
    return new EtcdLeaseBackend({ endpoints: le.etcdEndpoints, name: `${le.namespace}/${le.leaseName}`, identity: le.identity, leaseDurationMs: le.leaseDurationMs });
  }
  const conn = le.kubeconfig ? kubeconfigConnection(le.kubeconfig) : inClusterConnection(env);
  if (!conn) {
    throw new Error(
      'server.leaderElection.backend kubernetes: no Kubernetes API found: not in a pod (KUBERNETES_SERVICE_HOST is unset) and no server.leaderElection.kubeconfig',
    );
  }
  return new KubeLeaseBackend(conn, { namespace: le.namespace, name: le.leaseName, identity: le.identity, leaseDurationMs: le.leaseDurationMs });
}

export function createHaCoordinator(cfg: ExporterConfig, log: Logger, poll: PollControl, backendFactory = makeBackend): HaCoordinator {
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
  if (mode === 'sharded') return createSharded(cfg, log, poll, backendFactory);
  const backend = backendFactory(le);
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

export function one(name: string, value: number): MetricFamily {
  const desc = Object.values(EXPORTER_METRICS).find((d) => d.name === name);
  if (!desc) throw new Error(`${name} is not declared`);
  return { desc, samples: [{ values: [], value }] };
}
