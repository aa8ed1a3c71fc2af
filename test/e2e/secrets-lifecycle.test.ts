// Secrets never leak, on every path an operator or an attacker can read (logs at debug level, errors,
// check-config, every endpoint); signals behave (SIGTERM/SIGINT: finish in-flight scrapes, exit 0 within 5 s;
// SIGHUP: reload, or refuse a bad configuration and keep running).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { SlurmSimulator, signJwt } from '../../src/simulator/server.ts';
import { BIN, type ExporterProcess, spawnExporter, waitFor } from '../support/exporter-process.ts';

const KEY = Buffer.from('TOP-SECRET-HS256-KEY-0f9e8d7c6b5a4f3e2d1c0b9a');
const PASSWORD = 'Scrape-Pa55word-Never-Logged';
const TOKEN = signJwt('root', KEY, 3600);

/** Each secret, and the forms it could leak in (base64 of the key, a basic-auth header). */
const FORBIDDEN = [TOKEN, TOKEN.split('.')[2]!, KEY.toString(), KEY.toString('base64'), PASSWORD, Buffer.from(`prom:${PASSWORD}`).toString('base64')];

function assertClean(what: string, text: string): void {
  for (const s of FORBIDDEN) assert.ok(!text.includes(s), `${what} contains a secret (${s.slice(0, 6)}…)`);
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const r = await fetch(url, { headers });
  return { status: r.status, text: await r.text() };
}

describe('secrets never appear in output', () => {
  let dir: string;
  let sim: SlurmSimulator;
  let simUrl: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'secrets-'));
    writeFileSync(path.join(dir, 'jwt.key'), KEY);
    writeFileSync(path.join(dir, 'token'), TOKEN);
    writeFileSync(path.join(dir, 'web.yml'), `basic_auth_users:\n  prom: ${bcrypt.hashSync(PASSWORD, 4)}\nprobes_without_auth: true\n`);
    sim = new SlurmSimulator({ nodes: 10, jobs: 20, tickMs: 0, jwtKey: KEY });
    simUrl = (await sim.start()).url;
  });
  after(async () => {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const auth = { authorization: `Basic ${Buffer.from(`prom:${PASSWORD}`).toString('base64')}` };

  async function exercise(exp: ExporterProcess): Promise<string> {
    let seen = '';
    for (const p of ['/', '/health', '/ready', '/leader', '/metrics']) {
      const r = await get(`${exp.url}${p}`, auth);
      seen += r.text;
    }
    seen += (await get(`${exp.url}/metrics`, { authorization: 'Basic ' + Buffer.from('prom:wrong').toString('base64') })).text;
    return seen;
  }

  for (const [name, args, env] of [
    ['a token in SLURM_JWT', [], { SLURM_JWT: TOKEN, SLURM_USER: 'root' }],
    ['a token file', ['--slurm.token-file', 'token'], {}],
    ['the HS256 key file', ['--slurm.jwt-key-file', 'jwt.key', '--slurm.user', 'root'], {}],
  ] as const) {
    it(`${name}: debug logs, every endpoint, with and without the right password`, async () => {
      const exp = await spawnExporter(['--slurm.url', simUrl, '--log.level', 'debug', '--web.config.file', path.join(dir, 'web.yml'), ...args.map((a) => (a === 'token' || a === 'jwt.key' ? path.join(dir, a) : a))], {
        env: { SLURM_JWT: undefined, ...env },
      });
      try {
        await waitFor('/ready', async () => (await get(`${exp.url}/ready`)).status === 200);
        const seen = await exercise(exp);
        assert.match(seen, /slurm_nodes\{/);
        await exp.stop();
        assertClean('endpoints', seen);
        assertClean('logs', exp.output.join('\n'));
      } finally {
        await exp.stop();
      }
    });
  }

  it('a refused token: the error says so without the token', async () => {
    const other = signJwt('root', Buffer.from('another-key-entirely-0123456789'), 3600);
    FORBIDDEN.push(other);
    const exp = await spawnExporter(['--slurm.url', simUrl, '--log.level', 'debug'], { env: { SLURM_JWT: other } });
    try {
      await waitFor('an auth error logged', async () => exp.output.some((l) => l.includes('"kind":"auth"')), 10_000);
      const seen = await exercise(exp);
      await exp.stop();
      assertClean('endpoints', seen);
      assertClean('logs', exp.output.join('\n'));
    } finally {
      await exp.stop();
      FORBIDDEN.pop();
    }
  });

  it('check-config, and a configuration error next to a token in the file', () => {
    const good = path.join(dir, 'good.yaml');
    writeFileSync(good, `slurm:\n  url: ${simUrl}\n  token: ${TOKEN}\n`);
    const ok = spawnSync(BIN, ['check-config', '--config.file', good], { encoding: 'utf8', env: { ...process.env, SLURM_JWT: TOKEN } });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /token: <redacted>|token: "?\*+|redacted/i);
    assertClean('check-config', ok.stdout + ok.stderr);
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, `slurm:\n  url: ${simUrl}\n  token: ${TOKEN}\n  maxConnections: -3\n`);
    const r = spawnSync(BIN, ['check-config', '--config.file', bad], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /slurm\.maxConnections/);
    assertClean('config error', r.stdout + r.stderr);
  });
});

describe('signals', () => {
  let sim: SlurmSimulator;
  let simUrl: string;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'signals-'));
    sim = new SlurmSimulator({ nodes: 4000, jobs: 2000, tickMs: 0 });
    simUrl = (await sim.start()).url;
  });
  after(async () => {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: a scrape in flight completes, then exit 0 within 5 s`, async () => {
      const exp = await spawnExporter(['--slurm.url', simUrl]);
      await waitFor('/ready', async () => (await get(`${exp.url}/ready`)).status === 200);
      // Read the response slowly: the headers arrive, the signal goes, the body must still arrive whole.
      const body = new Promise<{ status: number; text: string }>((resolve, reject) => {
        http
          .get(`${exp.url}/metrics`, (res) => {
            res.pause();
            const t0 = Date.now();
            exp.proc.kill(signal);
            setTimeout(() => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString() }));
              res.resume();
            }, Math.max(0, 300 - (Date.now() - t0)));
          })
          .on('error', reject);
      });
      const t0 = Date.now();
      const r = await body;
      const code = await exp.exited;
      const secs = (Date.now() - t0) / 1000;
      assert.equal(r.status, 200);
      assert.match(r.text, /slurm_exporter_build_info\{/, 'the whole page arrived');
      assert.equal(code, 0);
      assert.ok(secs < 5, `exited after ${secs} s`);
    });
  }

  it('SIGHUP: applies a new configuration; a bad one is refused and the old one keeps running', async () => {
    const conf = path.join(dir, 'exporter.yaml');
    writeFileSync(conf, 'collectors:\n  nodes: { interval: 30s, timeout: 10s }\n');
    const exp = await spawnExporter(['--slurm.url', simUrl, '--config.file', conf]);
    try {
      await waitFor('/ready', async () => (await get(`${exp.url}/ready`)).status === 200);
      const nodesPolls = () => sim.requestLog.filter((e) => e.path.endsWith('/nodes') && e.userAgent.startsWith('slurm-exporter/')).length;
      const before = nodesPolls();
      writeFileSync(conf, 'collectors:\n  nodes: { interval: 1s, timeout: 800ms }\n');
      exp.proc.kill('SIGHUP');
      await waitFor('configuration reloaded', async () => exp.output.some((l) => l.includes('configuration reloaded')), 5000);
      await waitFor('nodes polled every second', async () => nodesPolls() >= before + 3, 8000);

      writeFileSync(conf, 'collectors:\n  nodes: { interval: soon }\n');
      exp.proc.kill('SIGHUP');
      const refused = await waitFor('refused', async () => exp.output.find((l) => l.includes('configuration reload refused')), 5000);
      assert.match(refused, /collectors\.nodes\.interval/);
      const n = nodesPolls();
      await waitFor('still polling on the old (1 s) configuration', async () => nodesPolls() >= n + 2, 5000);
      assert.equal((await get(`${exp.url}/ready`)).status, 200);
    } finally {
      assert.equal(await exp.stop(), 0);
    }
  });
});
