// `--web.config.file`: the YAML format of Prometheus' exporter-toolkit (docs/web-configuration.md), so
// sites reuse the file they already have for node_exporter. Differences from the toolkit:
// - the file is read at start and on reload (see HttpServerHandle.reloadWebConfig), not on every request;
// - `http_server_config.http2` is accepted and ignored: the server speaks HTTP/1.1;
// - our own top-level key `probes_without_auth` (default false) leaves /health and /ready without basic
//   auth so Kubernetes probes need no credentials.
// Relative file names are resolved against the config file's directory, as the toolkit does.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { parse as parseYaml } from 'yaml';

export type ClientAuthType =
  | 'NoClientCert'
  | 'RequestClientCert'
  | 'RequireAnyClientCert'
  | 'VerifyClientCertIfGiven'
  | 'RequireAndVerifyClientCert';

const CLIENT_AUTH_TYPES: readonly string[] = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
];

export interface TlsSettings {
  /** Options for https.createServer / setSecureContext (cert, key, ca, versions, ciphers). */
  secure: tls.TlsOptions;
  clientAuthType: ClientAuthType;
  /** Client certificate SANs allowed (exact match); empty = any. */
  clientAllowedSans: string[];
}

export interface WebConfig {
  /** The file it came from, for messages. */
  file: string;
  /** undefined: plain HTTP. */
  tls: TlsSettings | undefined;
  /** user → bcrypt hash; empty = no basic auth. */
  basicAuthUsers: Map<string, string>;
  /** Extra response headers from http_server_config.headers. */
  headers: Record<string, string>;
  probesWithoutAuth: boolean;
  /** Token bucket: one token per intervalMs, at most burst; undefined = no limit. */
  rateLimit: { intervalMs: number; burst: number } | undefined;
}

export const EMPTY_WEB_CONFIG: WebConfig = {
  file: '',
  tls: undefined,
  basicAuthUsers: new Map(),
  headers: {},
  probesWithoutAuth: false,
  rateLimit: undefined,
};

const TLS_VERSIONS: Record<string, tls.SecureVersion> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

// Go's secure and insecure suite names (crypto/tls) → OpenSSL names. TLS 1.3 suites are not configurable
// in Go; they are accepted and ignored here too.
const CIPHER_SUITES: Record<string, string> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

const CURVES: Record<string, string> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' };

// The toolkit allows exactly these headers; values of two of them are checked.
const ALLOWED_HEADERS = [
  'Content-Security-Policy',
  'X-Frame-Options',
  'X-Content-Type-Options',
  'X-XSS-Protection',
  'Strict-Transport-Security',
];

const BCRYPT_RE = /^\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}$/;

export class WebConfigError extends Error {
  override name = 'WebConfigError';
}

type Obj = Record<string, unknown>;

/** Read and validate a web config file. Errors are WebConfigError naming the file and the key. */
export async function loadWebConfig(file: string): Promise<WebConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new WebConfigError(`web config ${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseWebConfig(text, file);
}

/** Validate web config text; `file` names it in errors and anchors relative paths. */
export async function parseWebConfig(text: string, file: string): Promise<WebConfig> {
  const fail = (key: string, problem: string): never => {
    throw new WebConfigError(`web config ${file}: ${key}: ${problem}`);
  };
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    // yaml's messages quote the offending line; that line may hold a hash, never a clear password.
    throw new WebConfigError(`web config ${file}: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) doc = {};
  const root = asObject(doc, '(top level)', fail);
  checkKeys(root, '', ['tls_server_config', 'http_server_config', 'basic_auth_users', 'rate_limit', 'probes_without_auth'], fail);

  const dir = path.dirname(path.resolve(file));
  const cfg: WebConfig = {
    file,
    tls: await parseTls(root['tls_server_config'], dir, fail),
    basicAuthUsers: parseUsers(root['basic_auth_users'], fail),
    headers: parseHeaders(root['http_server_config'], fail),
    probesWithoutAuth: optBool(root['probes_without_auth'], 'probes_without_auth', fail) ?? false,
    rateLimit: parseRateLimit(root['rate_limit'], fail),
  };
  return cfg;
}

type Fail = (key: string, problem: string) => never;

function asObject(v: unknown, key: string, fail: Fail): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(key, 'must be a mapping');
  return v as Obj;
}

function checkKeys(o: Obj, prefix: string, allowed: readonly string[], fail: Fail): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail(prefix + k, `unknown key (allowed: ${allowed.join(', ')})`);
  }
}

function optString(v: unknown, key: string, fail: Fail): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') fail(key, 'must be a string');
  return v as string;
}

function optBool(v: unknown, key: string, fail: Fail): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') fail(key, 'must be true or false');
  return v as boolean;
}

function optStringList(v: unknown, key: string, fail: Fail): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(key, 'must be a list of strings');
  return v as string[];
}

async function readPem(dir: string, file: string, key: string, fail: Fail): Promise<string> {
  const abs = path.resolve(dir, file);
  try {
    return await readFile(abs, 'utf8');
  } catch (err) {
    return fail(key, `cannot read ${abs}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

async function parseTls(raw: unknown, dir: string, fail: Fail): Promise<TlsSettings | undefined> {
  if (raw === undefined || raw === null) return undefined;
  const p = 'tls_server_config.';
  const o = asObject(raw, 'tls_server_config', fail);
  checkKeys(o, p, [
    'cert', 'key', 'client_ca', 'cert_file', 'key_file', 'client_auth_type', 'client_ca_file',
    'client_allowed_sans', 'min_version', 'max_version', 'cipher_suites', 'prefer_server_cipher_suites',
    'curve_preferences',
  ], fail);
  const s = (k: string): string | undefined => optString(o[k], p + k, fail);
  const cert = s('cert');
  const certFile = s('cert_file');
  const key = s('key');
  const keyFile = s('key_file');
  const clientCa = s('client_ca');
  const clientCaFile = s('client_ca_file');
  const authRaw = s('client_auth_type');
  // Like the toolkit: a tls_server_config that names no certificate, key, CA or policy means plain HTTP.
  if (![cert, certFile, key, keyFile, clientCa, clientCaFile, authRaw].some((x) => x !== undefined)) return undefined;

  if (cert !== undefined && certFile !== undefined) fail(p + 'cert', 'set together with cert_file; use one');
  if (key !== undefined && keyFile !== undefined) fail(p + 'key', 'set together with key_file; use one');
  if (clientCa !== undefined && clientCaFile !== undefined) fail(p + 'client_ca', 'set together with client_ca_file; use one');
  if (cert === undefined && certFile === undefined) fail(p + 'cert_file', 'missing');
  if (key === undefined && keyFile === undefined) fail(p + 'key_file', 'missing');

  const clientAuthType = (authRaw ?? 'NoClientCert') as ClientAuthType;
  if (authRaw === 'RequireClientCert') {
    // The toolkit keeps this old spelling for RequireAnyClientCert.
    return parseTls({ ...o, client_auth_type: 'RequireAnyClientCert' }, dir, fail);
  }
  if (!CLIENT_AUTH_TYPES.includes(clientAuthType)) {
    fail(p + 'client_auth_type', `invalid value ${JSON.stringify(authRaw)} (allowed: ${CLIENT_AUTH_TYPES.join(', ')})`);
  }
  const hasCa = clientCa !== undefined || clientCaFile !== undefined;
  if (hasCa && clientAuthType === 'NoClientCert') {
    fail(p + 'client_ca_file', 'set without a client_auth_type that asks for client certificates');
  }
  const verifies = clientAuthType === 'VerifyClientCertIfGiven' || clientAuthType === 'RequireAndVerifyClientCert';
  if (verifies && !hasCa) fail(p + 'client_ca_file', `missing (client_auth_type ${clientAuthType} verifies client certificates against it)`);
  const clientAllowedSans = optStringList(o['client_allowed_sans'], p + 'client_allowed_sans', fail);
  if (clientAllowedSans.length > 0 && clientAuthType !== 'RequireAnyClientCert' && clientAuthType !== 'RequireAndVerifyClientCert') {
    fail(p + 'client_allowed_sans', 'needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert');
  }

  const version = (k: string, def: string): tls.SecureVersion => {
    const v = s(k) ?? def;
    const mapped = TLS_VERSIONS[v];
    if (!mapped) return fail(p + k, `invalid value ${JSON.stringify(v)} (allowed: ${Object.keys(TLS_VERSIONS).join(', ')})`);
    return mapped;
  };
  const minVersion = version('min_version', 'TLS12');
  const maxVersion = version('max_version', 'TLS13');
  const order = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
  if (order.indexOf(minVersion) > order.indexOf(maxVersion)) fail(p + 'min_version', 'greater than max_version');

  const secure: tls.TlsOptions = {
    cert: cert ?? (await readPem(dir, certFile as string, p + 'cert_file', fail)),
    key: key ?? (await readPem(dir, keyFile as string, p + 'key_file', fail)),
    minVersion,
    maxVersion,
    honorCipherOrder: optBool(o['prefer_server_cipher_suites'], p + 'prefer_server_cipher_suites', fail) ?? true,
    requestCert: clientAuthType !== 'NoClientCert',
    // Only RequireAndVerify can be left to OpenSSL; the other policies are checked after the handshake.
    rejectUnauthorized: clientAuthType === 'RequireAndVerifyClientCert',
  };
  if (hasCa) secure.ca = clientCa ?? (await readPem(dir, clientCaFile as string, p + 'client_ca_file', fail));

  const suites = optStringList(o['cipher_suites'], p + 'cipher_suites', fail);
  if (suites.length > 0) {
    const names: string[] = [];
    for (const name of suites) {
      if (TLS13_SUITES.includes(name)) continue;
      const openssl = CIPHER_SUITES[name];
      if (!openssl) fail(p + 'cipher_suites', `unknown or unsupported cipher suite ${JSON.stringify(name)}`);
      names.push(openssl as string);
    }
    // Keep TLS 1.3 working: Node takes 1.3 suites from the same list and Go never restricts them.
    secure.ciphers = [...TLS13_SUITES, ...names].join(':');
  }
  const curves = optStringList(o['curve_preferences'], p + 'curve_preferences', fail);
  if (curves.length > 0) {
    secure.ecdhCurve = curves
      .map((c) => CURVES[c] ?? fail(p + 'curve_preferences', `unknown curve ${JSON.stringify(c)} (allowed: ${Object.keys(CURVES).join(', ')})`))
      .join(':');
  }

  try {
    // Fails early on a key that does not match the certificate, bad PEM, or an unusable cipher list.
    tls.createSecureContext(secure);
  } catch (err) {
    fail('tls_server_config', `certificate, key or CA do not load: ${(err as Error).message}`);
  }
  return { secure, clientAuthType, clientAllowedSans };
}

function parseUsers(raw: unknown, fail: Fail): Map<string, string> {
  const users = new Map<string, string>();
  if (raw === undefined || raw === null) return users;
  const o = asObject(raw, 'basic_auth_users', fail);
  for (const [user, hash] of Object.entries(o)) {
    const key = `basic_auth_users.${user}`;
    if (user === '' || user.includes(':')) fail(key, 'user names must be non-empty and contain no ":"');
    // Never echo the value: a mistaken clear-text password would land in the log.
    if (typeof hash !== 'string' || !BCRYPT_RE.test(hash)) fail(key, 'not a bcrypt hash (generate one with `htpasswd -nBC 10 "" | tr -d \':\\n\'`)');
    users.set(user, hash as string);
  }
  return users;
}

function parseHeaders(raw: unknown, fail: Fail): Record<string, string> {
  const headers: Record<string, string> = {};
  if (raw === undefined || raw === null) return headers;
  const o = asObject(raw, 'http_server_config', fail);
  checkKeys(o, 'http_server_config.', ['http2', 'headers'], fail);
  optBool(o['http2'], 'http_server_config.http2', fail);
  if (o['headers'] === undefined || o['headers'] === null) return headers;
  const h = asObject(o['headers'], 'http_server_config.headers', fail);
  for (const [name, value] of Object.entries(h)) {
    const key = `http_server_config.headers.${name}`;
    const canonical = ALLOWED_HEADERS.find((a) => a.toLowerCase() === name.toLowerCase());
    if (!canonical) fail(key, `header cannot be configured (allowed: ${ALLOWED_HEADERS.join(', ')})`);
    const v = optString(value, key, fail);
    if (v === undefined) continue; // blank: unset, as in the toolkit
    if (/[\r\n]/.test(v)) fail(key, 'value must be on one line');
    if (canonical === 'X-Content-Type-Options' && v.toLowerCase() !== 'nosniff') fail(key, 'only "nosniff" is allowed');
    if (canonical === 'X-Frame-Options' && !['deny', 'sameorigin'].includes(v.toLowerCase())) fail(key, 'only "deny" or "sameorigin" is allowed');
    headers[canonical as string] = v;
  }
  return headers;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go time.Duration text ("1s", "1m30s", "250ms", "0") → milliseconds, or undefined if malformed. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let ms = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    ms += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    pos = re.lastIndex;
  }
  return pos > 0 ? ms : undefined;
}

function parseRateLimit(raw: unknown, fail: Fail): WebConfig['rateLimit'] {
  if (raw === undefined || raw === null) return undefined;
  const o = asObject(raw, 'rate_limit', fail);
  checkKeys(o, 'rate_limit.', ['interval', 'burst'], fail);
  const iv = o['interval'];
  const intervalMs = typeof iv === 'number' && iv === 0 ? 0 : typeof iv === 'string' ? parseGoDuration(iv) : undefined;
  if (iv !== undefined && intervalMs === undefined) fail('rate_limit.interval', 'must be a duration such as "1s" or "250ms"');
  const burst = o['burst'];
  if (burst !== undefined && (typeof burst !== 'number' || !Number.isInteger(burst) || burst < 0)) {
    fail('rate_limit.burst', 'must be a non-negative integer');
  }
  // interval 0 disables the limiter, as in the toolkit.
  if (!intervalMs) return undefined;
  return { intervalMs, burst: Math.max(1, (burst as number | undefined) ?? 1) };
}
