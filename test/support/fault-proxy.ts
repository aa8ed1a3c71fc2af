// A TCP proxy put between the exporter and a real slurmrestd (the lab), whose behaviour switches at run time:
// pass bytes through, reset connections, accept and go silent, trickle the answer, or cut it after N bytes
// (slurmrestd dying while an answer streams).
import net from 'node:net';

export type ProxyMode =
  | { mode: 'pass' }
  | { mode: 'reset' }
  | { mode: 'hang' }
  | { mode: 'cut'; afterBytes: number }
  | { mode: 'trickle'; everyMs: number }
  /** Answer every request itself, as a broken slurmrestd or a proxy in between would. */
  | { mode: 'respond'; status: number; body: string | Buffer; contentType?: string };

export class FaultProxy {
  mode: ProxyMode = { mode: 'pass' };
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly upstream: { host: string; port: number };

  constructor(upstream: { host: string; port: number }) {
    this.upstream = upstream;
    this.server = net.createServer((client) => this.onConnection(client));
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** Switches the behaviour for new connections and ends the open ones, so keep-alive cannot bypass it. */
  set(mode: ProxyMode): void {
    this.mode = mode;
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
  }

  private onConnection(client: net.Socket): void {
    this.track(client);
    const m = this.mode;
    if (m.mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    if (m.mode === 'hang') return; // accepted, never answered
    if (m.mode === 'respond') {
      client.once('data', () => {
        const body = Buffer.isBuffer(m.body) ? m.body : Buffer.from(m.body);
        client.end(
          Buffer.concat([
            Buffer.from(`HTTP/1.1 ${m.status} Injected\r\nContent-Type: ${m.contentType ?? 'application/json'}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`),
            body,
          ]),
        );
      });
      return;
    }
    const up = net.connect(this.upstream.port, this.upstream.host);
    this.track(up);
    client.pipe(up);
    up.on('close', () => client.destroy());
    client.on('close', () => up.destroy());
    if (m.mode === 'pass') {
      up.pipe(client);
      return;
    }
    if (m.mode === 'cut') {
      let sent = 0;
      up.on('data', (c: Buffer) => {
        const room = m.afterBytes - sent;
        if (room <= 0) return;
        client.write(c.subarray(0, room));
        sent += Math.min(room, c.length);
        if (sent >= m.afterBytes) {
          up.destroy();
          client.destroy();
        }
      });
      return;
    }
    // trickle: one byte per tick
    const queue: Buffer[] = [];
    up.on('data', (c: Buffer) => queue.push(c));
    const timer = setInterval(() => {
      const head = queue[0];
      if (!head) return;
      client.write(head.subarray(0, 1));
      if (head.length === 1) queue.shift();
      else queue[0] = head.subarray(1);
    }, m.everyMs);
    client.on('close', () => clearInterval(timer));
  }
}
