// RestSource against the simulator over real HTTP (and a real unix socket): version negotiation, the three JWT
// sources, renewal after a refused token, a vanished API version, and how transport failures are classified.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SlurmSimulator } from '../../src/simulator/server.ts';
import { RestSource, parseSlurmUrl } from '../../src/slurm/rest/client.ts';
import { SlurmAuth } from '../../src/slurm/rest/auth.ts';
import { decodeJwtClaims, mintSlurmJwt } from '../../src/slurm/rest/jwt.ts';
import { SlurmFetchError } from '../../src/slurm/source.ts';
import { freePort } from '../support/daemon.ts';
import type { SlurmRestConfig } from '../../src/config/types.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const KEY = Buffer.from('0123456789abcdef0123456789abcdef-test-key');

function slurmCfg(over: Partial<SlurmRestConfig>): SlurmRestConfig {
  return {
    url: undefined,
    apiVersion: undefined,
    user: undefined,
    token: undefined,
    tokenFile: undefined,
    jwtKeyFile: undefined,
    jwtLifetimeMs: 3600_000,
    cluster: undefined,
    maxConnections: 4,
    connectionTimeoutMs: 2000,
    requestTimeoutMs: 5000,
    keepAlive: true,
    maxResponseBytes: 512 * 1024 * 1024,
    rateLimit: { enabled: false, requestsPerSecond: 10, burstSize: 20 },
    cache: { enabled: false, ttlMs: 0, maxSize: 0 },
    tls: { caFile: undefined, insecureSkipVerify: false },
    ...over,
  };
}

const signal = () => AbortSignal.timeout(10_000);

async function fetchError(p: Promise<unknown>): Promise<SlurmFetchError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SlurmFetchError, `expected a SlurmFetchError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the fetch to fail');
}

describe('RestSource', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rest-client-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('negotiates the newest version the server serves, newest first', async () => {
    const sim = new SlurmSimulator({ nodes: 5, jobs: 10, versions: ['v0.0.38', 'v0.0.40'], tickMs: 0 });
    const { url } = await sim.start();
    const src = new RestSource(slurmCfg({ url }), quiet, { userAgent: 'test/1 (replica-a)' });
    try {
      await src.init(signal());
      assert.equal(src.apiVersion(), 'v0.0.40');
      const paths = sim.requestLog.map((e) => `${e.status} ${e.path}`);
      assert.deepEqual(paths, [
        '404 /slurm/v0.0.44/ping',
        '404 /slurm/v0.0.43/ping',
        '404 /slurm/v0.0.42/ping',
        '404 /slurm/v0.0.41/ping',
        '200 /slurm/v0.0.40/ping',
      ]);
      assert.equal(sim.requestLog[0]!.userAgent, 'test/1 (replica-a)');
      const nodes = await src.fetch('nodes', signal());
      assert.equal(nodes.data.length, 5);
      assert.equal(nodes.requests, 1);
      assert.ok(nodes.bytes > 0);
      assert.match(src.describe(), /v0\.0\.40/);
    } finally {
      await src.close();
      await sim.stop();
    }
  });

  it('uses a forced version without probing, and refuses one it does not speak', async () => {
    const sim = new SlurmSimulator({ nodes: 3, jobs: 4, tickMs: 0 });
    const { url } = await sim.start();
    const src = new RestSource(slurmCfg({ url, apiVersion: 'v0.0.38' }), quiet, { userAgent: 't' });
    const old = new RestSource(slurmCfg({ url, apiVersion: 'v0.0.37' }), quiet, { userAgent: 't' });
    try {
      const jobs = await src.fetch('jobs', signal());
      assert.equal(jobs.data.length, 4);
      assert.deepEqual(sim.requestLog.map((e) => e.path), ['/slurm/v0.0.38/jobs']);
      const e = await fetchError(old.fetch('jobs', signal()));
      assert.equal(e.kind, 'version');
      assert.match(e.message, /v0\.0\.37 is not supported/);
    } finally {
      await src.close();
      await old.close();
      await sim.stop();
    }
  });

  it('negotiates again when the API version disappears (a Slurm upgrade) and succeeds in the same fetch', async () => {
    const sim = new SlurmSimulator({ nodes: 4, jobs: 2, tickMs: 0 });
    const { url } = await sim.start();
    const src = new RestSource(slurmCfg({ url }), quiet, { userAgent: 't' });
    try {
      await src.init(signal());
      assert.equal(src.apiVersion(), 'v0.0.44');
      sim.faults.set({ mode: 'drop-version', version: 'v0.0.44' });
      const nodes = await src.fetch('nodes', signal());
      assert.equal(nodes.data.length, 4);
      assert.equal(src.apiVersion(), 'v0.0.43');
    } finally {
      await src.close();
      await sim.stop();
    }
  });

  it('signs its own tokens with the HS256 key file; without credentials the answer is an auth error', async () => {
    const keyFile = path.join(dir, 'jwt_hs256.key');
    writeFileSync(keyFile, KEY);
    const sim = new SlurmSimulator({ nodes: 2, jobs: 3, jwtKey: KEY, tickMs: 0 });
    const { url } = await sim.start();
    const signed = new RestSource(slurmCfg({ url, jwtKeyFile: keyFile, user: 'root' }), quiet, { userAgent: 't' });
    const none = new RestSource(slurmCfg({ url }), quiet, { userAgent: 't' });
    try {
      assert.equal((await signed.fetch('jobs', signal())).data.length, 3);
      const e = await fetchError(none.fetch('jobs', signal()));
      assert.equal(e.kind, 'auth');
      assert.equal(e.status, 401);
    } finally {
      await signed.close();
      await none.close();
      await sim.stop();
    }
  });

  it('reports a refused token as auth after one request, and picks up a rotated token file', async () => {
    const tokenFile = path.join(dir, 'token');
    const expired = mintSlurmJwt('root', KEY, 60, Math.floor(Date.now() / 1000) - 3600);
    writeFileSync(tokenFile, `${expired}\n`);
    const sim = new SlurmSimulator({ nodes: 2, jobs: 6, jwtKey: KEY, tickMs: 0, versions: ['v0.0.44'] });
    const { url } = await sim.start();
    const src = new RestSource(slurmCfg({ url, tokenFile }), quiet, { userAgent: 't' });
    try {
      const e = await fetchError(src.fetch('jobs', signal()));
      assert.equal(e.kind, 'auth');
      assert.equal(e.status, 511);
      assert.match(e.message, /Protocol authentication error/);
      assert.ok(!e.message.includes(expired), 'the token must not appear in the error');
      const jobRequests = sim.requestLog.filter((r) => r.path.endsWith('/jobs'));
      assert.equal(jobRequests.length, 1, 'an unchanged token is not retried (no hammering)');
      writeFileSync(tokenFile, mintSlurmJwt('root', KEY, 600));
      assert.equal((await src.fetch('jobs', signal())).data.length, 6);
    } finally {
      await src.close();
      await sim.stop();
    }
  });

  it('talks to slurmrestd over a unix socket', async () => {
    const sim = new SlurmSimulator({ nodes: 3, jobs: 1, tickMs: 0 });
    const { port } = await sim.start();
    const sock = path.join(dir, 'slurmrestd.sock');
    // A plain byte relay: slurmrestd listens on unix sockets itself; the simulator only on TCP.
    const relay = net.createServer((c) => {
      const up = net.connect(port, '127.0.0.1');
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => relay.listen(sock, r));
    const src = new RestSource(slurmCfg({ url: `unix://${sock}` }), quiet, { userAgent: 't' });
    try {
      assert.equal((await src.fetch('nodes', signal())).data.length, 3);
      assert.match(src.describe(), /unix:\/\/.*slurmrestd\.sock/);
    } finally {
      await src.close();
      await new Promise((r) => relay.close(r));
      await sim.stop();
    }
  });

  describe('classifies failures', () => {
    let sim: SlurmSimulator;
    let src: RestSource;
    before(async () => {
      sim = new SlurmSimulator({ nodes: 50, jobs: 200, tickMs: 0 });
      const { url } = await sim.start();
      src = new RestSource(slurmCfg({ url, maxResponseBytes: 2 * 1024 * 1024 }), quiet, { userAgent: 't' });
      await src.init(signal());
    });
    after(async () => {
      await src.close();
      await sim.stop();
    });

    const cases: { name: string; fault: Parameters<SlurmSimulator['faults']['set']>[0]; kind: string; status?: number; re?: RegExp }[] = [
      // Twice: a GET on a kept-alive connection closed without an answer is retried once.
      { name: 'refused/reset connection', fault: { mode: 'refuse', times: 2 }, kind: 'connect', re: /retried once on a new connection/ },
      { name: 'HTTP 502', fault: { mode: 'status', status: 502, body: 'bad gateway', times: 1 }, kind: 'http', status: 502, re: /HTTP 502.*bad gateway/ },
      { name: 'malformed JSON', fault: { mode: 'malformed', times: 1 }, kind: 'parse' },
      { name: 'body cut off mid-stream', fault: { mode: 'truncate', bytes: 3000, times: 1 }, kind: 'connect', re: /connection was lost|other side closed/ },
      { name: 'answer over the size limit', fault: { mode: 'huge', bytes: 8 * 1024 * 1024, times: 1 }, kind: 'too_large', re: /size|limit|bytes/ },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        sim.faults.set(c.fault);
        const e = await fetchError(src.fetch('jobs', signal()));
        assert.equal(e.kind, c.kind, e.message);
        if (c.status !== undefined) assert.equal(e.status, c.status);
        if (c.re) assert.match(e.message, c.re);
        sim.faults.clear();
        assert.equal((await src.fetch('jobs', signal())).data.length, 200, 'recovers once the fault clears');
      });
    }

    it('a hung answer ends with the caller timeout reason', async () => {
      sim.faults.set({ mode: 'hang', times: 1 });
      const ctrl = new AbortController();
      setTimeout(() => ctrl.abort(new SlurmFetchError('timeout', 'jobs: no complete answer within 300 ms')), 300);
      const e = await fetchError(src.fetch('jobs', ctrl.signal));
      assert.equal(e.kind, 'timeout');
      sim.faults.clear();
    });

    it('nothing listening is a connect error', async () => {
      const port = await freePort();
      const dead = new RestSource(slurmCfg({ url: `http://127.0.0.1:${port}` }), quiet, { userAgent: 't' });
      const e = await fetchError(dead.fetch('nodes', signal()));
      assert.equal(e.kind, 'connect');
      assert.match(e.message, /ECONNREFUSED/);
      await dead.close();
    });
  });
});

describe('SlurmAuth', () => {
  it('takes the user from the token when none is configured, and never needs a user for a fixed token', async () => {
    const token = mintSlurmJwt('alice', KEY, 600);
    const h = await new SlurmAuth({ user: undefined, token, tokenFile: undefined, jwtKeyFile: undefined, jwtLifetimeMs: 0 }).headers();
    assert.deepEqual(h, { 'x-slurm-user-token': token, 'x-slurm-user-name': 'alice' });
    const h2 = await new SlurmAuth({ user: 'svc', token, tokenFile: undefined, jwtKeyFile: undefined, jwtLifetimeMs: 0 }).headers();
    assert.equal(h2['x-slurm-user-name'], 'svc');
  });

  it('renews a self-signed token before it expires', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'auth-'));
    const keyFile = path.join(dir, 'k');
    writeFileSync(keyFile, KEY);
    let now = Date.UTC(2026, 10, 24, 12, 0, 0);
    const auth = new SlurmAuth({ user: 'root', token: undefined, tokenFile: undefined, jwtKeyFile: keyFile, jwtLifetimeMs: 600_000 }, () => now);
    const first = (await auth.headers())['x-slurm-user-token']!;
    assert.equal(decodeJwtClaims(first).exp, now / 1000 + 600);
    now += 400_000; // 200 s left: more than the 120 s margin (a fifth of the lifetime)
    assert.equal((await auth.headers())['x-slurm-user-token'], first);
    now += 100_000; // 100 s left: renewed
    const second = (await auth.headers())['x-slurm-user-token']!;
    assert.notEqual(second, first);
    assert.equal(decodeJwtClaims(second).exp, now / 1000 + 600);
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the file, never its content, when a token file is missing or empty', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'auth-'));
    const missing = new SlurmAuth({ user: undefined, token: undefined, tokenFile: path.join(dir, 'nope'), jwtKeyFile: undefined, jwtLifetimeMs: 0 });
    await assert.rejects(missing.headers(), (e: SlurmFetchError) => e.kind === 'auth' && /nope: no such file/.test(e.message));
    writeFileSync(path.join(dir, 'empty'), '\n');
    const empty = new SlurmAuth({ user: undefined, token: undefined, tokenFile: path.join(dir, 'empty'), jwtKeyFile: undefined, jwtLifetimeMs: 0 });
    await assert.rejects(empty.headers(), /empty is empty/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('parseSlurmUrl', () => {
  it('accepts http, https with a prefix, and unix sockets; rejects others', () => {
    assert.deepEqual(parseSlurmUrl('http://ctl:6820/'), { origin: 'http://ctl:6820', socketPath: undefined, display: 'http://ctl:6820', prefix: '' });
    assert.equal(parseSlurmUrl('https://gw.example/slurmrestd').prefix, '/slurmrestd');
    assert.equal(parseSlurmUrl('unix:///run/slurmrestd.sock').socketPath, '/run/slurmrestd.sock');
    assert.throws(() => parseSlurmUrl('ftp://x'), /unsupported scheme/);
    assert.throws(() => parseSlurmUrl('unix:relative.sock'), /absolute path/);
  });
});

/** A local HTTP server (keep-alive, as Node's is by default); `handle` gets the request's number on its connection. */
async function localServer(handle: (req: http.IncomingMessage, res: http.ServerResponse, nth: number) => void) {
  const perConnection = new WeakMap<net.Socket, number>();
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const nth = (perConnection.get(req.socket) ?? 0) + 1;
    perConnection.set(req.socket, nth);
    handle(req, res, nth);
  });
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const JOBS_44 = readFileSync(new URL('../fixtures/slurm-25.11.7/rest_v0.0.44_slurm_jobs.json', import.meta.url));

function answer(res: http.ServerResponse, body: Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length), ...headers });
  res.end(body);
}

// One connection, so that the next request surely goes out on the kept-alive one (with room for more, undici
// opens another while it checks an idle connection).
describe('RestSource over a kept-alive connection', () => {
  it('retries a GET once on a new connection when the server closes a kept-alive one without answering', async () => {
    const seen: number[] = [];
    const srv = await localServer((req, res, nth) => {
      seen.push(nth);
      if (nth === 2) req.socket.destroy(); // the second request on a connection: closed, never answered
      else answer(res, JOBS_44);
    });
    const src = new RestSource(slurmCfg({ url: srv.url, apiVersion: 'v0.0.44', maxConnections: 1 }), quiet, { userAgent: 't' });
    try {
      assert.equal((await src.fetch('jobs', signal())).data.length, 22);
      const second = await src.fetch('jobs', signal());
      assert.equal(second.data.length, 22);
      assert.deepEqual(seen, [1, 2, 1], 'the second GET went out on the kept-alive connection, then on a new one');
      assert.equal(srv.sockets.size, 2);
    } finally {
      await src.close();
      await srv.close();
    }
  });

  it('does not retry a timeout, an aborted request, or a connection lost after the headers', async () => {
    const seen: number[] = [];
    let second = 'hang' as 'hang' | 'cut';
    const srv = await localServer((req, res, nth) => {
      seen.push(nth);
      if (nth === 1) return answer(res, JOBS_44);
      if (second === 'cut') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(JOBS_44.length) });
        res.write(JOBS_44.subarray(0, 3000));
        setTimeout(() => req.socket.destroy(), 20);
      }
    });
    const src = new RestSource(slurmCfg({ url: srv.url, apiVersion: 'v0.0.44', maxConnections: 1, requestTimeoutMs: 300 }), quiet, { userAgent: 't' });
    try {
      const cases: [typeof second, () => AbortSignal, string][] = [
        ['hang', signal, 'timeout'],
        ['hang', () => AbortSignal.timeout(100), 'aborted'],
        ['cut', signal, 'connect'],
      ];
      for (const [mode, sig, kind] of cases) {
        second = mode;
        seen.length = 0;
        await src.fetch('jobs', signal());
        const e = await fetchError(src.fetch('jobs', sig()));
        assert.equal(e.kind, kind, e.message);
        assert.doesNotMatch(e.message, /retried/);
        assert.deepEqual(seen, [1, 2], `${mode}/${kind}: no second attempt`);
      }
    } finally {
      await src.close();
      await srv.close();
    }
  });
});

describe('RestSource and Content-Encoding', () => {
  const encoders: Record<string, (b: Buffer) => Buffer> = {
    gzip: (b) => gzipSync(b),
    'x-gzip': (b) => gzipSync(b),
    deflate: (b) => deflateSync(b),
    br: (b) => brotliCompressSync(b),
    'gzip, br': (b) => brotliCompressSync(gzipSync(b)),
  };
  let body: { data: Buffer; encoding: string };
  let srv: Awaited<ReturnType<typeof localServer>>;
  before(async () => {
    srv = await localServer((_req, res) => answer(res, body.data, body.encoding ? { 'content-encoding': body.encoding } : {}));
  });
  after(() => srv.close());
  const source = (maxResponseBytes = 512 * 1024 * 1024) => new RestSource(slurmCfg({ url: srv.url, apiVersion: 'v0.0.44', maxResponseBytes }), quiet, { userAgent: 't' });

  it('decompresses gzip, x-gzip, deflate, br and stacked codings sent unasked, as the plain answer reads', async () => {
    const src = source();
    try {
      body = { data: JOBS_44, encoding: '' };
      const plain = await src.fetch('jobs', signal());
      assert.equal(plain.data.length, 22);
      for (const [encoding, encode] of Object.entries(encoders)) {
        body = { data: encode(JOBS_44), encoding };
        const got = await src.fetch('jobs', signal());
        assert.deepEqual(got.data, plain.data, encoding);
        assert.equal(got.bytes, JOBS_44.length, `${encoding}: the decompressed bytes are counted`);
      }
    } finally {
      await src.close();
    }
  });

  it('a corrupt or truncated compressed answer, or an unknown coding, is a parse error naming it', async () => {
    const src = source();
    const gz = gzipSync(JOBS_44);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 100, 400);
    const cases: [Buffer, string, RegExp][] = [
      [corrupt, 'gzip', /jobs answer \(Content-Encoding: gzip\) does not decompress/],
      [gz.subarray(0, gz.length - 100), 'gzip', /jobs answer \(Content-Encoding: gzip\) does not decompress: unexpected end of file/],
      [Buffer.from('not brotli at all'), 'br', /Content-Encoding: br\) does not decompress/],
      [JOBS_44, 'compress', /jobs answer has Content-Encoding "compress", which this exporter cannot decode \(it decodes gzip, x-gzip, deflate, br\)/],
    ];
    try {
      for (const [data, encoding, re] of cases) {
        body = { data, encoding };
        const e = await fetchError(src.fetch('jobs', signal()));
        assert.equal(e.kind, 'parse', e.message);
        assert.match(e.message, re);
      }
    } finally {
      await src.close();
    }
  });

  it('the size limit counts the decompressed bytes: a zip bomb fails as too_large, without inflating it all', async () => {
    const src = source(1024 * 1024);
    // 64 MiB of JSON whitespace in about 64 KB of gzip.
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"jobs": ['), Buffer.alloc(64 * 1024 * 1024, 0x20), Buffer.from(']}')]));
    assert.ok(bomb.length < 1024 * 1024);
    try {
      body = { data: bomb, encoding: 'gzip' };
      const t0 = Date.now();
      const e = await fetchError(src.fetch('jobs', signal()));
      assert.equal(e.kind, 'too_large', e.message);
      assert.match(e.message, /limit of 1048576 bytes.*decompressed \(Content-Encoding: gzip; slurm\.maxResponseSize counts the decompressed bytes\)/);
      assert.ok(Date.now() - t0 < 2000, 'stopped at the limit');
      body = { data: gzipSync(JOBS_44), encoding: 'gzip' };
      assert.equal((await src.fetch('jobs', signal())).data.length, 22, 'an answer under the limit still reads');
    } finally {
      await src.close();
    }
  });
});
