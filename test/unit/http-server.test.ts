import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import bcrypt from 'bcryptjs';
import {
  createHttpServer,
  parseListenAddress,
  type ExporterView,
  type HttpServerHandle,
  type HttpServerOptions,
  type MetricsPage,
} from '../../src/http/server.ts';
import type { ExpositionFormat } from '../../src/exposition/writer.ts';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(
  handle: HttpServerHandle,
  opts: { path?: string; method?: string; headers?: Record<string, string>; tls?: https.RequestOptions; protocol?: 'http' | 'https' } = {},
): Promise<Reply> {
  const { port } = handle.address();
  const protocol = opts.protocol ?? (handle.tls ? 'https' : 'http');
  const mod = protocol === 'https' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      { host: '127.0.0.1', port, path: opts.path ?? '/metrics', method: opts.method ?? 'GET', headers: opts.headers, agent: false, ...opts.tls },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const TEXT_PIECES = ['# HELP a_total A.\n# TYPE a_total counter\na_total 1\n', '# HELP b B.\n# TYPE b gauge\nb{x="y"} 2\n'];
const OM_PIECES = ['# HELP a A.\n# TYPE a counter\na_total 1\n', '# HELP b B.\n# TYPE b gauge\nb{x="y"} 2\n'];

interface FakeOptions {
  metrics?: (format: ExpositionFormat, signal: AbortSignal) => MetricsPage | Promise<MetricsPage>;
  ready?: { ok: boolean; reason: string };
}

function fakeProvider(o: FakeOptions = {}): ExporterView & { formats: ExpositionFormat[] } {
  const formats: ExpositionFormat[] = [];
  return {
    formats,
    metrics(format, signal) {
      formats.push(format);
      if (o.metrics) return o.metrics(format, signal);
      return format === 'openmetrics' ? OM_PIECES : TEXT_PIECES;
    },
    health: () => ({ ok: true, detail: { uptime_seconds: 12 } }),
    ready: () => o.ready ?? { ok: true, reason: '' },
    leader: () => ({ is_leader: true, identity: 'pod-a' }),
    landing: () => ({
      title: 'Slurm Exporter',
      version: '9.8.7',
      links: [{ href: 'https://example.org/docs', text: 'Docs' }],
      info: { source: 'slurmrestd http://ctl:6820 v0.0.41', note: '<script>alert(1)</script>' },
    }),
  };
}

const servers: HttpServerHandle[] = [];
async function start(opts: Partial<HttpServerOptions> & { provider: ExporterView }): Promise<HttpServerHandle> {
  const h = await createHttpServer({ listenAddress: '127.0.0.1:0', ...opts });
  servers.push(h);
  return h;
}
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached');
}

void describe('listen address', () => {
  void it('parses the forms Prometheus exporters use', () => {
    assert.deepEqual(parseListenAddress(':9341'), { host: undefined, port: 9341 });
    assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseListenAddress('[::]:9341'), { host: '::', port: 9341 });
    assert.deepEqual(parseListenAddress('[::1]:80'), { host: '::1', port: 80 });
    assert.deepEqual(parseListenAddress('exporter.local:9341'), { host: 'exporter.local', port: 9341 });
    for (const bad of ['9341', 'host:', ':70000', '::1:80', 'a:b']) {
      assert.throws(() => parseListenAddress(bad), /invalid listen address/, bad);
    }
  });

  void it('listens on IPv6 [::1] when asked', async () => {
    const h = await start({ provider: fakeProvider(), listenAddress: '[::1]:0' });
    assert.equal(h.address().host, '::1');
    assert.ok(h.address().port > 0);
  });

  void it('reports a port in use clearly', async () => {
    const h = await start({ provider: fakeProvider() });
    await assert.rejects(createHttpServer({ listenAddress: `127.0.0.1:${h.address().port}`, provider: fakeProvider() }), /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
  });
});

void describe('metrics endpoint', () => {
  let h: HttpServerHandle;
  let provider: ReturnType<typeof fakeProvider>;
  const scrapes: [number, number][] = [];
  before(async () => {
    provider = fakeProvider();
    h = await start({ provider, onScrape: (s, status) => scrapes.push([s, status]) });
  });

  void it('serves text 0.0.4 by default, pieces joined', async () => {
    const r = await request(h);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(r.body.toString(), TEXT_PIECES.join(''));
    assert.equal(r.headers['content-encoding'], undefined);
    assert.equal(provider.formats.at(-1), 'text');
  });

  void it('serves OpenMetrics with # EOF when Prometheus asks for it', async () => {
    const r = await request(h, {
      headers: { Accept: 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    assert.equal(r.body.toString(), OM_PIECES.join('') + '# EOF\n');
    assert.equal(provider.formats.at(-1), 'openmetrics');
  });

  void it('gzips when the client accepts it', async () => {
    const r = await request(h, { headers: { 'Accept-Encoding': 'gzip, deflate' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.equal(Number(r.headers['content-length']), r.body.length);
    assert.equal(gunzipSync(r.body).toString(), TEXT_PIECES.join(''));
    assert.match(String(r.headers['vary']), /Accept-Encoding/);
  });

  void it('answers HEAD with the GET headers and no body', async () => {
    const get = await request(h);
    const head = await request(h, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], get.headers['content-length']);
    assert.equal(head.headers['content-type'], get.headers['content-type']);
  });

  void it('calls onScrape with duration and status', async () => {
    const before = scrapes.length;
    await request(h);
    assert.equal(scrapes.length, before + 1);
    const [seconds, status] = scrapes.at(-1) as [number, number];
    assert.equal(status, 200);
    assert.ok(seconds >= 0 && seconds < 60);
  });

  void it('answers 500 when the provider throws, without its message', async () => {
    const h2 = await start({
      provider: fakeProvider({
        metrics: () => {
          throw new Error('token=abc123 leaked');
        },
      }),
    });
    const r = await request(h2);
    assert.equal(r.status, 500);
    assert.ok(!r.body.toString().includes('abc123'));
  });
});

void describe('scrape limits', () => {
  void it('refuses a scrape beyond maxConcurrentScrapes at once with 503', async () => {
    const gate = deferred<MetricsPage>();
    let calls = 0;
    const statuses: number[] = [];
    const h = await start({
      provider: fakeProvider({
        metrics: () => {
          calls++;
          return gate.promise;
        },
      }),
      maxConcurrentScrapes: 2,
      scrapeTimeoutMs: 0,
      onScrape: (_s, status) => statuses.push(status),
    });
    const first = request(h);
    const second = request(h);
    await until(() => calls === 2);
    const third = await request(h);
    assert.equal(third.status, 503);
    assert.match(third.body.toString(), /too many concurrent scrapes \(limit 2\)/);
    assert.equal(calls, 2, 'the refused scrape never reached the provider');
    gate.resolve('x 1\n');
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(a.body.toString(), 'x 1\n');
    assert.deepEqual(statuses.sort(), [200, 200, 503]);
    // Slots are free again.
    assert.equal((await request(h)).status, 200);
  });

  void it('answers 503 when an async page is not ready within scrapeTimeoutMs, and aborts the work', async () => {
    let signal: AbortSignal | undefined;
    const h = await start({
      provider: fakeProvider({
        metrics: (_f, s) => {
          signal = s;
          return new Promise<MetricsPage>(() => {});
        },
      }),
      scrapeTimeoutMs: 100,
    });
    const r = await request(h);
    assert.equal(r.status, 503);
    assert.match(r.body.toString(), /scrape timed out/);
    assert.equal(signal?.aborted, true);
  });

  void it('refuses a synchronous page that took longer than the timeout', async () => {
    const h = await start({
      provider: fakeProvider({
        metrics: () => {
          const end = Date.now() + 120;
          while (Date.now() < end) {
            // a slow render
          }
          return 'x 1\n';
        },
      }),
      scrapeTimeoutMs: 30,
    });
    assert.equal((await request(h)).status, 503);
  });

  void it('honours a shorter X-Prometheus-Scrape-Timeout-Seconds', async () => {
    const h = await start({
      provider: fakeProvider({ metrics: () => new Promise<MetricsPage>((r) => setTimeout(() => r('x 1\n'), 400)) }),
      scrapeTimeoutMs: 60_000,
    });
    assert.equal((await request(h, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '0.05' } })).status, 503);
    assert.equal((await request(h)).status, 200);
  });
});

void describe('other routes', () => {
  let h: HttpServerHandle;
  before(async () => {
    h = await start({ provider: fakeProvider({ ready: { ok: false, reason: 'no successful collection yet' } }), telemetryPath: '/custom' });
  });

  void it('serves metrics on the configured telemetry path only', async () => {
    assert.equal((await request(h, { path: '/custom' })).status, 200);
    assert.equal((await request(h, { path: '/custom?x=1' })).status, 200);
    assert.equal((await request(h, { path: '/metrics' })).status, 404);
  });

  void it('answers 404 for unknown paths and 405 with Allow for wrong methods', async () => {
    const nf = await request(h, { path: '/nope' });
    assert.equal(nf.status, 404);
    for (const p of ['/custom', '/health', '/ready', '/leader', '/']) {
      const r = await request(h, { path: p, method: 'POST' });
      assert.equal(r.status, 405, p);
      assert.equal(r.headers['allow'], 'GET, HEAD');
    }
    assert.equal((await request(h, { path: '/custom', method: 'DELETE' })).status, 405);
  });

  void it('HEAD works on every route', async () => {
    for (const p of ['/custom', '/health', '/ready', '/leader', '/']) {
      const get = await request(h, { path: p });
      const head = await request(h, { path: p, method: 'HEAD' });
      assert.equal(head.status, get.status, p);
      assert.equal(head.body.length, 0, p);
      assert.equal(head.headers['content-length'], get.headers['content-length'], p);
    }
  });

  void it('/health answers JSON', async () => {
    const r = await request(h, { path: '/health' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(r.body.toString()), { status: 'ok', uptime_seconds: 12 });
  });

  void it('/ready answers 503 with the reason, as text or JSON', async () => {
    const r = await request(h, { path: '/ready' });
    assert.equal(r.status, 503);
    assert.equal(r.body.toString(), 'not ready: no successful collection yet\n');
    const j = await request(h, { path: '/ready', headers: { Accept: 'application/json' } });
    assert.equal(j.status, 503);
    assert.deepEqual(JSON.parse(j.body.toString()), { ready: false, reason: 'no successful collection yet' });
  });

  void it('/leader answers JSON', async () => {
    const r = await request(h, { path: '/leader' });
    assert.deepEqual(JSON.parse(r.body.toString()), { is_leader: true, identity: 'pod-a' });
  });

  void it('/ shows name, version, links and escaped info', async () => {
    const r = await request(h, { path: '/' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    const html = r.body.toString();
    assert.match(html, /<title>Slurm Exporter<\/title>/);
    assert.match(html, /Version 9\.8\.7/);
    for (const href of ['/custom', '/health', '/ready', '/leader', 'https://example.org/docs']) assert.ok(html.includes(`href="${href}"`), href);
    assert.ok(html.includes('slurmrestd http://ctl:6820 v0.0.41'));
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('&#60;script&#62;'));
  });

  void it('refuses oversized request headers with 431', async () => {
    const r = await request(h, { path: '/health', headers: { 'X-Big': 'a'.repeat(20 * 1024) } });
    assert.equal(r.status, 431);
  });
});

void describe('close', () => {
  void it('finishes in-flight requests, closes idle keep-alive sockets, then stops accepting', async () => {
    const gate = deferred<MetricsPage>();
    let calls = 0;
    const h = await createHttpServer({
      listenAddress: '127.0.0.1:0',
      provider: fakeProvider({
        metrics: () => {
          calls++;
          return gate.promise;
        },
      }),
    });
    const { port } = h.address();
    // An idle keep-alive connection that has served one request.
    const agent = new http.Agent({ keepAlive: true });
    const idle = await new Promise<net.Socket>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/health', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(socket));
      });
      let socket: net.Socket;
      req.on('socket', (s) => {
        socket = s;
      });
      req.on('error', reject);
    });
    const idleClosed = new Promise<void>((r) => idle.once('close', () => r()));
    const inflight = request(h);
    await until(() => calls === 1);
    const closed = h.close();
    await idleClosed;
    gate.resolve('x 1\n');
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'x 1\n');
    await closed;
    await assert.rejects(
      new Promise((resolve, reject) => net.connect({ host: '127.0.0.1', port }, () => resolve(undefined)).on('error', reject)),
      { code: 'ECONNREFUSED' },
    );
    agent.destroy();
  });
});

// Real TLS: a CA, a server certificate, a client certificate and one from an untrusted CA, made with openssl.
void describe('TLS and basic auth from a web config file', () => {
  let dir = '';
  const hash = bcrypt.hashSync('scrape-pass', 4);
  const basic = (user: string, pass: string): string => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
  const pem = (name: string): Buffer => readFileSync(path.join(dir, name));
  const writeConfig = (name: string, text: string): string => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'httptls-'));
    const ssl = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    };
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    const signed = (name: string, ca: string, subj: string, ext: string): void => {
      writeFileSync(path.join(dir, `${name}.ext`), ext);
      ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
    };
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-ca');
    ssl('req', '-x509', ...ec, '-keyout', 'rogue.key', '-out', 'rogue.crt', '-days', '1', '-subj', '/CN=rogue-ca');
    signed('server', 'ca', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    signed('client', 'ca', '/CN=prometheus', 'subjectAltName=DNS:scraper.example\nextendedKeyUsage=clientAuth\n');
    signed('other', 'ca', '/CN=other', 'subjectAltName=DNS:other.example\nextendedKeyUsage=clientAuth\n');
    signed('badclient', 'rogue', '/CN=prometheus', 'subjectAltName=DNS:scraper.example\nextendedKeyUsage=clientAuth\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('serves HTTPS, refuses plain HTTP, enforces basic auth, leaves probes open when configured', async () => {
    const file = writeConfig('web.yml', `
tls_server_config:
  cert_file: server.crt
  key_file: server.key
basic_auth_users:
  prometheus: ${hash}
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
probes_without_auth: true
`);
    const h = await start({ provider: fakeProvider(), webConfigFile: file });
    assert.equal(h.tls, true);
    const tls = { ca: pem('ca.crt'), servername: 'localhost' };

    const ok = await request(h, { tls, headers: { Authorization: basic('prometheus', 'scrape-pass') } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), TEXT_PIECES.join(''));
    assert.equal(ok.headers['x-content-type-options'], 'nosniff');

    const noAuth = await request(h, { tls });
    assert.equal(noAuth.status, 401);
    assert.match(String(noAuth.headers['www-authenticate']), /^Basic realm=/);
    const wrong = await request(h, { tls, headers: { Authorization: basic('prometheus', 'nope') } });
    assert.equal(wrong.status, 401);
    assert.match(String(wrong.headers['www-authenticate']), /^Basic/);
    // Unknown paths and the landing page are behind auth too.
    assert.equal((await request(h, { tls, path: '/nope' })).status, 401);
    assert.equal((await request(h, { tls, path: '/' })).status, 401);
    assert.equal((await request(h, { tls, path: '/leader' })).status, 401);
    // Probes are open.
    assert.equal((await request(h, { tls, path: '/health' })).status, 200);
    assert.equal((await request(h, { tls, path: '/ready' })).status, 200);

    await assert.rejects(request(h, { protocol: 'http' }));
    // And a client that does not trust our CA refuses the server.
    await assert.rejects(request(h, { tls: { servername: 'localhost' } }), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  void it('keeps probes behind auth by default', async () => {
    const file = writeConfig('auth.yml', `basic_auth_users:\n  prometheus: ${hash}\n`);
    const h = await start({ provider: fakeProvider(), webConfigFile: file });
    assert.equal(h.tls, false);
    assert.equal((await request(h, { path: '/health' })).status, 401);
    assert.equal((await request(h, { path: '/health', headers: { Authorization: basic('prometheus', 'scrape-pass') } })).status, 200);
  });

  void it('RequireAndVerifyClientCert: refuses a missing or untrusted client cert, accepts a valid one', async () => {
    const file = writeConfig('mtls.yml', `
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
`);
    const h = await start({ provider: fakeProvider(), webConfigFile: file });
    const base = { ca: pem('ca.crt'), servername: 'localhost' };
    const good = await request(h, { tls: { ...base, cert: pem('client.crt'), key: pem('client.key') } });
    assert.equal(good.status, 200);
    await assert.rejects(request(h, { tls: base }));
    await assert.rejects(request(h, { tls: { ...base, cert: pem('badclient.crt'), key: pem('badclient.key') } }));
  });

  void it('client_allowed_sans and VerifyClientCertIfGiven are enforced after the handshake', async () => {
    const sans = writeConfig('sans.yml', `
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  client_allowed_sans: [scraper.example]
`);
    const h = await start({ provider: fakeProvider(), webConfigFile: sans });
    const base = { ca: pem('ca.crt'), servername: 'localhost' };
    assert.equal((await request(h, { tls: { ...base, cert: pem('client.crt'), key: pem('client.key') } })).status, 200);
    await assert.rejects(request(h, { tls: { ...base, cert: pem('other.crt'), key: pem('other.key') } }));

    const ifGiven = writeConfig('ifgiven.yml', `
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: VerifyClientCertIfGiven
  client_ca_file: ca.crt
`);
    const h2 = await start({ provider: fakeProvider(), webConfigFile: ifGiven });
    assert.equal((await request(h2, { tls: base })).status, 200);
    assert.equal((await request(h2, { tls: { ...base, cert: pem('client.crt'), key: pem('client.key') } })).status, 200);
    await assert.rejects(request(h2, { tls: { ...base, cert: pem('badclient.crt'), key: pem('badclient.key') } }));
  });

  void it('reloads users and refuses to switch TLS off without a restart', async () => {
    const file = writeConfig('reload.yml', `basic_auth_users:\n  prometheus: ${hash}\n`);
    const h = await start({ provider: fakeProvider(), webConfigFile: file });
    const newHash = bcrypt.hashSync('rotated', 4);
    writeFileSync(file, `basic_auth_users:\n  prometheus: ${newHash}\n`);
    await h.reloadWebConfig();
    assert.equal((await request(h, { headers: { Authorization: basic('prometheus', 'scrape-pass') } })).status, 401);
    assert.equal((await request(h, { headers: { Authorization: basic('prometheus', 'rotated') } })).status, 200);
    writeFileSync(file, 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n');
    await assert.rejects(h.reloadWebConfig(), /switching TLS on or off needs a restart/);
    assert.equal((await request(h, { headers: { Authorization: basic('prometheus', 'rotated') } })).status, 200);
  });

  void it('rate_limit answers 429 beyond the burst', async () => {
    const file = writeConfig('rate.yml', 'rate_limit:\n  interval: 1h\n  burst: 2\n');
    const h = await start({ provider: fakeProvider(), webConfigFile: file });
    assert.equal((await request(h)).status, 200);
    assert.equal((await request(h)).status, 200);
    assert.equal((await request(h)).status, 429);
  });

  void it('refuses to start on an invalid web config, naming the key', async () => {
    const file = writeConfig('broken.yml', 'tls_server_config:\n  key_file: server.key\n');
    await assert.rejects(createHttpServer({ listenAddress: '127.0.0.1:0', provider: fakeProvider(), webConfigFile: file }), {
      message: `web config ${file}: tls_server_config.cert_file: missing`,
    });
  });
});
