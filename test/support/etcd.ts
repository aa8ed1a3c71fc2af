// A real etcd (Debian's etcd-server 3.4, installed by scripts/install-test-deps.sh) on free loopback ports,
// with a throw-away data directory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, startDaemon } from './daemon.ts';

export interface EtcdProcess {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startEtcd(): Promise<EtcdProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'etcd-'));
  const client = await freePort();
  const peer = await freePort();
  const endpoint = `http://127.0.0.1:${client}`;
  const { stop } = await startDaemon({
    binary: '/usr/bin/etcd',
    pkg: 'etcd-server',
    dir,
    args: [
      '--name', 'test', '--data-dir', path.join(dir, 'data'),
      '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `test=http://127.0.0.1:${peer}`, '--log-level', 'error',
    ],
    what: 'etcd /health',
    ready: async () => {
      const r = await fetch(`${endpoint}/health`);
      return r.ok && ((await r.json()) as { health?: string }).health === 'true';
    },
    timeoutMs: 20_000,
  });
  return { endpoint, stop };
}
