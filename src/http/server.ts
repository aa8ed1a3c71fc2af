// HTTP(S) server on node:http / node:https: /metrics (negotiated format, gzip), /health, /ready, /leader
// and a landing page, with exporter-toolkit web config (TLS, client certs, basic auth, headers, rate
// limit). A scrape never calls Slurm: the provider serves pre-rendered pieces from memory.

import { PreparedPiece } from '../exposition/prepared.ts';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { acceptsGzip, negotiateFormat } from '../exposition/negotiate.ts';
import { type ExpositionFormat } from '../exposition/writer.ts';
import { createBasicAuth, type BasicAuth } from './basic-auth.ts';
import { renderLanding, type LandingInfo } from './landing.ts';
import { EMPTY_WEB_CONFIG, loadWebConfig, type WebConfig } from './web-config.ts';

const gzip = promisify(zlib.gzip);

export type MetricsPage = string | readonly (string | PreparedPiece)[];

/** What the server shows; implemented by the exporter's wiring. */
export interface ExporterView {
  /**
   * The page for a format: one string or pieces (joined by the server, which also appends OpenMetrics'
   * `# EOF`, so pieces must not carry it). May return a promise; `signal` aborts when the scrape times out.
   */
  metrics(format: ExpositionFormat, signal: AbortSignal): MetricsPage | Promise<MetricsPage>;
  health(): { ok: boolean; detail: Record<string, unknown> };
  /** 503 with the reason when not ok; `clusters`: each cluster's own readiness, shown in the JSON answer. */
  ready(): { ok: boolean; reason: string; clusters?: Record<string, { ready: boolean; required: boolean; reason: string }> };
  leader(): Record<string, unknown>;
  landing(): LandingInfo;
}

/** Structural subset of a pino logger. */
export interface HttpLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface HttpServerOptions {
  /** `:9341`, `127.0.0.1:0`, `[::]:9341`, `host:port`. */
  listenAddress: string;
  /** Default `/metrics`. */
  telemetryPath?: string;
  /** Scrapes served at once; one more gets 503 at once. 0 = no limit. Default 10. */
  maxConcurrentScrapes?: number;
  /** A scrape's page must be ready within this (and within Prometheus' X-Prometheus-Scrape-Timeout-Seconds), else 503. 0 = none. Default 10000. */
  scrapeTimeoutMs?: number;
  /** exporter-toolkit web config file (TLS, basic auth, headers). */
  webConfigFile?: string;
  logger?: HttpLogger;
  provider: ExporterView;
  /** Called once per request to the telemetry path that passed auth, with its duration and status. */
  onScrape?(seconds: number, status: number): void;
  /** Largest request header block; beyond it node answers 431. Default 16384. */
  maxHeaderBytes?: number;
  /** close() destroys connections still open after this. Default 10000. */
  shutdownTimeoutMs?: number;
  /** gzip level for compressed scrapes. Default 1: metrics text compresses ~10x even at the fastest level. */
  gzipLevel?: number;
}

export interface HttpServerHandle {
  server: http.Server;
  /** True when serving HTTPS. */
  tls: boolean;
  address(): { host: string; port: number };
  /** Stop accepting, finish in-flight requests, close idle keep-alive sockets, then resolve. */
  close(): Promise<void>;
  /**
   * Re-read the web config file (certificate rotation, users, headers). Switching TLS on or off or
   * changing client_auth_type needs a restart and is refused with an error; the old config stays.
   */
  reloadWebConfig(): Promise<void>;
}

const NOOP_LOGGER: HttpLogger = { debug() {}, info() {}, warn() {}, error() {} };
const PROBE_PATHS = new Set(['/health', '/ready']);
const ALLOW = 'GET, HEAD';

/** Parse `:port`, `host:port`, `[v6]:port`; host undefined means every interface. */
export function parseListenAddress(addr: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new Error(`invalid listen address ${JSON.stringify(addr)}: want host:port, :port or [ipv6]:port with port 0-65535`);
  }
  const host = m[1] ?? m[2];
  return { host: host === '' || host === undefined ? undefined : host, port };
}

function tokenBucket(limit: WebConfig['rateLimit']): (() => boolean) | undefined {
  if (!limit) return undefined;
  let tokens = limit.burst;
  let last = performance.now();
  return () => {
    const now = performance.now();
    tokens = Math.min(limit.burst, tokens + (now - last) / limit.intervalMs);
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

function parseSans(subjectaltname: string | undefined): string[] {
  if (!subjectaltname) return [];
  // "DNS:a.example, IP Address:10.0.0.1, email:x@y, URI:spiffe://..."
  return subjectaltname.split(', ').map((entry) => entry.slice(entry.indexOf(':') + 1));
}

class ScrapeTimeout extends Error {}

export async function createHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const log = options.logger ?? NOOP_LOGGER;
  const provider = options.provider;
  const telemetryPath = options.telemetryPath ?? '/metrics';
  if (!telemetryPath.startsWith('/')) throw new Error(`invalid telemetry path ${JSON.stringify(telemetryPath)}: must start with "/"`);
  const maxScrapes = options.maxConcurrentScrapes ?? 10;
  const scrapeTimeoutMs = options.scrapeTimeoutMs ?? 10_000;
  const gzipLevel = options.gzipLevel ?? 1;
  const { host, port } = parseListenAddress(options.listenAddress);

  // Mutable so reloadWebConfig can swap it; requests read it once at their start.
  let web: WebConfig = options.webConfigFile ? await loadWebConfig(options.webConfigFile) : EMPTY_WEB_CONFIG;
  let auth: BasicAuth | undefined = web.basicAuthUsers.size > 0 ? createBasicAuth(web.basicAuthUsers) : undefined;
  let allowRequest = tokenBucket(web.rateLimit);
  let inflightScrapes = 0;
  let lastRefusalLog = -Infinity;
  let refusedSinceLog = 0;
  let closing = false;

  const send = (req: http.IncomingMessage, res: http.ServerResponse, status: number, contentType: string, body: string | Buffer | readonly Buffer[]): void => {
    const parts = typeof body === 'string' ? [Buffer.from(body)] : Buffer.isBuffer(body) ? [body] : body;
    res.statusCode = status;
    res.setHeader('Content-Type', contentType);
    res.setHeader('Content-Length', parts.reduce((n, b) => n + b.length, 0));
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // The cached pieces are written as they are: no join, no copy.
    res.cork();
    for (const b of parts) res.write(b);
    res.end();
  };
  const sendText = (req: http.IncomingMessage, res: http.ServerResponse, status: number, text: string): void =>
    send(req, res, status, 'text/plain; charset=utf-8', text.endsWith('\n') ? text : text + '\n');
  const sendJson = (req: http.IncomingMessage, res: http.ServerResponse, status: number, value: unknown): void =>
    send(req, res, status, 'application/json', JSON.stringify(value) + '\n');

  const serveMetrics = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const started = performance.now();
    const report = (): void => {
      if (!options.onScrape) return;
      try {
        options.onScrape((performance.now() - started) / 1000, res.statusCode);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'onScrape hook failed');
      }
    };
    if (maxScrapes > 0 && inflightScrapes >= maxScrapes) {
      // Logged at most every 10 s: a scrape storm must not turn into a log storm.
      refusedSinceLog++;
      if (performance.now() - lastRefusalLog >= 10_000) {
        log.warn({ limit: maxScrapes, refused: refusedSinceLog }, 'scrapes refused: too many concurrent scrapes');
        lastRefusalLog = performance.now();
        refusedSinceLog = 0;
      }
      sendText(req, res, 503, `too many concurrent scrapes (limit ${maxScrapes}); try again`);
      report();
      return;
    }
    inflightScrapes++;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let effectiveTimeoutMs = scrapeTimeoutMs;
    try {
      const negotiated = negotiateFormat(req.headers.accept);
      let timeoutMs = scrapeTimeoutMs;
      const promTimeout = Number(req.headers['x-prometheus-scrape-timeout-seconds']) * 1000;
      if (promTimeout > 0 && (timeoutMs <= 0 || promTimeout < timeoutMs)) timeoutMs = promTimeout;
      effectiveTimeoutMs = timeoutMs;

      let page = provider.metrics(negotiated.format, abort.signal);
      if (typeof page === 'object' && page !== null && 'then' in page) {
        const pending = page;
        page = timeoutMs > 0
          ? await Promise.race([
              pending,
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => reject(new ScrapeTimeout()), timeoutMs);
              }),
            ])
          : await pending;
      }
      // A synchronous provider cannot be interrupted; a late page is still refused so the limit holds.
      if (timeoutMs > 0 && performance.now() - started > timeoutMs) throw new ScrapeTimeout();
      const compressed = acceptsGzip(req.headers['accept-encoding']);
      const body = await pageBytes(page, negotiated.format, compressed ? gzipLevel : undefined);
      res.setHeader('Vary', 'Accept, Accept-Encoding');
      if (compressed) res.setHeader('Content-Encoding', 'gzip');
      send(req, res, 200, negotiated.contentType, body);
    } catch (err) {
      if (err instanceof ScrapeTimeout) {
        abort.abort(err);
        log.warn({ timeoutMs: effectiveTimeoutMs }, 'scrape timed out');
        sendText(req, res, 503, 'scrape timed out: the page was not ready within the scrape timeout');
      } else {
        log.error({ err: (err as Error).message }, 'rendering metrics failed');
        sendText(req, res, 500, 'error rendering metrics; see the exporter log');
      }
    } finally {
      if (timer) clearTimeout(timer);
      inflightScrapes--;
      report();
    }
  };

  const routes: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>> = {
    '/health': (req, res) => {
      let h: ReturnType<ExporterView['health']>;
      try {
        h = provider.health();
      } catch (err) {
        // The message stays in the log: a provider error could carry details not meant for the network.
        log.error({ err: (err as Error).message }, 'health check failed');
        h = { ok: false, detail: { error: 'health check failed; see the exporter log' } };
      }
      sendJson(req, res, h.ok ? 200 : 503, { status: h.ok ? 'ok' : 'unhealthy', ...h.detail });
    },
    '/ready': (req, res) => {
      let r: ReturnType<ExporterView['ready']>;
      try {
        r = provider.ready();
      } catch (err) {
        log.error({ err: (err as Error).message }, 'readiness check failed');
        r = { ok: false, reason: 'readiness check failed; see the exporter log' };
      }
      const status = r.ok ? 200 : 503;
      if ((req.headers.accept ?? '').includes('application/json')) sendJson(req, res, status, { ready: r.ok, reason: r.reason, ...(r.clusters ? { clusters: r.clusters } : {}) });
      else sendText(req, res, status, r.ok ? `ready${r.reason ? `: ${r.reason}` : ''}` : `not ready: ${r.reason}`);
    },
    '/leader': (req, res) => sendJson(req, res, 200, provider.leader()),
    '/': (req, res) => {
      const page = provider.landing();
      const standard = [
        { href: telemetryPath, text: 'Metrics' },
        { href: '/health', text: 'Health' },
        { href: '/ready', text: 'Readiness' },
        { href: '/leader', text: 'Leader election' },
      ];
      const links = [...standard, ...page.links.filter((l) => !standard.some((s) => s.href === l.href))];
      send(req, res, 200, 'text/html; charset=utf-8', renderLanding({ ...page, links }));
    },
  };
  // The telemetry path wins over any fixed route it shadows (e.g. telemetryPath "/").
  routes[telemetryPath] = serveMetrics;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    // Drain any request body so keep-alive connections stay usable.
    req.resume();
    const cfg = web;
    for (const [name, value] of Object.entries(cfg.headers)) res.setHeader(name, value);
    if (closing) res.setHeader('Connection', 'close');
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);

    if (allowRequest && !allowRequest()) {
      res.setHeader('Retry-After', '1');
      sendText(req, res, 429, 'too many requests');
      return;
    }
    const currentAuth = auth;
    if (currentAuth && !(cfg.probesWithoutAuth && PROBE_PATHS.has(pathname))) {
      if (!(await currentAuth.check(req.headers.authorization))) {
        log.debug({ path: pathname, user: currentAuth.userOf(req.headers.authorization) }, 'basic auth failed');
        res.setHeader('WWW-Authenticate', 'Basic realm="slurm-exporter", charset="UTF-8"');
        sendText(req, res, 401, 'Unauthorized');
        return;
      }
    }
    const route = Object.hasOwn(routes, pathname) ? routes[pathname] : undefined;
    if (!route) {
      sendText(req, res, 404, `not found: ${pathname.length > 200 ? pathname.slice(0, 200) + '…' : pathname}`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', ALLOW);
      sendText(req, res, 405, `method ${req.method ?? ''} not allowed; use GET or HEAD`);
      return;
    }
    await route(req, res);
  };

  const serverOptions: http.ServerOptions = {
    maxHeaderSize: options.maxHeaderBytes ?? 16_384,
    // Slow clients cannot hold sockets for long; a scrape's own limit is enforced above.
    headersTimeout: 30_000,
    requestTimeout: Math.max(60_000, scrapeTimeoutMs * 2),
    keepAliveTimeout: 65_000,
  };
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    // While closing, a keep-alive socket whose response just ended is idle: close it now.
    res.on('finish', () => {
      if (closing) server.closeIdleConnections();
    });
    handle(req, res).catch((err: unknown) => {
      log.error({ err: (err as Error).message, path: req.url }, 'request failed');
      if (!res.headersSent) sendText(req, res, 500, 'internal error');
      else res.destroy();
    });
  };

  let server: http.Server;
  const tlsSettings = web.tls;
  if (tlsSettings) {
    const httpsServer = https.createServer({ ...serverOptions, ...tlsSettings.secure }, listener);
    // Client certificate policies OpenSSL cannot express (require without verify, verify if given,
    // allowed SANs) are applied once the handshake is done, before any request is read.
    httpsServer.on('secureConnection', (socket: TLSSocket) => {
      const t = web.tls;
      if (!t) return;
      const cert = socket.getPeerCertificate();
      const hasCert = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0;
      let problem: string | undefined;
      if (t.clientAuthType === 'RequireAnyClientCert' && !hasCert) problem = 'no client certificate';
      else if (t.clientAuthType === 'VerifyClientCertIfGiven' && hasCert && !socket.authorized) {
        problem = `client certificate not trusted: ${String(socket.authorizationError)}`;
      } else if (t.clientAllowedSans.length > 0) {
        const sans = hasCert ? parseSans(cert.subjectaltname) : [];
        if (!sans.some((s) => t.clientAllowedSans.includes(s))) problem = 'client certificate SAN not in client_allowed_sans';
      }
      if (problem) {
        log.warn({ remote: socket.remoteAddress, problem }, 'TLS client refused');
        socket.destroy();
      }
    });
    httpsServer.on('tlsClientError', (err, socket) => {
      log.debug({ err: err.message, remote: socket.remoteAddress }, 'TLS handshake failed');
    });
    server = httpsServer;
  } else {
    server = http.createServer(serverOptions, listener);
  }
  // No clientError listener: node's own answers (400, 408, 431 for oversized headers) are right.

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new Error(`cannot listen on ${options.listenAddress}: ${err.code ?? err.message}`));
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err: err.message }, 'HTTP server error'));
  log.info({ address: options.listenAddress, tls: Boolean(tlsSettings), telemetryPath }, 'HTTP server listening');

  let closed: Promise<void> | undefined;
  return {
    server,
    tls: Boolean(tlsSettings),
    address() {
      const a = server.address() as AddressInfo | null;
      if (!a) throw new Error('HTTP server is not listening');
      return { host: a.address, port: a.port };
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        const force = setTimeout(() => server.closeAllConnections(), options.shutdownTimeoutMs ?? 10_000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closed;
    },
    async reloadWebConfig() {
      if (!options.webConfigFile) return;
      const next = await loadWebConfig(options.webConfigFile);
      if (Boolean(next.tls) !== Boolean(web.tls)) {
        throw new Error(`web config ${options.webConfigFile}: switching TLS on or off needs a restart; old config kept`);
      }
      if (next.tls && web.tls && next.tls.clientAuthType !== web.tls.clientAuthType) {
        throw new Error(`web config ${options.webConfigFile}: tls_server_config.client_auth_type: changing it needs a restart; old config kept`);
      }
      if (next.tls) (server as https.Server).setSecureContext(next.tls.secure);
      web = next;
      auth = next.basicAuthUsers.size > 0 ? createBasicAuth(next.basicAuthUsers) : undefined;
      allowRequest = tokenBucket(next.rateLimit);
      log.info({ file: options.webConfigFile }, 'web config reloaded');
    },
  };
}

/**
 * The page as buffers: prepared pieces as cached (raw, or their cached gzip member), strings encoded (and
 * gzipped) per scrape — those are the small, per-scrape parts. OpenMetrics gets its `# EOF`.
 */
async function pageBytes(page: MetricsPage, format: ExpositionFormat, gzipLevel: number | undefined): Promise<Buffer[]> {
  const items: (string | PreparedPiece)[] = typeof page === 'string' ? [page] : [...page];
  if (format === 'openmetrics') {
    const last = items.at(-1);
    if (!(typeof last === 'string' && last.endsWith('# EOF\n'))) items.push('# EOF\n');
  }
  const out: Buffer[] = [];
  for (const item of items) {
    if (item instanceof PreparedPiece) {
      if (item.raw.length > 0) out.push(gzipLevel === undefined ? item.raw : await item.gzipped(gzipLevel));
    } else if (item !== '') {
      const raw = Buffer.from(item, 'utf8');
      out.push(gzipLevel === undefined ? raw : await gzip(raw, { level: gzipLevel }));
    }
  }
  // An empty gzip body is not a valid gzip stream: send one empty member.
  if (out.length === 0 && gzipLevel !== undefined) out.push(await gzip(Buffer.alloc(0), { level: gzipLevel }));
  return out;
}
