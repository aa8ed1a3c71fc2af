// A real etcd (Debian's etcd-server 3.4, installed by scripts/install-test-deps.sh) on free loopback ports,
// with a throw-away data directory.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from './exporter-process.ts';
import { freePort } from './prometheus.ts';

export interface EtcdProcess {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startEtcd(): Promise<EtcdProcess> {
  if (!existsSync('/usr/bin/etcd')) throw new Error('/usr/bin/etcd is missing: run scripts/install-test-deps.sh (Debian package etcd-server)');
  const dir = mkdtempSync(path.join(tmpdir(), 'etcd-'));
  const client = await freePort();
  const peer = await freePort();
  const endpoint = `http://127.0.0.1:${client}`;
  const proc = spawn(
    '/usr/bin/etcd',
    [
      '--name', 'test', '--data-dir', path.join(dir, 'data'),
      '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `test=http://127.0.0.1:${peer}`, '--log-level', 'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const output: string[] = [];
  proc.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
  const stop = async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('etcd /health', async () => {
      const r = await fetch(`${endpoint}/health`);
      return r.ok && ((await r.json()) as { health?: string }).health === 'true';
    }, 20_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${output.join('')}`);
  }
  return { endpoint, stop };
}
