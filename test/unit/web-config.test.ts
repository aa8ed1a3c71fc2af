import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { loadWebConfig, parseGoDuration, parseWebConfig } from '../../src/http/web-config.ts';
import { createBasicAuth } from '../../src/http/basic-auth.ts';

let dir = '';

// A CA plus a server certificate signed by it, made with the real openssl binary.
function makePki(d: string): void {
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: d, stdio: 'pipe' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-ca');
  writeFileSync(path.join(d, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'server.ext');
  // A key that belongs to no certificate here.
  ssl('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.crt', '-days', '1', '-subj', '/CN=other');
}

function write(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function expectError(yamlText: string, message: string | RegExp): Promise<Error> {
  const file = write('bad.yml', yamlText);
  let caught: unknown;
  try {
    await loadWebConfig(file);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof Error, `expected an error for:\n${yamlText}`);
  if (typeof message === 'string') assert.equal(caught.message, `web config ${file}: ${message}`);
  else assert.match(caught.message, message);
  return caught;
}

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'webcfg-'));
  makePki(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

void describe('web config parsing', () => {
  void it('an empty file means plain HTTP, no auth', async () => {
    const cfg = await loadWebConfig(write('empty.yml', ''));
    assert.equal(cfg.tls, undefined);
    assert.equal(cfg.basicAuthUsers.size, 0);
    assert.deepEqual(cfg.headers, {});
    assert.equal(cfg.probesWithoutAuth, false);
    assert.equal(cfg.rateLimit, undefined);
  });

  void it('reads a full exporter-toolkit file, with paths relative to the file', async () => {
    const hash = bcrypt.hashSync('secret', 4);
    const cfg = await loadWebConfig(write('full.yml', `
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  client_allowed_sans: [scraper.example]
  min_version: TLS13
  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]
  curve_preferences: [X25519, CurveP256]
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
    x-content-type-options: nosniff
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  prometheus: ${hash}
rate_limit:
  interval: 500ms
  burst: 20
probes_without_auth: true
`));
    assert.ok(cfg.tls);
    assert.equal(cfg.tls.clientAuthType, 'RequireAndVerifyClientCert');
    assert.deepEqual(cfg.tls.clientAllowedSans, ['scraper.example']);
    assert.match(String(cfg.tls.secure.cert), /BEGIN CERTIFICATE/);
    assert.match(String(cfg.tls.secure.key), /BEGIN PRIVATE KEY/);
    assert.match(String(cfg.tls.secure.ca), /BEGIN CERTIFICATE/);
    assert.equal(cfg.tls.secure.minVersion, 'TLSv1.3');
    assert.equal(cfg.tls.secure.maxVersion, 'TLSv1.3');
    assert.equal(cfg.tls.secure.requestCert, true);
    assert.equal(cfg.tls.secure.rejectUnauthorized, true);
    assert.match(String(cfg.tls.secure.ciphers), /ECDHE-ECDSA-AES128-GCM-SHA256/);
    assert.equal(cfg.tls.secure.ecdhCurve, 'X25519:P-256');
    assert.deepEqual(cfg.headers, {
      'X-Frame-Options': 'deny',
      'X-Content-Type-Options': 'nosniff',
      'Strict-Transport-Security': 'max-age=31536000',
    });
    assert.equal(cfg.basicAuthUsers.get('prometheus'), hash);
    assert.deepEqual(cfg.rateLimit, { intervalMs: 500, burst: 20 });
    assert.equal(cfg.probesWithoutAuth, true);
  });

  void it('accepts inline PEM instead of files', async () => {
    const { readFileSync } = await import('node:fs');
    const cert = readFileSync(path.join(dir, 'server.crt'), 'utf8');
    const key = readFileSync(path.join(dir, 'server.key'), 'utf8');
    const indent = (s: string): string => s.trim().split('\n').map((l) => '    ' + l).join('\n');
    const cfg = await parseWebConfig(`tls_server_config:\n  cert: |\n${indent(cert)}\n  key: |\n${indent(key)}\n`, path.join(dir, 'inline.yml'));
    assert.ok(cfg.tls);
    assert.equal(cfg.tls.clientAuthType, 'NoClientCert');
    assert.equal(cfg.tls.secure.requestCert, false);
  });

  void it('names the key and the problem', async () => {
    await expectError('tls_server_config:\n  key_file: server.key\n', 'tls_server_config.cert_file: missing');
    await expectError('tls_server_config:\n  cert_file: server.crt\n', 'tls_server_config.key_file: missing');
    await expectError('tls_config:\n  cert_file: a\n', /: tls_config: unknown key \(allowed: tls_server_config, /);
    await expectError('tls_server_config:\n  certfile: a\n', /tls_server_config\.certfile: unknown key/);
    await expectError(
      'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: Sometimes\n',
      /tls_server_config\.client_auth_type: invalid value "Sometimes" \(allowed: NoClientCert, /,
    );
    await expectError(
      'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n',
      'tls_server_config.client_ca_file: missing (client_auth_type RequireAndVerifyClientCert verifies client certificates against it)',
    );
    await expectError(
      'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n',
      'tls_server_config.client_ca_file: set without a client_auth_type that asks for client certificates',
    );
    await expectError(
      'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_allowed_sans: [a]\n',
      'tls_server_config.client_allowed_sans: needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert',
    );
    await expectError('tls_server_config:\n  cert_file: nope.crt\n  key_file: server.key\n', `tls_server_config.cert_file: cannot read ${path.join(dir, 'nope.crt')}: ENOENT`);
    await expectError('tls_server_config:\n  cert_file: server.crt\n  key_file: other.key\n', /tls_server_config: certificate, key or CA do not load: /);
    await expectError('tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS14\n', /tls_server_config\.min_version: invalid value "TLS14"/);
    await expectError(
      'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS13\n  max_version: TLS12\n',
      'tls_server_config.min_version: greater than max_version',
    );
    await expectError(
      'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites: [TLS_FOO]\n',
      'tls_server_config.cipher_suites: unknown or unsupported cipher suite "TLS_FOO"',
    );
    await expectError('http_server_config:\n  headers:\n    Server: x\n', /http_server_config\.headers\.Server: header cannot be configured/);
    await expectError('http_server_config:\n  headers:\n    X-Frame-Options: allow\n', 'http_server_config.headers.X-Frame-Options: only "deny" or "sameorigin" is allowed');
    await expectError('rate_limit:\n  interval: soon\n', 'rate_limit.interval: must be a duration such as "1s" or "250ms"');
    await expectError('probes_without_auth: "yes"\n', 'probes_without_auth: must be true or false');
    await expectError('basic_auth_users: [a]\n', 'basic_auth_users: must be a mapping');
    await expectError('- a\n', '(top level): must be a mapping');
    await expectError('a: [\n', /invalid YAML/);
  });

  void it('never echoes a clear-text password given instead of a hash', async () => {
    const err = await expectError('basic_auth_users:\n  alice: hunter2-clear\n', /basic_auth_users\.alice: not a bcrypt hash/);
    assert.ok(!err.message.includes('hunter2'));
  });

  void it('treats a tls_server_config without certificate settings as plain HTTP, like the toolkit', async () => {
    const cfg = await parseWebConfig('tls_server_config:\n  min_version: TLS12\n', path.join(dir, 'x.yml'));
    assert.equal(cfg.tls, undefined);
  });

  void it('an interval of 0 disables the rate limit', async () => {
    const cfg = await parseWebConfig('rate_limit:\n  interval: 0s\n  burst: 5\n', path.join(dir, 'x.yml'));
    assert.equal(cfg.rateLimit, undefined);
  });

  void it('reports an unreadable file', async () => {
    await assert.rejects(loadWebConfig(path.join(dir, 'absent.yml')), { message: `web config ${path.join(dir, 'absent.yml')}: cannot read: ENOENT` });
  });
});

void describe('Go durations', () => {
  void it('parses what time.ParseDuration accepts', () => {
    assert.equal(parseGoDuration('1s'), 1000);
    assert.equal(parseGoDuration('250ms'), 250);
    assert.equal(parseGoDuration('1m30s'), 90_000);
    assert.equal(parseGoDuration('1.5h'), 5_400_000);
    assert.equal(parseGoDuration('0'), 0);
    assert.equal(parseGoDuration(''), undefined);
    assert.equal(parseGoDuration('5'), undefined);
    assert.equal(parseGoDuration('1x'), undefined);
  });
});

void describe('basic auth', () => {
  const basic = (user: string, pass: string): string => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');

  void it('accepts the right password for a $2y$/$2b$ hash and refuses others', async () => {
    const hash = bcrypt.hashSync('s3cret:with:colons', 4);
    const auth = createBasicAuth(new Map([
      ['alice', hash],
      ['bob', hash.replace(/^\$2b\$/, '$2y$')], // htpasswd writes $2y$
    ]));
    assert.equal(await auth.check(basic('alice', 's3cret:with:colons')), true);
    assert.equal(await auth.check(basic('bob', 's3cret:with:colons')), true);
    assert.equal(await auth.check(basic('alice', 'wrong')), false);
    assert.equal(await auth.check(basic('mallory', 's3cret:with:colons')), false);
    assert.equal(await auth.check(undefined), false);
    assert.equal(await auth.check('Bearer abc'), false);
    assert.equal(await auth.check('Basic !!!'), false);
    assert.equal(await auth.check('Basic ' + Buffer.from('nocolon').toString('base64')), false);
    assert.equal(auth.userOf(basic('alice', 'x')), 'alice');
  });

  void it('runs bcrypt once per distinct credentials, also for concurrent checks', async () => {
    const hash = bcrypt.hashSync('pw', 4);
    const calls: string[] = [];
    const auth = createBasicAuth(new Map([['alice', hash]]), {
      compare: async (password, h) => {
        calls.push(h);
        return bcrypt.compare(password, h);
      },
    });
    const results = await Promise.all([1, 2, 3].map(() => auth.check(basic('alice', 'pw'))));
    assert.deepEqual(results, [true, true, true]);
    assert.equal(await auth.check(basic('alice', 'pw')), true);
    assert.equal(calls.length, 1);
    assert.equal(await auth.check(basic('alice', 'other')), false);
    assert.equal(await auth.check(basic('alice', 'other')), false);
    assert.equal(calls.length, 2);
    // Unknown users still pay one bcrypt (against a dummy hash), so timing does not reveal them.
    assert.equal(await auth.check(basic('nobody', 'pw')), false);
    assert.equal(calls.length, 3);
    assert.notEqual(calls[2], hash);
  });
});
