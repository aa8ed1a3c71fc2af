// `slurm-exporter doctor` as an operator runs it (bin/slurm-exporter): against the real Slurm 22.05 lab, with
// wrong, expired and short-lived tokens, a bad config file, nothing listening, every fault of the simulator's
// fault matrix, a skewed server clock, TLS, a unix socket, and a running exporter (the post-deployment checks).
// Each case asserts the exit code (0 all well, 1 warnings, 2 failures), the finding that says what happened and
// the line that says what to fix; every output of every run is checked for the secrets in play.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SlurmSimulator, type FaultSpec } from '../../src/simulator/server.ts';
import { mintSlurmJwt } from '../../src/slurm/rest/jwt.ts';
import { COLLECTOR_GROUPS } from '../../src/slurm/resources.ts';
import { BIN, httpGet, spawnExporter, waitFor } from '../support/exporter-process.ts';
import { fakeJwt } from '../support/fake-jwt.ts';
import { readLabEnv } from '../support/slurm-lab.ts';

interface Finding {
  section: string;
  check: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  message: string;
  fix?: string;
}

interface JsonReport {
  exitCode: number;
  durationMs: number;
  findings: Finding[];
  collectors: { collector: string; group: string; state: string; series: number }[];
  series: number;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: JsonReport;
}

const lab = readLabEnv();
const LAB_KEY = readFileSync(lab.SLURM_JWT_KEY);
const SIM_KEY = Buffer.from('doctor-test-hs256-key-0123456789abcdef-XYZ');
const dir = mkdtempSync(path.join(tmpdir(), 'doctor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every secret in play, and the forms it could leak in. */
const SECRETS = new Set<string>([lab.SLURM_JWT, lab.SLURM_JWT.split('.')[2]!, LAB_KEY.toString().trim(), LAB_KEY.toString('base64'), SIM_KEY.toString(), SIM_KEY.toString('base64')]);

function assertNoSecret(what: string, text: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${what} contains a secret (${s.slice(0, 6)}…)`);
}

function file(name: string, text: string | Buffer, mode = 0o600): string {
  const p = path.join(dir, name);
  writeFileSync(p, text, { mode });
  return p;
}

/** A port nothing listens on (for the running-exporter check, unless a test starts one). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Runs `bin/slurm-exporter doctor <args>` twice, as text and as JSON, with only the given Slurm variables. */
async function doctor(args: string[], env: Record<string, string> = {}): Promise<Run & { text: string }> {
  const listen = args.some((a) => a.startsWith('--web.listen-address')) ? [] : ['--web.listen-address', `127.0.0.1:${await freePort()}`];
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(base)) if (k.startsWith('SLURM_')) delete base[k];
  const once = (extra: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      // Not spawnSync: the simulator answering the doctor runs in this process.
      const p = spawn(BIN, ['doctor', ...args, ...listen, ...extra], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const text = await once([]);
  const json = await once(['--output', 'json']);
  for (const r of [text, json]) {
    assertNoSecret('stdout', r.stdout);
    assertNoSecret('stderr', r.stderr);
  }
  assert.equal(json.code, text.code, 'the same exit code in both formats');
  return { ...json, json: JSON.parse(json.stdout) as JsonReport, text: text.stdout };
}

/** An HTTP(S) relay in front of the simulator, optionally with its own Date header. */
async function proxyTo(target: string, opts: { date?: () => string; tls?: { key: Buffer; cert: Buffer } }): Promise<{ url: string; stop(): Promise<void> }> {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const up = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (u) => {
      res.writeHead(u.statusCode ?? 502, { ...u.headers, ...(opts.date ? { date: opts.date() } : {}) });
      u.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  const server = opts.tls ? https.createServer(opts.tls, handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A CA and a certificate it signed for localhost and 127.0.0.1, valid one day (openssl). */
function makePki(): { ca: string; key: string; cert: string } {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=doctor-test-ca');
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'server.ext');
  return { ca: path.join(dir, 'ca.crt'), key: path.join(dir, 'server.key'), cert: path.join(dir, 'server.crt') };
}

function find(r: Run, check: string, status?: Finding['status']): Finding {
  const f = r.json.findings.find((x) => x.check === check && (status === undefined || x.status === status));
  assert.ok(f, `a ${status ?? ''} finding "${check}" in:\n${r.json.findings.map((x) => `${x.status} ${x.check}: ${x.message}`).join('\n')}`);
  return f;
}

function statuses(r: Run, status: Finding['status']): string[] {
  return r.json.findings.filter((f) => f.status === status).map((f) => f.check);
}

function collectorStates(r: Run): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of r.json.collectors) (out[c.state] ??= []).push(c.collector);
  return out;
}

/** Every problem has its one line in the text report's "To fix:" list. */
function assertFixListed(r: Run & { text: string }): void {
  const todo = r.text.slice(r.text.indexOf('To fix:'));
  for (const f of r.json.findings.filter((x) => x.status === 'warn' || x.status === 'fail')) {
    assert.ok(f.fix && f.fix.length > 10, `${f.check} has a fix line`);
    assert.ok(todo.includes(`${f.check}: ${f.fix}`), `"To fix" lists ${f.check}`);
  }
}

const SUPPORTED_22_05 = ['cluster', 'nodes', 'partitions', 'jobs', 'users', 'gpus', 'queue_wait', 'finished', 'scheduler', 'reservations', 'licenses', 'slurmdbd'];

describe('doctor against the real Slurm 22.05 lab', () => {
  const labEnv = { SLURM_REST_URL: lab.SLURM_REST_URL, SLURM_JWT: lab.SLURM_JWT, SLURM_USER: lab.SLURM_USER };

  it('reports fairshare and slurmdbd_ping unsupported, every other collector with its series, exit 1', async (t) => {
    const r = await doctor([], labEnv);
    assert.equal(r.code, 1, r.text);
    assert.match(find(r, 'version', 'ok').message, /^v0\.0\.38 \(negotiated/);
    assert.deepEqual(collectorStates(r), { supported: SUPPORTED_22_05, disabled: ['job', 'native'], unsupported: ['fairshare', 'slurmdbd_ping'] });
    assert.match(find(r, 'fairshare', 'warn').message, /^unsupported on this cluster: slurmrestd API v0\.0\.38 does not serve shares/);
    assert.match(find(r, 'fairshare').fix!, /\/slurm\/v0\.0\.39\/shares comes with API v0\.0\.39.*--no-collector\.fairshare/);
    assert.match(find(r, 'slurmdbd_ping', 'warn').message, /does not serve dbping/);
    assert.equal(find(r, 'shares').status, 'skip');
    assert.equal(statuses(r, 'fail').length, 0);
    // The lab's tokens live 24 h, so the expiry warning is the only other one.
    assert.deepEqual(statuses(r, 'warn').filter((c) => c !== 'token'), ['fairshare', 'slurmdbd_ping']);
    assert.equal(find(r, 'auth').status, 'ok');
    assert.match(find(r, 'clock', 'ok').message, /req_time in \/diag/, 'slurmrestd 22.05 sends no Date header: slurmctld\'s clock is used');
    assert.match(find(r, 'ping', 'ok').message, /^Slurm 22\.05\.\d+/);
    for (const c of r.json.collectors.filter((x) => x.state === 'supported')) assert.ok(c.series > 0, `${c.collector}: ${c.series} series`);
    assert.ok(r.json.series > 0);
    assert.equal(r.json.series, r.json.collectors.reduce((n, c) => n + c.series, 0));
    assert.match(find(r, 'total').message, new RegExp(`^${r.json.series} series from ${SUPPORTED_22_05.length} collector`));
    assert.match(r.text, /^ {2}WARN {2}fairshare {5}unsupported on this cluster/m);
    assert.match(r.text, /^Result: 0 failures, \d warnings? \(exit 1\)/m);
    assertFixListed(r);
    t.diagnostic(`doctor against the lab: ${r.json.durationMs} ms, ${r.json.series} series`);
  });

  it('with the HS256 key file: tokens signed and accepted; only the unsupported collectors warn', async () => {
    const r = await doctor(['--slurm.jwt-key-file', lab.SLURM_JWT_KEY, '--slurm.user', lab.SLURM_USER], { SLURM_REST_URL: lab.SLURM_REST_URL });
    assert.equal(r.code, 1, r.text);
    assert.match(find(r, 'token', 'ok').message, /JWT signed with .* for user root: each valid 60 min, renewed/);
    assert.deepEqual(statuses(r, 'warn').filter((c) => c !== 'file-mode'), ['fairshare', 'slurmdbd_ping']);
  });

  it('a wrong token: exit 2, the token is refused, and how to make one', async () => {
    const [h, p] = lab.SLURM_JWT.split('.');
    const wrong = `${h}.${p}.${'A'.repeat(43)}`;
    SECRETS.add(wrong);
    const r = await doctor([], { ...labEnv, SLURM_JWT: wrong });
    assert.equal(r.code, 2, r.text);
    const auth = find(r, 'auth', 'fail');
    assert.match(auth.message, /^slurmrestd refused the credentials \(HTTP 500 for \/slurm\/v0\.0\.38\/ping, JWT from slurm\.token \(SLURM_JWT or the configuration file\)\)/);
    assert.match(auth.fix!, /scontrol token username=<user>.*AuthAltTypes=auth\/jwt/);
    assert.match(find(r, 'others', 'skip').message, /^not fetched \(the credentials were refused\): nodes, jobs/);
    assert.equal(find(r, 'all').status, 'skip', 'no collector rendered');
    assertFixListed(r);
  });

  it('an expired token minted with the cluster key: exit 2, expired and refused', async () => {
    const expired = mintSlurmJwt('root', LAB_KEY, 3600, Math.floor(Date.now() / 1000) - 7200);
    SECRETS.add(expired);
    const r = await doctor([], { ...labEnv, SLURM_JWT: expired });
    assert.equal(r.code, 2, r.text);
    assert.match(find(r, 'token', 'fail').message, /^JWT from slurm\.token \(SLURM_JWT or the configuration file\): the token expired at \S+ \(60 min ago\)/);
    assert.match(find(r, 'token').fix!, /fresh token.*--slurm\.jwt-key-file/);
    assert.match(find(r, 'auth', 'fail').message, /refused the credentials/);
  });

  it('a token from a file that expires within 24 h: a warning with when and what to do', async () => {
    const short = mintSlurmJwt('root', LAB_KEY, 2 * 3600);
    SECRETS.add(short);
    const tokenFile = file('short.token', `${short}\n`);
    const r = await doctor(['--slurm.token-file', tokenFile], { SLURM_REST_URL: lab.SLURM_REST_URL });
    assert.equal(r.code, 1, r.text);
    const tok = find(r, 'token', 'warn');
    assert.match(tok.message, new RegExp(`^JWT from ${tokenFile}: the token expires at \\S+ \\(in (119|120) min\\)`));
    assert.match(tok.fix!, new RegExp(`rewrites ${tokenFile} with a fresh token`));
    assert.match(find(r, 'user', 'ok').message, /user root \(the token's sun claim\)/);
    assert.equal(find(r, 'auth').status, 'ok');
  });

  it('a token file that is not there: exit 2, and where to put the token', async () => {
    const missing = path.join(dir, 'no-such.token');
    const r = await doctor(['--slurm.token-file', missing], { SLURM_REST_URL: lab.SLURM_REST_URL });
    assert.equal(r.code, 2, r.text);
    const tok = find(r, 'token', 'fail');
    assert.equal(tok.message, `token file ${missing}: no such file`);
    assert.match(tok.fix!, new RegExp(`^write a token from \`scontrol token username=<user> lifespan=<seconds>\` to ${missing}, readable by the exporter's user`));
    assert.ok(!r.json.findings.some((f) => f.section === 'api'), 'nothing is asked of Slurm without a token');
  });

  it('a world-readable token file: a warning to chmod it', async () => {
    const tokenFile = file('open.token', lab.SLURM_JWT, 0o644);
    const r = await doctor(['--slurm.token-file', tokenFile], { SLURM_REST_URL: lab.SLURM_REST_URL });
    assert.match(find(r, 'file-mode', 'warn').message, /readable by every user \(mode 0644\)/);
    assert.match(find(r, 'file-mode').fix!, new RegExp(`^chmod 600 ${tokenFile}`));
  });
});

describe('doctor: configuration and reachability', () => {
  it('a bad config file: exit 2 naming the key, and the near miss', async () => {
    const conf = file('bad.yaml', ['slurm:', '  url: http://127.0.0.1:6820', '  requestTimeot: 5s', 'collectors:', '  nodes: { interval: 10s, timeout: 20s }', 'resources:', '  limits: {}', ''].join('\n'));
    const r = await doctor(['--config.file', conf]);
    assert.equal(r.code, 2, r.text);
    const fails = r.json.findings.filter((f) => f.status === 'fail');
    assert.equal(fails.length, 2);
    assert.match(fails[0]!.message, /slurm\.requestTimeot: unknown key "requestTimeot" \(did you mean "requestTimeout"\?/);
    assert.equal(fails[0]!.fix, `correct slurm.requestTimeot in ${conf}; every key and its values: docs/configuration.md`);
    assert.match(fails[1]!.message, /collectors\.nodes\.timeout: 20s must be shorter than collectors\.nodes\.interval \(10s\)/);
    assert.match(find(r, 'config', 'warn').message, /ignoring unknown top-level key "resources" \(CPU\/memory requests and limits belong in the pod spec/);
    assert.deepEqual(r.json.findings.map((f) => f.section), ['configuration', 'configuration', 'configuration'], 'nothing is contacted');
    assertFixListed(r);
  });

  it('no Slurm URL at all: exit 2, and how to give one', async () => {
    const r = await doctor([]);
    assert.equal(r.code, 2);
    assert.match(find(r, 'source', 'fail').fix!, /--slurm\.url http:\/\/slurmctl:6820 \(or SLURM_REST_URL/);
  });

  it('nothing listening: exit 2, connection refused, start slurmrestd or correct the URL', async () => {
    const port = await freePort();
    const r = await doctor(['--slurm.url', `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 2, r.text);
    const tcp = find(r, 'tcp', 'fail');
    assert.equal(tcp.message, `TCP 127.0.0.1:${port}: connection refused: nothing listens there`);
    assert.match(tcp.fix!, /start slurmrestd on 127\.0\.0\.1 \(systemctl start slurmrestd\) or correct the host and port in slurm\.url/);
    assert.equal(find(r, 'health').status, 'skip', 'the running-exporter check still runs');
  });

  it('a unix socket that does not exist: exit 2, no such socket', async () => {
    const r = await doctor(['--slurm.url', `unix://${dir}/none.sock`]);
    assert.equal(r.code, 2);
    assert.equal(find(r, 'unix', 'fail').message, `unix socket ${dir}/none.sock: no such socket`);
  });
});

describe('doctor against the simulator: the fault matrix', () => {
  let sim: SlurmSimulator;
  let url: string;
  let keyFile: string;
  let conf: string;
  before(async () => {
    sim = new SlurmSimulator({ nodes: 20, jobs: 40, tickMs: 0, jwtKey: SIM_KEY });
    url = (await sim.start()).url;
    keyFile = file('sim.key', SIM_KEY);
    const groups = COLLECTOR_GROUPS.map((g) => `  ${g}: { interval: 10s, timeout: 1s }`);
    conf = file('sim.yaml', ['slurm:', '  requestTimeout: 1s', '  maxResponseSize: 4MiB', 'collectors:', ...groups, ''].join('\n'));
  });
  after(() => sim.stop());

  const run = async (fault: FaultSpec | undefined, extra: string[] = []) => {
    if (fault) sim.faults.set(fault);
    try {
      return await doctor(['--slurm.url', url, '--config.file', conf, '--slurm.jwt-key-file', keyFile, '--slurm.user', 'root', ...extra]);
    } finally {
      sim.faults.clear();
    }
  };

  /** A fault on /nodes only: that request fails with its reason, the collectors reading nodes have no data. */
  async function nodesFault(fault: Omit<FaultSpec, 'paths'>, kind: string, message: RegExp, fix: RegExp): Promise<void> {
    const r = await run({ ...fault, paths: '/nodes$' });
    assert.equal(r.code, 2, r.text);
    const nodes = find(r, 'nodes', 'fail');
    assert.ok(nodes.message.startsWith(`${kind}: `), nodes.message);
    assert.match(nodes.message, message);
    assert.match(nodes.fix!, fix);
    assert.deepEqual(statuses(r, 'fail'), ['nodes'], 'one failure, reported once');
    assert.deepEqual(collectorStates(r).failing, ['nodes', 'partitions', 'gpus', 'reservations']);
    assert.equal(collectorStates(r).supported?.length, 10, 'the other collectors still render');
    assertFixListed(r);
  }

  it('healthy: exit 0, every collector supported on API v0.0.44', async () => {
    const r = await run(undefined);
    assert.equal(r.code, 0, r.text);
    assert.match(find(r, 'version', 'ok').message, /^v0\.0\.44 \(negotiated/);
    assert.deepEqual(collectorStates(r), { supported: [...SUPPORTED_22_05.slice(0, 9), 'fairshare', 'reservations', 'licenses', 'slurmdbd', 'slurmdbd_ping'], disabled: ['job', 'native'] });
    assert.match(find(r, 'clock', 'ok').message, /from slurmrestd's Date header/);
    assert.match(r.text, /^Result: 0 failures, 0 warnings \(exit 0\)/m);
    assert.doesNotMatch(r.text, /To fix:/);
  });

  it('refuse (every connection closed unanswered): exit 2, closed without answering', async () => {
    const r = await run({ mode: 'refuse' });
    assert.equal(r.code, 2, r.text);
    assert.equal(find(r, 'tcp').status, 'ok', 'the TCP connection itself opens');
    const h = find(r, 'http', 'fail');
    assert.match(h.message, /^slurmrestd accepted the connection and closed it without answering/);
    assert.match(h.fix!, /slurmrestd's log.*https:\/\//);
  });

  it('hang (every request): exit 2, no answer within slurm.requestTimeout', async () => {
    const r = await run({ mode: 'hang' });
    assert.equal(r.code, 2, r.text);
    assert.match(find(r, 'http', 'fail').message, /^slurmrestd accepted the connection but sent no answer within 1000 ms \(slurm\.requestTimeout\)/);
  });

  it('hang on /nodes: exit 2, a timeout under collectors.nodes.timeout', () =>
    nodesFault({ mode: 'hang' }, 'timeout', /no complete answer within 1000 ms \(collectors\.nodes\.timeout\)/, /^raise collectors\.nodes\.timeout \(now 1000 ms/));

  it('HTTP 503 on /nodes: exit 2, an http error with the status', () =>
    nodesFault({ mode: 'status', status: 503, body: 'Service Unavailable' }, 'http', /slurmrestd answered HTTP 503 for \/slurm\/v0\.0\.44\/nodes: Service Unavailable/, /^slurmrestd answered HTTP 503: look at slurmrestd's log/));

  it('malformed JSON on /nodes: exit 2, a parse error', () => nodesFault({ mode: 'malformed' }, 'parse', /./, /not slurmrestd's JSON/));

  it('the answer cut off mid-stream: exit 2, the connection lost while reading', () =>
    nodesFault({ mode: 'truncate', bytes: 3000 }, 'connect', /nodes/, /dropped the connection while answering/));

  it('an answer over slurm.maxResponseSize: exit 2, too_large, raise the limit', () =>
    nodesFault({ mode: 'huge', bytes: 16 * 1024 * 1024 }, 'too_large', /16777216 bytes, over slurm\.maxResponseSize \(4194304\)/, /^raise slurm\.maxResponseSize \(now 4\.0 MiB\)/));

  it('drop-version v0.0.44: the next version down is negotiated, exit 0', async () => {
    const r = await run({ mode: 'drop-version', version: 'v0.0.44' });
    assert.equal(r.code, 0, r.text);
    assert.match(find(r, 'version', 'ok').message, /^v0\.0\.43 \(negotiated/);
  });

  it('drop-version of the only version served: exit 2, no API version in common', async () => {
    const only = new SlurmSimulator({ nodes: 5, jobs: 5, tickMs: 0, jwtKey: SIM_KEY, versions: ['v0.0.44'] });
    const onlyUrl = (await only.start()).url;
    only.faults.set({ mode: 'drop-version', version: 'v0.0.44' });
    try {
      const r = await doctor(['--slurm.url', onlyUrl, '--config.file', conf, '--slurm.jwt-key-file', keyFile, '--slurm.user', 'root']);
      assert.equal(r.code, 2, r.text);
      const v = find(r, 'version', 'fail');
      assert.match(v.message, /^no API version in common: slurmrestd http:\/\/127\.0\.0\.1:\d+ serves none of the API versions this exporter speaks/);
      assert.match(v.fix!, /serve one of v0\.0\.38 to v0\.0\.44.*slurmrestd -d list/);
    } finally {
      await only.stop();
    }
  });

  it('a token signed with another key (25.x answers 511): exit 2, refused, the key file named', async () => {
    const other = file('other.key', 'not-the-cluster-key-0123456789abcdef');
    const r = await run(undefined, ['--slurm.jwt-key-file', other]);
    assert.equal(r.code, 2, r.text);
    assert.match(find(r, 'auth', 'fail').message, /refused the credentials \(HTTP 511/);
    assert.match(find(r, 'auth').fix!, new RegExp(`^${other} must be this cluster's jwt_hs256\\.key`));
  });

  it('the server clock 2 h ahead (Date header): exit 1, synchronise the clocks', async () => {
    const proxy = await proxyTo(url, { date: () => new Date(Date.now() + 2 * 3600_000).toUTCString() });
    try {
      const r = await doctor(['--slurm.url', proxy.url, '--config.file', conf, '--slurm.jwt-key-file', keyFile, '--slurm.user', 'root']);
      assert.equal(r.code, 1, r.text);
      const c = find(r, 'clock', 'warn');
      assert.match(c.message, /^the server's clock is (119 min|2 h 0 min) ahead of this host's/);
      assert.match(c.fix!, /^synchronise the clocks/);
      assert.deepEqual(statuses(r, 'warn'), ['clock']);
    } finally {
      await proxy.stop();
    }
  });

  it('TLS: an untrusted certificate fails; with slurm.tls.caFile it is verified (and expiring soon)', async () => {
    const pki = makePki();
    const proxy = await proxyTo(url, { tls: { key: readFileSync(pki.key), cert: readFileSync(pki.cert) } });
    try {
      const https = proxy.url;
      const untrusted = await doctor(['--slurm.url', https, '--config.file', conf, '--slurm.jwt-key-file', keyFile, '--slurm.user', 'root']);
      assert.equal(untrusted.code, 2, untrusted.text);
      const t = find(untrusted, 'tls', 'fail');
      assert.match(t.message, /^TLS 127\.0\.0\.1:\d+: slurmrestd's certificate is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
      assert.match(t.fix!, /^set slurm\.tls\.caFile to the CA bundle/);

      const withCa = file('tls.yaml', `${readFileSync(conf, 'utf8')}\n`.replace('slurm:\n', `slurm:\n  tls: { caFile: ${pki.ca} }\n`));
      const trusted = await doctor(['--slurm.url', https, '--config.file', withCa, '--slurm.jwt-key-file', keyFile, '--slurm.user', 'root']);
      assert.equal(trusted.code, 1, trusted.text);
      assert.equal(find(trusted, 'tls').status, 'ok');
      assert.match(find(trusted, 'certificate', 'warn').message, /^certificate of localhost expires \S+ \(in 0 days\)/);
      assert.deepEqual(statuses(trusted, 'warn'), ['certificate']);
      assert.equal(collectorStates(trusted).supported?.length, 14);

      const plain = await doctor(['--slurm.url', https.replace('https:', 'http:'), '--config.file', conf, '--slurm.jwt-key-file', keyFile, '--slurm.user', 'root']);
      assert.equal(plain.code, 2, plain.text);
      assert.match(find(plain, 'http', 'fail').fix!, /if it serves TLS use https:\/\//);
    } finally {
      await proxy.stop();
    }
  });

  it('over a unix socket: connected, exit 0', async () => {
    const sock = path.join(dir, 'slurmrestd.sock');
    const port = Number(new URL(url).port);
    const relay = net.createServer((c) => c.pipe(net.connect(port, '127.0.0.1')).pipe(c));
    await new Promise<void>((r) => relay.listen(sock, r));
    try {
      const r = await doctor(['--slurm.url', `unix://${sock}`, '--config.file', conf, '--slurm.jwt-key-file', keyFile, '--slurm.user', 'root']);
      assert.equal(r.code, 0, r.text);
      assert.match(find(r, 'unix', 'ok').message, new RegExp(`^unix socket ${sock} connected in`));
    } finally {
      await new Promise((r) => relay.close(r));
    }
  });

  it('after deployment: the running exporter answers /health, /ready and serves Slurm series', async () => {
    const exp = await spawnExporter(['--slurm.url', url, '--slurm.jwt-key-file', keyFile, '--slurm.user', 'root']);
    try {
      await waitFor('/ready', async () => (await httpGet(`${exp.url}/ready`)).status === 200);
      const r = await doctor(['--slurm.url', url, '--config.file', conf, '--slurm.jwt-key-file', keyFile, '--slurm.user', 'root', '--web.listen-address', new URL(exp.url).host]);
      assert.equal(r.code, 0, r.text);
      assert.equal(find(r, 'health').status, 'ok');
      assert.match(find(r, 'ready', 'ok').message, /^\/ready: ready/);
      assert.match(find(r, 'metrics', 'ok').message, /^\/metrics serves \d+ Slurm series/);
      assertNoSecret('exporter logs', exp.output.join('\n'));
    } finally {
      await exp.stop();
    }
  });

  it('an expired token that is not the cluster\'s: exit 2, and it never shows', async () => {
    const pasted = fakeJwt({ sun: 'root', exp: 1 }, 'pasted-signature-must-not-show');
    SECRETS.add(pasted);
    const r = await doctor(['--slurm.url', url], { SLURM_JWT: pasted });
    assert.equal(r.code, 2);
    assert.match(find(r, 'token', 'fail').message, /the token expired at 1970-01-01T00:00:01Z/);
  });
});
