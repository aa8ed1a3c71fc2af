// The lease backends behind a LeaseFactory: Kubernetes Leases or etcd keys, chosen once from the configuration.
// Membership naming differs by backend (a Lease per member found by name prefix; an etcd key per member under
// a common prefix, dropped by its TTL), and only this file knows it.
import { EtcdLeaseBackend } from './etcd-lease.ts';
import { KubeLeaseBackend, inClusterConnection, kubeconfigConnection, type KubeConnection } from './kube-lease.ts';
import type { LeaderElectionSettings as LE, LeaseFactory, Membership } from './types.ts';

/** Kubernetes object names: lower-case alphanumerics and '-'. */
function dnsName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 200) || 'x';
}

function etcdFactory(): LeaseFactory {
  const lease = (le: LE) => new EtcdLeaseBackend({ endpoints: le.etcdEndpoints, name: `${le.namespace}/${le.leaseName}`, identity: le.identity, leaseDurationMs: le.leaseDurationMs });
  return {
    lease,
    membership(le): Membership {
      const own = lease({ ...le, leaseName: `${le.leaseName}-members/${le.identity}` });
      const lister = lease({ ...le, leaseName: `${le.leaseName}-members` });
      return {
        own,
        list: async (signal) => (await lister.listChildren(signal)).map((holder) => ({ holder, key: holder, durationMs: le.leaseDurationMs, serverExpires: true })),
        close: async () => {
          await own.close();
          await lister.close();
        },
      };
    },
  };
}

function kubeFactory(conn: KubeConnection): LeaseFactory {
  const lease = (le: LE) => new KubeLeaseBackend(conn, { namespace: le.namespace, name: le.leaseName, identity: le.identity, leaseDurationMs: le.leaseDurationMs, renewDeadlineMs: le.renewDeadlineMs });
  return {
    lease,
    membership(le): Membership {
      const prefix = `${le.leaseName}-member-`;
      const own = lease({ ...le, leaseName: `${prefix}${dnsName(le.identity)}` });
      return {
        own,
        list: async (signal) => (await own.list(prefix, signal)).map((l) => ({ holder: l.holder, key: l.key, durationMs: l.durationMs, serverExpires: false })),
        close: () => own.close(),
      };
    },
  };
}

export function makeLeaseFactory(le: LE, env: NodeJS.ProcessEnv = process.env): LeaseFactory {
  if (le.backend === 'etcd') return etcdFactory();
  const conn = le.kubeconfig ? kubeconfigConnection(le.kubeconfig) : inClusterConnection(env);
  if (!conn) {
    throw new Error(
      'server.leaderElection.backend kubernetes: no Kubernetes API found: not in a pod (KUBERNETES_SERVICE_HOST is unset) and no server.leaderElection.kubeconfig',
    );
  }
  return kubeFactory(conn);
}
