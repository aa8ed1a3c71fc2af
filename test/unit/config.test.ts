import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import * as YAML from 'yaml';
import {
  addConfigOptions,
  assertSourceConfigured,
  ConfigError,
  parseConfigText,
  redactConfig,
  renderEffectiveConfig,
  resolveConfig,
  resolveFromData,
} from '../../src/config/load.ts';
import { expandEnv } from '../../src/config/env.ts';
import { formatDuration, formatSize, parseDuration, parseSize } from '../../src/config/units.ts';
import type { ExporterConfig } from '../../src/config/types.ts';
import { stalenessLimitFor } from '../../src/config/schema.ts';
import { fakeJwt } from '../support/fake-jwt.ts';

const dir = mkdtempSync(join(tmpdir(), 'slurm-exporter-config-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function writeConfig(text: string): string {
  const p = join(dir, `config-${n++}.yaml`);
  writeFileSync(p, text);
  return p;
}

/** Parses argv through the real flag definitions, as the CLI does. */
function opts(...argv: string[]): Record<string, unknown> {
  const cmd = addConfigOptions(new Command('t')).exitOverride();
  cmd.parse(argv, { from: 'user' });
  return cmd.opts();
}

const fixedHost = { hostname: () => 'os-host', warn: () => {} };

async function load(text: string, env: NodeJS.ProcessEnv = {}, argv: string[] = []): Promise<{ cfg: ExporterConfig; warnings: string[]; path: string }> {
  const path = writeConfig(text);
  const warnings: string[] = [];
  const cfg = await resolveConfig(opts('--config.file', path, ...argv), env, { hostname: () => 'os-host', warn: (m) => warnings.push(m) });
  return { cfg, warnings, path };
}

async function loadError(text: string, env: NodeJS.ProcessEnv = {}, argv: string[] = []): Promise<{ message: string; path: string }> {
  const path = writeConfig(text);
  try {
    await resolveConfig(opts('--config.file', path, ...argv), env, fixedHost);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return { message: e.message, path };
  }
  assert.fail('expected a ConfigError');
}

// Verbatim from /work/shared/seeds/ha-deployment-patterns.md (the data: config.yaml blocks).
const SEED_LEADER_ELECTION = `server:
  leaderElection:
    enabled: true
    leaseDuration: 15s
    renewDeadline: 10s
    retryPeriod: 2s
`;

const SEED_PERFORMANCE = `# Performance optimizations for large clusters
server:
  maxConcurrentScrapes: 10
  scrapeTimeout: 30s
  
slurm:
  # Connection pooling
  maxConnections: 20
  connectionTimeout: 10s
  requestTimeout: 30s
  keepAlive: true
  
  # Rate limiting
  rateLimit:
    enabled: true
    requestsPerSecond: 10
    burstSize: 20
  
  # Caching
  cache:
    enabled: true
    ttl: 60s
    maxSize: 1000
    
collectors:
  # Staggered collection intervals
  cluster:
    interval: 30s
    timeout: 20s
  nodes:
    interval: 60s
    timeout: 30s
    batchSize: 100
  jobs:
    interval: 30s
    timeout: 25s
    batchSize: 500
  partitions:
    interval: 120s
    timeout: 60s
    
# Resource management
resources:
  limits:
    cpu: 2
    memory: 2Gi
  requests:
    cpu: 500m
    memory: 512Mi
`;

describe('seed configuration blocks', () => {
  test('the leader election block loads with the seed timings and identity from the pod', async () => {
    const { cfg, warnings } = await load(SEED_LEADER_ELECTION, { POD_NAME: 'slurm-exporter-7d9f-abc', POD_NAMESPACE: 'monitoring', HOSTNAME: 'ignored' });
    assert.deepEqual(warnings, []);
    assert.deepEqual(cfg.server.leaderElection, {
      enabled: true,
      backend: 'kubernetes',
      mode: 'active-passive',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      leaseName: 'slurm-exporter',
      namespace: 'monitoring',
      identity: 'slurm-exporter-7d9f-abc',
      kubeconfig: undefined,
      etcdEndpoints: [],
    });
  });

  test('the performance tuning block loads as written; resources: is a warning', async () => {
    const { cfg, warnings } = await load(SEED_PERFORMANCE);
    assert.equal(warnings.length, 3);
    assert.match(warnings[0]!, /ignoring unknown top-level key "resources"/);
    assert.match(warnings[1]!, /ignoring collectors\.nodes\.batchSize: slurmrestd has no paging/);
    assert.match(warnings[2]!, /ignoring collectors\.jobs\.batchSize/);
    assert.equal(cfg.server.maxConcurrentScrapes, 10);
    assert.equal(cfg.server.scrapeTimeoutMs, 30_000);
    assert.equal(cfg.slurm.maxConnections, 20);
    assert.equal(cfg.slurm.connectionTimeoutMs, 10_000);
    assert.equal(cfg.slurm.requestTimeoutMs, 30_000);
    assert.equal(cfg.slurm.keepAlive, true);
    assert.deepEqual(cfg.slurm.rateLimit, { enabled: true, requestsPerSecond: 10, burstSize: 20 });
    assert.deepEqual(cfg.slurm.cache, { enabled: true, ttlMs: 60_000, maxSize: 1000 });
    assert.deepEqual(cfg.collectors, {
      cluster: { enabled: true, intervalMs: 30_000, timeoutMs: 20_000 },
      nodes: { enabled: true, intervalMs: 60_000, timeoutMs: 30_000 },
      jobs: { enabled: true, intervalMs: 30_000, timeoutMs: 25_000 },
      partitions: { enabled: true, intervalMs: 120_000, timeoutMs: 60_000 },
      scheduler: { enabled: true, intervalMs: 30_000, timeoutMs: 20_000 },
      fairshare: { enabled: true, intervalMs: 300_000, timeoutMs: 60_000 },
      reservations: { enabled: true, intervalMs: 60_000, timeoutMs: 30_000 },
      licenses: { enabled: true, intervalMs: 60_000, timeoutMs: 30_000 },
      slurmdbd: { enabled: true, intervalMs: 60_000, timeoutMs: 30_000 },
      native: { enabled: true, intervalMs: 60_000, timeoutMs: 30_000 },
    });
    // No Slurm URL in that block: loading succeeds, running does not.
    assert.equal(cfg.slurm.url, undefined);
    assert.throws(() => assertSourceConfigured(cfg), ConfigError);
  });

  // Every YAML block of the seed with server:/slurm:/collectors: keys, found afresh (skipped when the
  // seed is not on this machine; the verbatim copies above always run).
  const seedPath = '/work/shared/seeds/ha-deployment-patterns.md';
  test('every config block in the HA deployment seed loads', { skip: !existsSync(seedPath) && 'seed not present' }, () => {
    const md = readFileSync(seedPath, 'utf8');
    const configs: string[] = [];
    for (const m of md.matchAll(/```yaml\n([\s\S]*?)```/g)) {
      for (const doc of YAML.parseAllDocuments(m[1]!)) {
        const v: unknown = doc.toJS();
        if (!v || typeof v !== 'object') continue;
        const o = v as Record<string, unknown>;
        const isConfig = (x: unknown) => !!x && typeof x === 'object' && ['server', 'slurm', 'collectors'].some((k) => k in (x as object));
        if (isConfig(o)) configs.push(YAML.stringify(o));
        const data = o.data as Record<string, unknown> | undefined;
        for (const text of Object.values(data ?? {})) {
          if (typeof text === 'string' && isConfig(YAML.parse(text))) configs.push(text);
        }
      }
    }
    assert.ok(configs.length >= 2, `found ${configs.length} config blocks`);
    for (const text of configs) {
      const { data } = parseConfigText(text, {}, 'seed');
      const cfg = resolveFromData(data, [], {}, 'seed');
      assert.equal(cfg.server.listenAddress, ':9341');
    }
  });
});

describe('defaults', () => {
  test('without a file, flags or environment', async () => {
    const cfg = await resolveConfig({}, {}, fixedHost);
    assert.equal(cfg.server.listenAddress, ':9341');
    assert.equal(cfg.server.telemetryPath, '/metrics');
    assert.equal(cfg.server.maxConcurrentScrapes, 10);
    assert.equal(cfg.server.scrapeTimeoutMs, 30_000);
    // 3 × the longest default interval (partitions, 120 s) is longer than 5 minutes.
    assert.equal(cfg.server.stalenessLimitMs, undefined);
    assert.equal(stalenessLimitFor(cfg, 'partitions'), 360_000);
    assert.equal(stalenessLimitFor(cfg, 'nodes'), 300_000);
    assert.equal(stalenessLimitFor(cfg, 'fairshare'), 900_000);
    assert.equal(cfg.server.leaderElection.enabled, false);
    assert.equal(cfg.server.leaderElection.backend, 'none');
    assert.equal(cfg.server.leaderElection.mode, 'single');
    assert.equal(cfg.server.leaderElection.namespace, 'default');
    assert.equal(cfg.server.leaderElection.identity, 'os-host');
    assert.equal(cfg.slurm.maxResponseBytes, 2 * 1024 ** 3);
    assert.equal(cfg.slurm.maxConnections, 20);
    assert.deepEqual(cfg.limits, { perNode: true, maxReasonLength: 100, perUser: true, perAccount: true, perQos: true, maxUsers: 200, maxAccounts: 200, jobs: false, maxJobs: 1000 });
    assert.deepEqual(cfg.log, { level: 'info', format: 'logfmt' });
    assert.equal(cfg.demo, false);
    assert.deepEqual(Object.keys(cfg.collectors), ['cluster', 'nodes', 'jobs', 'partitions', 'scheduler', 'fairshare', 'reservations', 'licenses', 'slurmdbd', 'native']);
    assert.equal(cfg.slurm.source, 'rest');
    // Without `clusters:` the top-level sections are the one cluster, named by Slurm.
    assert.equal(cfg.clusters.length, 1);
    assert.deepEqual(cfg.clusters[0], { name: undefined, required: true, slurm: cfg.slurm, collectors: cfg.collectors, limits: cfg.limits });
  });

  test('identity falls back from POD_NAME to HOSTNAME to the host name', async () => {
    assert.equal((await resolveConfig({}, { POD_NAME: 'pod-1', HOSTNAME: 'h' }, fixedHost)).server.leaderElection.identity, 'pod-1');
    assert.equal((await resolveConfig({}, { POD_NAME: '', HOSTNAME: 'h' }, fixedHost)).server.leaderElection.identity, 'h');
    assert.equal((await resolveConfig({}, {}, fixedHost)).server.leaderElection.identity, 'os-host');
  });

  test('staleness limit: explicit value kept; one not above the longest interval refused', async () => {
    const { cfg } = await load('server:\n  stalenessLimit: 10m\n');
    assert.equal(cfg.server.stalenessLimitMs, 600_000);
    const { message } = await loadError('server:\n  stalenessLimit: 1m\n');
    assert.match(message, /server\.stalenessLimit: 1m must be longer than the longest enabled collector interval \(5m\)/);
  });

  test('limits.maxReasonLength 0 is accepted (the reason series off); a negative one is refused', async () => {
    const { cfg } = await load('limits:\n  maxReasonLength: 0\n  jobs: true\n  maxJobs: 50\n');
    assert.equal(cfg.limits.maxReasonLength, 0);
    assert.equal(cfg.limits.jobs, true);
    assert.equal(cfg.limits.maxJobs, 50);
    const { message } = await loadError('limits:\n  maxReasonLength: -1\n');
    assert.match(message, /limits\.maxReasonLength/);
  });

  test('empty values and empty sections count as unset', async () => {
    const { cfg } = await load('server:\n  webConfigFile:\ncollectors:\n  # nothing yet\nslurm:\n  url: http://h:6820/\n');
    assert.equal(cfg.server.webConfigFile, undefined);
    assert.equal(cfg.collectors.jobs!.intervalMs, 30_000);
    // trailing slash dropped so request paths do not double it
    assert.equal(cfg.slurm.url, 'http://h:6820');
  });

  test('an empty file is all defaults', async () => {
    const { cfg } = await load('');
    assert.equal(cfg.server.listenAddress, ':9341');
  });
});

describe('durations and sizes', () => {
  test('parse', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('1m'), 60_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration(30), 30_000);
    assert.equal(parseDuration('45'), 45_000);
    assert.equal(parseDuration('3x'), undefined);
    assert.equal(parseDuration('s'), undefined);
    assert.equal(parseDuration(-1), undefined);
    assert.equal(parseDuration(''), undefined);
    assert.equal(parseSize('2GiB'), 2 * 1024 ** 3);
    assert.equal(parseSize('512MiB'), 512 * 1024 ** 2);
    assert.equal(parseSize('100KB'), 100_000);
    assert.equal(parseSize(1234), 1234);
    assert.equal(parseSize('12 parsecs'), undefined);
  });

  test('format round-trips', () => {
    for (const ms of [0, 500, 1500, 30_000, 60_000, 5_400_000, 86_400_000]) assert.equal(parseDuration(formatDuration(ms)), ms);
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatSize(2 * 1024 ** 3), '2GiB');
    assert.equal(formatSize(1000), 1000);
  });

  test('numbers in the file are seconds; sizes accept bytes', async () => {
    const { cfg } = await load('server:\n  scrapeTimeout: 12\nslurm:\n  maxResponseSize: 1048576\n  requestTimeout: 1h30m\n');
    assert.equal(cfg.server.scrapeTimeoutMs, 12_000);
    assert.equal(cfg.slurm.maxResponseBytes, 1_048_576);
    assert.equal(cfg.slurm.requestTimeoutMs, 5_400_000);
  });
});

describe('environment expansion', () => {
  test('${VAR}, ${VAR:-default}, empty VAR, $$ and bare $', () => {
    const env = { HOST: 'ctl', EMPTY: '' };
    assert.equal(expandEnv('url: http://${HOST}:${PORT:-6820}', env, 'x'), 'url: http://ctl:6820');
    assert.equal(expandEnv('a: ${EMPTY:-fallback}', env, 'x'), 'a: fallback');
    assert.equal(expandEnv('a: "${EMPTY}"', env, 'x'), 'a: ""');
    assert.equal(expandEnv('a: $$HOME $${HOST} $HOST', env, 'x'), 'a: $HOME ${HOST} $HOST');
    // a commented-out reference to an unset variable is not an error
    assert.equal(expandEnv('# url: ${UNSET}\nb: 1', env, 'x'), '# url: ${UNSET}\nb: 1');
  });

  test('expanded values reach the config', async () => {
    const { cfg } = await load('slurm:\n  url: http://${SLURM_HOST}:${SLURM_PORT:-6820}\n  user: ${U:-slurm}\nserver:\n  leaderElection:\n    namespace: ${POD_NAMESPACE:-default}\n', {
      SLURM_HOST: 'slurmctl',
    });
    assert.equal(cfg.slurm.url, 'http://slurmctl:6820');
    assert.equal(cfg.slurm.user, 'slurm');
    assert.equal(cfg.server.leaderElection.namespace, 'default');
  });

  test('an unset variable without default is an error naming it and the line', async () => {
    const { message, path } = await loadError('server:\n  listenAddress: ":9341"\nslurm:\n  url: ${SLURM_URL_NOT_SET}\n');
    assert.equal(message, `config ${path}: line 4: environment variable SLURM_URL_NOT_SET is not set (set it, or write \${SLURM_URL_NOT_SET:-default})`);
  });

  test('a malformed reference is an error', () => {
    assert.throws(() => expandEnv('a: ${not valid}', {}, 'config f'), /config f: line 1: "\$\{not valid\}" is not a valid variable reference/);
    assert.throws(() => expandEnv('a: ${OPEN', {}, 'config f'), /config f: line 1: unterminated/);
  });
});

describe('precedence: flags > environment > file > defaults', () => {
  const file = 'slurm:\n  url: http://from-file:6820\n  user: file-user\nserver:\n  listenAddress: ":1111"\ncollectors:\n  nodes:\n    enabled: false\n  jobs:\n    enabled: true\n';

  test('file over defaults', async () => {
    const { cfg } = await load(file);
    assert.equal(cfg.slurm.url, 'http://from-file:6820');
    assert.equal(cfg.server.listenAddress, ':1111');
    assert.equal(cfg.collectors.nodes!.enabled, false);
  });

  test('environment over file', async () => {
    const { cfg } = await load(file, { SLURM_REST_URL: 'http://from-env:6820', SLURM_USER: 'env-user', SLURM_REST_API_VERSION: 'v0.0.38' });
    assert.equal(cfg.slurm.url, 'http://from-env:6820');
    assert.equal(cfg.slurm.user, 'env-user');
    assert.equal(cfg.slurm.apiVersion, 'v0.0.38');
  });

  test('flags over environment and file', async () => {
    const { cfg } = await load(file, { SLURM_REST_URL: 'http://from-env:6820' }, [
      '--slurm.url',
      'unix:///run/slurmrestd.socket',
      '--web.listen-address=127.0.0.1:9999',
      '--collector.nodes',
      '--no-collector.jobs',
      '--log.format',
      'json',
    ]);
    assert.equal(cfg.slurm.url, 'unix:///run/slurmrestd.socket');
    assert.equal(cfg.slurm.user, 'file-user');
    assert.equal(cfg.server.listenAddress, '127.0.0.1:9999');
    assert.equal(cfg.collectors.nodes!.enabled, true);
    assert.equal(cfg.collectors.jobs!.enabled, false);
    assert.equal(cfg.log.format, 'json');
  });

  test('a flag not given does not hide the file value', async () => {
    const { cfg } = await load(file, {}, ['--log.level', 'debug']);
    assert.equal(cfg.server.listenAddress, ':1111');
    assert.equal(cfg.collectors.nodes!.enabled, false);
  });

  test('token from SLURM_JWT, token file from SLURM_JWT_FILE; empty variables are unset', async () => {
    const { cfg } = await load('slurm:\n  token: from-file\n', { SLURM_JWT: 'from-env', SLURM_JWT_FILE: '/run/secrets/jwt', SLURM_REST_URL: '' });
    assert.equal(cfg.slurm.token, 'from-env');
    assert.equal(cfg.slurm.tokenFile, '/run/secrets/jwt');
    assert.equal(cfg.slurm.url, undefined);
  });

  test('demo flags', async () => {
    const cfg = await resolveConfig(opts('--demo', '--demo.nodes', '12', '--demo.jobs', '34'), {}, fixedHost);
    assert.equal(cfg.demo, true);
    assert.equal(cfg.demoNodes, 12);
    assert.equal(cfg.demoJobs, 34);
    assert.doesNotThrow(() => assertSourceConfigured(cfg));
  });

  test('flags after a subcommand reach that subcommand (program and check-config both carry them)', async () => {
    const program = addConfigOptions(new Command('slurm-exporter')).exitOverride();
    let seen: Record<string, unknown> = {};
    addConfigOptions(program.command('check-config')).action((_o: unknown, cmd: Command) => {
      seen = cmd.opts();
    });
    await program.parseAsync(['check-config', '--slurm.url', 'http://ctl:6820', '--no-collector.jobs'], { from: 'user' });
    const cfg = await resolveConfig(seen, {}, fixedHost);
    assert.equal(cfg.slurm.url, 'http://ctl:6820');
    assert.equal(cfg.collectors.jobs!.enabled, false);
  });

  test('there is no token flag', () => {
    assert.throws(() => opts('--slurm.token', 'x'), /unknown option/);
  });
});

describe('error messages', () => {
  test('bad duration names the file, key and value', async () => {
    const { message, path } = await loadError('collectors:\n  jobs:\n    interval: 3x\n');
    assert.equal(message, `config ${path}: collectors.jobs.interval: "3x" is not a duration (e.g. 30s, 1m)`);
  });

  test('unknown collector group names it and lists the known ones', async () => {
    const { message, path } = await loadError('collectors:\n  gpus:\n    interval: 30s\n');
    assert.equal(message, `config ${path}: collectors.gpus: unknown collector group "gpus" (known groups: cluster, nodes, jobs, partitions, scheduler, fairshare, reservations, licenses, slurmdbd, native)`);
    const typo = await loadError('collectors:\n  node:\n    interval: 30s\n');
    assert.match(typo.message, /collectors\.node: unknown collector group "node" \(did you mean "nodes"\? known groups: /);
  });

  test('unknown key inside a section lists the known keys there', async () => {
    const { message } = await loadError('slurm:\n  urll: http://x\n');
    assert.match(message, /slurm\.urll: unknown key "urll" \(did you mean "url"\? known keys here: source, cli, native, url, apiVersion, user, /);
    const far = await loadError('slurm:\n  endpoint: http://x\n');
    assert.match(far.message, /slurm\.endpoint: unknown key "endpoint" \(known keys here: source, cli, native, url, /);
  });

  test('a misspelt top-level section is an error, a foreign one a warning', async () => {
    const { message, path } = await loadError('colectors:\n  jobs:\n    interval: 1m\n');
    assert.equal(message, `config ${path}: colectors: unknown top-level key; did you mean "collectors"?`);
    const { warnings } = await load('replicas: 3\nresources: {}\n');
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /ignoring unknown top-level key "replicas" \(known keys: server, slurm, collectors/);
  });

  test('timeout not below interval', async () => {
    const { message, path } = await loadError('collectors:\n  nodes:\n    interval: 30s\n    timeout: 30s\n');
    assert.equal(message, `config ${path}: collectors.nodes.timeout: 30s must be shorter than collectors.nodes.interval (30s)`);
  });

  test('leader timings: renewDeadline must be below leaseDuration', async () => {
    const { message, path } = await loadError('server:\n  leaderElection:\n    enabled: true\n    leaseDuration: 10s\n    renewDeadline: 15s\n    retryPeriod: 2s\n');
    assert.equal(
      message,
      `config ${path}: server.leaderElection.renewDeadline: 15s must be shorter than leaseDuration (10s), else two leaders can overlap`,
    );
  });

  test('leader timings: retryPeriod must be below renewDeadline', async () => {
    const { message } = await loadError('server:\n  leaderElection:\n    enabled: true\n    retryPeriod: 10s\n');
    assert.match(message, /server\.leaderElection\.retryPeriod: 10s must be shorter than renewDeadline \(10s\)/);
  });

  test('leader backend and mode consistency; etcd endpoints from a list', async () => {
    assert.match((await loadError('server:\n  leaderElection:\n    mode: sharded\n')).message, /mode: "sharded" needs leader election/);
    assert.match((await loadError('server:\n  leaderElection:\n    enabled: true\n    backend: etcd\n')).message, /etcd\.endpoints: backend etcd needs at least one endpoint/);
    const { cfg } = await load('server:\n  leaderElection:\n    enabled: true\n    backend: etcd\n    mode: sharded\n    etcd:\n      endpoints: [http://e1:2379, http://e2:2379]\n');
    assert.deepEqual(cfg.server.leaderElection.etcdEndpoints, ['http://e1:2379', 'http://e2:2379']);
    assert.equal(cfg.server.leaderElection.mode, 'sharded');
  });

  test('several problems are all reported', async () => {
    const { message } = await loadError('server:\n  scrapeTimeout: soon\nlog:\n  level: verbose\n');
    const lines = message.split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /server\.scrapeTimeout: "soon" is not a duration/);
    assert.match(lines[1]!, /log\.level: "verbose" is not one of debug, info, warn, error/);
  });

  test('YAML syntax error gives the line', async () => {
    const { message, path } = await loadError('server:\n  listenAddress: ":9341"\n    telemetryPath: /m\nslurm: {\n');
    assert.match(message, new RegExp(`^config ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: YAML syntax error at line 3, column \\d+: `));
  });

  test('a section that is not a mapping', async () => {
    const { message } = await loadError('server: 9341\n');
    assert.match(message, /server: must be a mapping of keys, got 9341/);
  });

  test('a Kubernetes ConfigMap passed as the file is explained', async () => {
    const { message } = await loadError(`apiVersion: v1\nkind: ConfigMap\ndata:\n  config.yaml: |\n    server: {}\n`);
    assert.match(message, /this is a Kubernetes ConfigMap/);
  });

  test('errors from flags and environment name the flag or variable', async () => {
    await assert.rejects(resolveConfig(opts('--slurm.url', 'ftp://x'), {}, fixedHost), (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.message, 'flag --slurm.url (slurm.url): "ftp://x": the scheme must be http, https or unix');
      return true;
    });
    await assert.rejects(resolveConfig({}, { SLURM_REST_API_VERSION: '0.0.38' }, fixedHost), {
      message: 'environment variable SLURM_REST_API_VERSION (slurm.apiVersion): "0.0.38" is not an API version (e.g. v0.0.40)',
    });
    await assert.rejects(resolveConfig(opts('--demo', '--demo.nodes', 'many'), {}, fixedHost), { message: 'flag --demo.nodes (demo.nodes): "many" is not a whole number' });
    await assert.rejects(resolveConfig(opts('--web.listen-address', 'localhost'), {}, fixedHost), /flag --web.listen-address \(server.listenAddress\): "localhost" is not a listen address/);
  });

  test('missing file', async () => {
    await assert.rejects(resolveConfig(opts('--config.file', join(dir, 'nope.yaml')), {}, fixedHost), {
      message: `config ${join(dir, 'nope.yaml')}: cannot read the file: no such file`,
    });
  });

  test('jwtKeyFile needs a user', async () => {
    const { message } = await loadError('slurm:\n  url: http://h:6820\n  jwtKeyFile: /etc/slurm/jwt_hs256.key\n');
    assert.match(message, /slurm\.user: is required with slurm\.jwtKeyFile/);
    const { cfg } = await load('slurm:\n  url: http://h:6820\n  jwtKeyFile: /etc/slurm/jwt_hs256.key\n', { SLURM_USER: 'slurm' });
    assert.equal(cfg.slurm.user, 'slurm');
  });
});

describe('source check', () => {
  test('without a Slurm source the message says how to configure one', async () => {
    const cfg = await resolveConfig({}, {}, fixedHost);
    assert.throws(
      () => assertSourceConfigured(cfg),
      (e: Error) => {
        assert.ok(e instanceof ConfigError);
        for (const s of ['--slurm.url', 'SLURM_REST_URL', 'SLURM_JWT', '--slurm.token-file', '--slurm.jwt-key-file', '--demo']) assert.ok(e.message.includes(s), `mentions ${s}`);
        return true;
      },
    );
    const withSlurm = (slurm: typeof cfg.slurm) => ({ ...cfg, slurm, clusters: [{ ...cfg.clusters[0]!, slurm }] });
    assert.doesNotThrow(() => assertSourceConfigured(withSlurm({ ...cfg.slurm, url: 'http://h:6820' })));
    assert.doesNotThrow(() => assertSourceConfigured(withSlurm({ ...cfg.slurm, source: 'cli' })), 'the CLI source needs no URL');
  });

  test('with several clusters the message names each one without a URL', async () => {
    const { cfg } = await load('clusters:\n  - name: a\n    slurm: { url: "http://a:6820" }\n  - name: b\n  - name: c\n    slurm: { source: cli }\n');
    assert.throws(() => assertSourceConfigured(cfg), /no slurmrestd URL for cluster "b": set slurm\.url in its clusters\[\] entry/);
  });
});

describe('redaction', () => {
  const jwt = fakeJwt({ sun: 'root', exp: 4102444800 }, 'signature-signature');

  test('check-config output has no token and loads back as the same configuration', async () => {
    const { cfg } = await load(SEED_PERFORMANCE + 'limits:\n  perNode: false\n', { SLURM_JWT: jwt, SLURM_REST_URL: 'https://ctl:6820', POD_NAME: 'p' });
    assert.equal(cfg.slurm.token, jwt);
    const text = renderEffectiveConfig(cfg);
    assert.ok(!text.includes(jwt), 'token absent');
    assert.ok(!text.includes('c2lnbmF0dXJl'), 'no part of the token');
    assert.match(text, /token: <redacted>/);
    const { data, warnings } = parseConfigText(text, {}, 'rendered');
    assert.deepEqual(warnings, []);
    const again = resolveFromData(data, [], {}, 'rendered');
    const slurm = { ...cfg.slurm, token: '<redacted>' };
    assert.deepEqual(again, { ...cfg, slurm, clusters: [{ ...cfg.clusters[0]!, slurm }] });
  });

  test('redactConfig copies; masks JWT-looking text and URL passwords anywhere', async () => {
    const cfg = await resolveConfig({}, { SLURM_JWT: jwt, SLURM_REST_URL: 'http://admin:hunter2@ctl:6820' }, fixedHost);
    const withJwtInLabel = { ...cfg, slurm: { ...cfg.slurm, cluster: `oops ${jwt}` } };
    const r = redactConfig(withJwtInLabel);
    assert.equal(r.slurm.token, '<redacted>');
    assert.equal(r.slurm.cluster, 'oops <redacted-jwt>');
    assert.equal(r.slurm.url, 'http://admin:<redacted>@ctl:6820');
    assert.equal(withJwtInLabel.slurm.token, jwt, 'original untouched');
    // paths to secrets are not secrets
    const f = redactConfig({ ...cfg, slurm: { ...cfg.slurm, tokenFile: '/run/jwt', jwtKeyFile: '/etc/slurm/jwt.key' } });
    assert.equal(f.slurm.tokenFile, '/run/jwt');
    assert.equal(f.slurm.jwtKeyFile, '/etc/slurm/jwt.key');
  });

  test('a token never appears in error messages', async () => {
    const bad = await loadError(`slurm:\n  token: [${jwt}, plain-secret]\n`);
    assert.match(bad.message, /slurm\.token: is not a valid value/);
    assert.ok(!bad.message.includes(jwt) && !bad.message.includes('plain-secret'), bad.message);
    // pasted into the wrong key, it is masked too
    const wrong = await loadError(`slurm:\n  url: ${jwt}\n`);
    assert.match(wrong.message, /slurm\.url: "<redacted-jwt>" is not a URL/);
    assert.ok(!wrong.message.includes(jwt));
  });
});
