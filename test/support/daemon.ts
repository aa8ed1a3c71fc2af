// Real daemons the tests start (Prometheus, etcd): a free loopback port, a throw-away directory, a child
// process whose output is kept for the error message, and a readiness wait that cleans up when it fails.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import net from 'node:net';
import { waitFor } from './exporter-process.ts';

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface Daemon {
  output: string[];
  /** SIGTERM, wait for the exit, remove the directory. */
  stop(): Promise<void>;
}

/**
 * Starts `binary args`, owning `dir` (removed on stop), and resolves once `ready()` is true; on a timeout the
 * process is stopped and the error carries its output. `pkg` names the Debian package for the message when the
 * binary is missing.
 */
export async function startDaemon(o: { binary: string; pkg: string; args: string[]; dir: string; what: string; ready: () => Promise<boolean>; timeoutMs: number }): Promise<Daemon> {
  if (!existsSync(o.binary)) {
    rmSync(o.dir, { recursive: true, force: true });
    throw new Error(`${o.binary} is missing: run scripts/install-test-deps.sh (Debian package ${o.pkg})`);
  }
  const proc = spawn(o.binary, o.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  proc.stdout.on('data', (c: Buffer) => output.push(c.toString()));
  proc.stderr.on('data', (c: Buffer) => output.push(c.toString()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
    rmSync(o.dir, { recursive: true, force: true });
  };
  try {
    await waitFor(o.what, async () => o.ready(), o.timeoutMs);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${output.join('')}`);
  }
  return { output, stop };
}
