// Packaging without a Docker engine: the Dockerfile is parsed and checked (stages, non-root user, health check
// with Node, tini, OCI labels, port), then the npm and node steps of its stages are replayed in temporary
// directories with the files of the build context (.dockerignore applied) as the COPY lines say. The production
// install runs as user 65534 with root-owned files: `--demo` answers /health and serves Slurm series, the
// image's HEALTHCHECK command passes, doctor runs, and no dev dependency is installed. The systemd unit passes
// `systemd-analyze verify` and carries every hardening directive.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../support/exporter-process.ts';

// ---- The Dockerfile, parsed --------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name: string;
  from: string;
  body: Instruction[];
}

/** Instructions with line continuations joined and comments dropped, grouped by stage. */
function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const lines: string[] = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue;
    const cont = /\\\s*$/.test(raw);
    cur += (cur ? ' ' : '') + raw.replace(/\\\s*$/, '').trim();
    if (!cont) {
      if (cur.trim()) lines.push(cur.trim());
      cur = '';
    }
  }
  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of lines) {
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    const ins = { keyword: m[1]!.toUpperCase(), args: m[2]! };
    if (ins.keyword === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      stages.push({ name: f[2] ?? String(stages.length), from: f[1]!, body: [] });
    } else if (stages.length === 0) args.push(ins);
    else stages[stages.length - 1]!.body.push(ins);
  }
  return { args, stages };
}

const all = (s: Stage, keyword: string) => s.body.filter((i) => i.keyword === keyword).map((i) => i.args);
const jsonForm = (args: string) => JSON.parse(args) as string[];

// ---- The build context: what `docker build .` sends, .dockerignore applied ---------------------------------------

/** Docker's .dockerignore matching: a pattern matches the path or one of its parents; the last match wins. */
function ignoredBy(patterns: string[]): (file: string) => boolean {
  const rules = patterns.map((p) => {
    const negate = p.startsWith('!');
    const glob = (negate ? p.slice(1) : p).replace(/^\/+|\/+$/g, '');
    const re = glob
      .split('/')
      .map((seg) => (seg === '**' ? '.*' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
      .join('/')
      .replace(/\.\*\//g, '(?:.*/)?');
    return { negate, re: new RegExp(`^${re}$`) };
  });
  return (file) => {
    const parts = file.split('/');
    const paths = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const r of rules) if (paths.some((p) => r.re.test(p))) ignored = !r.negate;
    return ignored;
  };
}

function contextFiles(): string[] {
  // Tracked files and new ones not ignored by git: what a build from this working tree would see.
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  const patterns = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const ignored = ignoredBy(patterns);
  return files.filter((f) => existsSync(path.join(REPO_ROOT, f)) && !ignored(f));
}

// ---- Replaying a stage's COPY / WORKDIR / ENV / RUN in a directory that stands for its root filesystem ---------

const NODE_BIN_DIR = path.dirname(process.execPath);

interface Replayed {
  root: string;
  workdir: string;
  skipped: string[];
  ran: string[];
}

function copyInto(from: string, to: string, destIsDir: boolean): void {
  if (statSync(from).isDirectory()) {
    mkdirSync(to, { recursive: true });
    cpSync(from, to, { recursive: true });
  } else {
    const target = destIsDir ? path.join(to, path.basename(from)) : to;
    mkdirSync(path.dirname(target), { recursive: true });
    cpSync(from, target);
  }
}

function copy(args: string, st: Replayed, context: string, stages: Map<string, Replayed>): void {
  const words = args.split(/\s+/);
  const fromFlag = words.find((w) => w.startsWith('--from='));
  const [dest, ...srcs] = words.filter((w) => !w.startsWith('--')).reverse();
  const srcRoot = fromFlag ? stages.get(fromFlag.slice('--from='.length))!.root : context;
  const destPath = path.join(st.root, dest!.startsWith('/') ? dest! : path.join(st.workdir, dest!));
  const destIsDir = dest!.endsWith('/') || srcs.length > 1;
  for (const src of srcs.reverse()) copyInto(path.join(srcRoot, src), destPath, destIsDir);
}

/** The RUN steps that make the files: npm and node. apt-get (tini) and npm's cache cleaning are not replayed. */
function runStep(cmd: string, st: Replayed, env: Record<string, string>): void {
  for (const part of cmd.split(/\s*&&\s*/)) {
    if (/^apt-get\b|^rm -rf \/var\/lib\/apt|^npm cache clean/.test(part)) {
      st.skipped.push(part);
      continue;
    }
    // --prefer-offline: the machine's npm cache first, the registry only for what it lacks.
    const line = part.replace(/^npm ci\b/, 'npm ci --prefer-offline');
    st.ran.push(line);
    const r = spawnSync('sh', ['-c', line], { cwd: path.join(st.root, st.workdir), env: { ...process.env, ...env, PATH: `${NODE_BIN_DIR}:${process.env.PATH}` }, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, `RUN ${line}\n${r.stdout}\n${r.stderr}`);
  }
}

function replay(stage: Stage, base: string, context: string, stages: Map<string, Replayed>): Replayed {
  const st: Replayed = { root: path.join(base, stage.name), workdir: '/', skipped: [], ran: [] };
  mkdirSync(st.root, { recursive: true });
  const env: Record<string, string> = {};
  for (const ins of stage.body) {
    if (ins.keyword === 'WORKDIR') {
      st.workdir = ins.args;
      mkdirSync(path.join(st.root, st.workdir), { recursive: true });
    } else if (ins.keyword === 'ENV') {
      const m = /^(\S+?)[= ](.*)$/.exec(ins.args)!;
      env[m[1]!] = m[2]!;
    } else if (ins.keyword === 'COPY') copy(ins.args, st, context, stages);
    else if (ins.keyword === 'RUN') runStep(ins.args, st, env);
  }
  return st;
}

// ---- Running the production install ------------------------------------------------------------------------

interface Running {
  proc: ChildProcess;
  url: string;
  simUrl: string;
  lines: string[];
  exited: Promise<number | string>;
}

const NOBODY = { uid: 65534, gid: 65534 };

function startInstalled(bin: string, cwd: string): Promise<Running> {
  const args = ['--demo', '--demo.nodes', '20', '--demo.jobs', '60', '--web.listen-address', '127.0.0.1:0', '--log.format', 'json'];
  const proc = spawn(bin, args, { cwd, ...NOBODY, env: { PATH: `${NODE_BIN_DIR}:/usr/bin:/bin`, HOME: '/nonexistent' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const exited = new Promise<number | string>((r) => proc.on('exit', (code, sig) => r(code ?? sig ?? -1)));
  return new Promise((resolve, reject) => {
    let simUrl = '';
    const timer = setTimeout(() => reject(new Error(`no 'listening' line:\n${lines.join('\n')}`)), 20_000);
    for (const s of [proc.stdout, proc.stderr]) {
      s.setEncoding('utf8');
      s.on('data', (chunk: string) => {
        for (const line of chunk.split('\n').filter(Boolean)) {
          lines.push(line);
          const rec = (() => {
            try {
              return JSON.parse(line) as { msg?: string; url?: string };
            } catch {
              return {};
            }
          })();
          if (rec.msg?.startsWith('demo:') && rec.url) simUrl = rec.url;
          if (rec.msg === 'listening' && rec.url) {
            clearTimeout(timer);
            resolve({ proc, url: rec.url, simUrl, lines, exited });
          }
        }
      });
    }
    void exited.then((c) => reject(new Error(`exited ${c}:\n${lines.join('\n')}`)));
  });
}

/** Every file under dir with its size and mtime, to prove nothing was written. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const s = statSync(p);
      out.push(`${path.relative(dir, p)} ${s.size} ${s.mtimeMs}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

const dockerfile = parseDockerfile(readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8'));
const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { license: string; devDependencies: Record<string, string> };

describe('Dockerfile', () => {
  const [build, runtime] = dockerfile.stages;

  it('two stages: build with the dev dependencies and the TypeScript build, runtime with production dependencies, dist/ and bin/', () => {
    assert.deepEqual(dockerfile.stages.map((s) => s.name), ['build', 'runtime']);
    const base = /^NODE_IMAGE=(\S+)$/.exec(dockerfile.args.find((a) => a.keyword === 'ARG')!.args)![1]!;
    assert.match(base, /^node:24(\.\d+)*-(bookworm-|trixie-)?slim$/, 'Node 24, slim');
    for (const s of dockerfile.stages) assert.equal(s.from, '${NODE_IMAGE}');
    const buildRuns = all(build!, 'RUN').join('\n');
    assert.match(buildRuns, /npm ci(?![^\n]*--omit)/, 'npm ci with dev dependencies');
    assert.match(buildRuns, /tsc -p tsconfig\.build\.json/);
    assert.match(all(runtime!, 'RUN').join('\n'), /npm ci --omit=dev/);
    const copies = all(runtime!, 'COPY');
    assert.deepEqual(copies, ['package.json package-lock.json ./', '--from=build /src/dist ./dist', 'bin ./bin'], 'the runtime stage gets only the package files, dist/ and bin/');
  });

  it('runs as user 65534, exposes 9341, tini as PID 1, a Node health check on /health, OCI labels', () => {
    const users = all(runtime!, 'USER');
    assert.equal(users[users.length - 1], '65534:65534');
    assert.deepEqual(all(runtime!, 'EXPOSE'), ['9341']);
    assert.deepEqual(jsonForm(all(runtime!, 'ENTRYPOINT')[0]!), ['/usr/bin/tini', '--', '/opt/slurm-exporter/bin/slurm-exporter']);
    assert.match(all(runtime!, 'RUN').join('\n'), /apt-get install -y --no-install-recommends tini/);
    const hc = all(runtime!, 'HEALTHCHECK')[0]!;
    const cmd = jsonForm(hc.slice(hc.indexOf('CMD') + 3).trim());
    assert.equal(cmd[0], 'node', 'the check runs on Node: no curl or wget in the image');
    assert.ok(all(runtime!, 'ENV').includes('SLURM_EXPORTER_HEALTH_URL=http://127.0.0.1:9341/health'));
    assert.doesNotMatch(runtime!.body.map((i) => i.args).join('\n'), /\b(curl|wget)\b/);
    const labels = all(runtime!, 'LABEL').join(' ');
    for (const k of ['title', 'description', 'licenses', 'version', 'revision', 'created', 'source']) assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.${k}=`), k);
    assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.licenses="${pkg.license}"`));
    assert.deepEqual(all(runtime!, 'VOLUME'), [], 'no anonymous volume: /tmp is a tmpfs the operator mounts');
  });

  it('.dockerignore lets only the package files, TypeScript config, src/ and bin/ into the build context', () => {
    const files = contextFiles();
    const top = [...new Set(files.map((f) => f.split('/')[0]))].sort();
    assert.deepEqual(top, ['bin', 'package-lock.json', 'package.json', 'src', 'tsconfig.build.json', 'tsconfig.json']);
    assert.ok(files.includes('src/cli.ts') && files.includes('src/doctor/run.ts') && files.includes('bin/slurm-exporter'));
  });
});

describe('the image build, replayed without Docker', () => {
  let base: string;
  let runtimeRoot: string;
  const replayed = new Map<string, Replayed>();
  before(() => {
    base = mkdtempSync(path.join(tmpdir(), 'packaging-'));
    const context = path.join(base, 'context');
    for (const f of contextFiles()) copyInto(path.join(REPO_ROOT, f), path.join(context, f), false);
    for (const stage of dockerfile.stages) replayed.set(stage.name, replay(stage, base, context, replayed));
    runtimeRoot = path.join(replayed.get('runtime')!.root, '/opt/slurm-exporter');
    // The image's files belong to root and are only readable by the exporter's user.
    for (let d = runtimeRoot; d !== path.dirname(base); d = path.dirname(d)) chmodSync(d, 0o755);
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  it('replays the npm and node steps of both stages', () => {
    assert.deepEqual(replayed.get('build')!.ran, ['npm ci --prefer-offline --ignore-scripts --no-audit --no-fund', 'node node_modules/typescript/bin/tsc -p tsconfig.build.json']);
    assert.deepEqual(replayed.get('runtime')!.ran, ['npm ci --prefer-offline --omit=dev --ignore-scripts --no-audit --no-fund']);
    assert.ok(replayed.get('runtime')!.skipped.some((s) => s.includes('tini')), 'the tini install is the one step left to Docker');
  });

  it('the runtime tree holds the package files, node_modules, dist/ and bin/ only, and no dev dependency', () => {
    assert.deepEqual(readdirSync(runtimeRoot).sort(), ['bin', 'dist', 'node_modules', 'package-lock.json', 'package.json']);
    assert.ok(existsSync(path.join(runtimeRoot, 'dist/cli.js')) && existsSync(path.join(runtimeRoot, 'dist/doctor/run.js')));
    const installed = new Set(readdirSync(path.join(runtimeRoot, 'node_modules')).flatMap((n) => (n.startsWith('@') ? readdirSync(path.join(runtimeRoot, 'node_modules', n)).map((m) => `${n}/${m}`) : [n])));
    for (const dev of Object.keys(pkg.devDependencies)) assert.ok(!installed.has(dev), `devDependency ${dev} is not installed`);
    for (const tool of ['typescript', 'eslint']) assert.ok(!installed.has(tool));
    assert.ok(!existsSync(path.join(runtimeRoot, 'node_modules/.bin/node')), "no second Node: bin/slurm-exporter runs the image's");
  });

  it('as user 65534: --demo answers /health, serves Slurm series, passes the HEALTHCHECK and doctor, writes nothing, exits 0 on SIGTERM', async (t) => {
    const before = snapshot(runtimeRoot);
    const t0 = performance.now();
    const exp = await startInstalled(path.join(runtimeRoot, 'bin/slurm-exporter'), runtimeRoot);
    try {
      t.diagnostic(`production install listening after ${Math.round(performance.now() - t0)} ms`);
      assert.equal((await fetch(`${exp.url}/health`)).status, 200);
      let page = '';
      // Each collector group arrives with its own first poll: wait for both the nodes and the jobs figures.
      for (let i = 0; i < 50 && !(/^slurm_nodes\{/m.test(page) && /^slurm_jobs\{/m.test(page)); i++) {
        await new Promise((r) => setTimeout(r, 200));
        page = await (await fetch(`${exp.url}/metrics`)).text();
      }
      assert.match(page, /^slurm_nodes\{cluster="demo",state="[a-z]+"\} \d+/m);
      assert.match(page, /^slurm_jobs\{/m);

      const hc = all(dockerfile.stages[1]!, 'HEALTHCHECK')[0]!;
      const [cmd, ...cmdArgs] = jsonForm(hc.slice(hc.indexOf('CMD') + 3).trim());
      const check = (url: string) => spawnSync(cmd!, cmdArgs, { ...NOBODY, env: { PATH: `${NODE_BIN_DIR}:/usr/bin:/bin`, SLURM_EXPORTER_HEALTH_URL: url }, timeout: 10_000 }).status;
      assert.equal(check(`${exp.url}/health`), 0, 'HEALTHCHECK passes');
      assert.equal(check('http://127.0.0.1:1/health'), 1, 'HEALTHCHECK fails when nothing answers');

      // As an operator would (and doctor's own advice says): let every collector group poll once first.
      for (let i = 0; i < 100 && (await fetch(`${exp.url}/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 200));
      const doc = spawn(path.join(runtimeRoot, 'bin/slurm-exporter'), ['doctor', '--slurm.url', exp.simUrl, '--web.listen-address', new URL(exp.url).host, '--output', 'json'], {
        ...NOBODY,
        cwd: runtimeRoot,
        env: { PATH: `${NODE_BIN_DIR}:/usr/bin:/bin`, HOME: '/nonexistent' },
      });
      let out = '';
      doc.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise((r) => doc.on('close', r));
      const report = JSON.parse(out) as { findings: { check: string; status: string }[]; series: number };
      assert.equal(code, 1, out);
      assert.deepEqual(report.findings.filter((f) => f.status === 'warn').map((f) => f.check), ['token'], 'the demo cluster wants no token: the one warning');
      assert.ok(report.series > 0);
      assert.equal(report.findings.find((f) => f.check === 'metrics')?.status, 'ok', 'doctor sees the running exporter');

      exp.proc.kill('SIGTERM');
      assert.equal(await exp.exited, 0);
    } finally {
      exp.proc.kill('SIGKILL');
    }
    assert.deepEqual(snapshot(runtimeRoot), before, 'nothing was written into the installed tree');
  });
});

describe('systemd unit', () => {
  const unitFile = path.join(REPO_ROOT, 'deploy/systemd/slurm-exporter.service');
  const unit = readFileSync(unitFile, 'utf8');
  const directives = unit.split('\n').filter((l) => /^[A-Z]\w+=/.test(l));
  const has = (d: string) => directives.includes(d);

  it('passes systemd-analyze verify (ExecStart pointed at this checkout instead of /opt/slurm-exporter)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'unit-'));
    try {
      const copyFile = path.join(dir, 'slurm-exporter.service');
      writeFileSync(copyFile, unit.replaceAll('/opt/slurm-exporter/bin/slurm-exporter', path.join(REPO_ROOT, 'bin/slurm-exporter')));
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', copyFile], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), '', 'no warning');
      const sec = spawnSync('systemd-analyze', ['security', '--offline=true', copyFile], { encoding: 'utf8' });
      const score = /Overall exposure level for \S+: ([\d.]+)/.exec(sec.stdout)?.[1];
      assert.ok(score && Number(score) <= 2, `systemd-analyze security: ${score}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('carries every hardening directive; MemoryDenyWriteExecute is not set (V8 JIT), and says so', () => {
    for (const d of [
      'DynamicUser=yes',
      'User=slurm-exporter',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'NoNewPrivileges=yes',
      'PrivateTmp=yes',
      'CapabilityBoundingSet=',
      'AmbientCapabilities=',
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
      'SystemCallFilter=@system-service',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'Restart=on-failure',
      'EnvironmentFile=-/etc/default/slurm-exporter',
      'LoadCredential=slurm-token:/etc/slurm-exporter/token',
    ]) {
      assert.ok(has(d), d);
    }
    assert.ok(directives.some((d) => d.startsWith('ExecStart=/opt/slurm-exporter/bin/slurm-exporter --slurm.token-file=${CREDENTIALS_DIRECTORY}/slurm-token')));
    assert.ok(!directives.some((d) => d.startsWith('MemoryDenyWriteExecute')));
    assert.match(unit, /# MemoryDenyWriteExecute= is deliberately NOT set: V8's JIT/);
  });

  it('the environment file example sets the URL and user, and no token', () => {
    const env = readFileSync(path.join(REPO_ROOT, 'deploy/systemd/slurm-exporter.env'), 'utf8');
    const set = env.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')[0]);
    assert.deepEqual(set, ['SLURM_REST_URL', 'SLURM_USER', 'SLURM_EXPORTER_ARGS']);
    assert.match(unit, /\$SLURM_EXPORTER_ARGS/);
  });
});
