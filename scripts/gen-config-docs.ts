// Generates docs/configuration.md from the schema (keys, types, defaults, descriptions) and the flag and
// environment tables, so the reference cannot drift from the code. test/unit/config-docs.test.ts fails
// when the committed file differs. Usage: node scripts/gen-config-docs.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listFields, COLLECTOR_GROUPS, type FieldInfo } from '../src/config/schema.ts';
import { CONFIG_ENV, CONFIG_FLAGS, flagHelp } from '../src/config/flags.ts';

export const CONFIG_DOCS_PATH = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function code(s: string): string {
  return `\`${s}\``;
}

function defaultOf(f: FieldInfo): string {
  if (f.doc?.defaultText !== undefined) return f.doc.defaultText.replace(/(\$[A-Z_]+)/g, '`$1`');
  const v = f.defaultValue;
  if (v === undefined) return '';
  return code(typeof v === 'string' ? v : JSON.stringify(v));
}

const SECTIONS: readonly { prefix: string; title: string; intro: string }[] = [
  { prefix: 'server.', title: 'server', intro: 'The HTTP side: /metrics, /health, /ready, /leader.' },
  { prefix: 'server.collection.', title: 'server.collection', intro: 'Where collection runs. By default each cluster has its own worker thread that fetches, parses, runs the collectors and renders the page; the main thread only serves the bytes it is handed, so a scrape never waits behind a parse. A thread that crashes or hangs is restarted, and the last good data stays served with its age.' },
  { prefix: 'server.leaderElection.', title: 'server.leaderElection', intro: 'High availability: a Kubernetes Lease (coordination.k8s.io/v1) or an etcd key. Timings as in client-go; they are checked against each other.' },
  { prefix: 'slurm.', title: 'slurm', intro: 'Where Slurm data comes from. For slurmrestd (the default source) give a URL and one credential: a token (SLURM_JWT), a token file, or Slurm\'s JWT key so the exporter signs its own tokens. The rate limit and cache apply to every source.' },
  { prefix: 'slurm.cli.', title: 'slurm.cli', intro: 'slurm.source cli: sinfo, squeue, scontrol, sdiag and sshare on this host, run as the exporter\'s user (munge authentication). Their `--json` output is used where the installed release has it, delimited or one-record-per-line text otherwise; each command ends at its collector group\'s timeout, with its process group.' },
  { prefix: 'slurm.native.', title: 'slurm.native', intro: 'slurmctld\'s own OpenMetrics endpoint (Slurm 25.11+, `MetricsType=metrics/openmetrics`), read by the native collector group (docs/native-metrics.md), and the only source with slurm.source native.' },
  { prefix: 'collectors.', title: 'collectors', intro: `One block per collector group: ${COLLECTOR_GROUPS.join(', ')}. Each group is fetched from Slurm once per interval, whatever the number of scrapers. Any other group name is an error.` },
  { prefix: 'limits.', title: 'limits', intro: 'Bounds on label cardinality.' },
  { prefix: 'log.', title: 'log', intro: 'Logging on stderr. Secrets are redacted, and anything that looks like a JWT is masked even inside messages.' },
  { prefix: 'clusters', title: 'clusters', intro: 'Several clusters in one process. Each entry has a `name` (the `cluster` label of its series), `required` (default true: `/ready` waits for this cluster; false keeps the process ready while it is down) and its own `slurm`, `collectors` and `limits` sections with the keys above; what an entry leaves out comes from the top-level sections (flags and environment variables set those). Without `clusters:` the top-level sections are the one cluster. `/ready` reports each cluster; in sharded mode each (cluster, collector group) is one unit of work.' },
  { prefix: 'demo.', title: 'demo', intro: 'A simulated cluster in process, for trying the exporter without Slurm.' },
  { prefix: 'backup.', title: 'backup', intro: '`slurm-exporter backup ...` (docs/backup.md): one block per backup type (configuration, monitoring, deployment, certificates, logs) with its schedule and retention, and the listen address of `backup schedule`.' },
  { prefix: 'backup.primary.', title: 'backup.primary', intro: 'Where backups go first: a local directory (`path`) or an S3 bucket (`s3.bucket`), one of the two.' },
  { prefix: 'backup.secondary.', title: 'backup.secondary', intro: 'The off-site copy, with the keys of backup.primary; restore and verify read it when the primary is unreachable.' },
  { prefix: 'backup.encryption.', title: 'backup.encryption', intro: 'AES-256-GCM archives. The key comes from an environment variable or a file, never from a flag. Without a key archives are written unencrypted and Kubernetes Secrets are kept as metadata only.' },
  { prefix: 'backup.prometheus.', title: 'backup.prometheus', intro: 'The Prometheus whose TSDB the monitoring backup snapshots.' },
  { prefix: 'backup.kubernetes.', title: 'backup.kubernetes', intro: 'The Kubernetes API the deployment backup reads the release\'s objects from.' },
  { prefix: 'backup.paths.', title: 'backup.paths', intro: 'The files the configuration, certificates and logs backups read. Unset paths are skipped.' },
];

export function renderConfigDocs(): string {
  const fields = listFields();
  const flagByPath = new Map<string, string[]>();
  for (const f of CONFIG_FLAGS) {
    if (!f.path) continue;
    const list = flagByPath.get(f.path) ?? [];
    list.push(f.arg ? `${f.flag} ${f.arg}` : f.flag);
    flagByPath.set(f.path, list);
  }
  const envByPath = new Map(CONFIG_ENV.map((e) => [e.path, e.env]));

  const out: string[] = [];
  const p = (s = '') => out.push(s);
  p('# Configuration reference');
  p();
  p('<!-- Generated by scripts/gen-config-docs.ts from src/config/schema.ts and src/config/flags.ts. Do not edit; run `npm run docs`. -->');
  p();
  p('The exporter reads, from lowest to highest precedence: built-in defaults, the YAML file given with');
  p('`--config.file`, environment variables, then command-line flags. `slurm-exporter check-config` prints the');
  p('effective result (secrets redacted) in the file format below, and exits 2 on any error.');
  p();
  p('## File format');
  p();
  p('- YAML, in the shape of the HA deployment guide: `server:`, `slurm:`, `collectors:`, plus `limits:`, `log:`, `demo:`.');
  p('  The text of a Kubernetes ConfigMap\'s `data."config.yaml"` loads as is.');
  p('- Unknown keys inside these sections are errors (so typos do not pass silently). Unknown top-level keys');
  p('  such as `resources:` are ignored with a warning, unless they look like a misspelt section (`colectors:`).');
  p('- `${VAR}` and `${VAR:-default}` are replaced from the environment before parsing (`${VAR:-default}` also');
  p('  when VAR is empty); `$$` is a literal `$`; an unset `${VAR}` without default is an error naming VAR.');
  p('  Lines that are comments are not expanded. Quote the value if the replacement may contain `: ` or `#`.');
  p('- Durations: `500ms`, `30s`, `1m`, `1h30m`, `2d`; a plain number is seconds.');
  p('- Sizes: bytes, or `KB`/`MB`/`GB` (powers of 1000) and `KiB`/`MiB`/`GiB`/`TiB` (powers of 1024), e.g. `2GiB`.');
  p('- An empty value (`webConfigFile:`) means "not set".');
  p();
  p('Errors name the source, the key and the problem, e.g.');
  p('`config /etc/slurm-exporter.yaml: collectors.jobs.interval: "3x" is not a duration (e.g. 30s, 1m)`.');
  p();
  p('## Keys');
  const done = new Set<string>();
  for (const s of SECTIONS) {
    // A key goes to the most specific section that matches it.
    const rows = fields.filter(
      (f) => f.path.startsWith(s.prefix) && !SECTIONS.some((o) => o.prefix.length > s.prefix.length && o.prefix.startsWith(s.prefix) && f.path.startsWith(o.prefix)),
    );
    if (rows.length === 0) continue;
    p();
    p(`### ${s.title}`);
    p();
    p(s.intro);
    p();
    p('| Key | Type | Default | Env | Flag | Description |');
    p('|---|---|---|---|---|---|');
    for (const f of rows) {
      done.add(f.path);
      const env = envByPath.get(f.path);
      const flags = flagByPath.get(f.path) ?? [];
      p(
        `| ${cell(code(f.path))} | ${cell(f.doc?.type ?? '')} | ${cell(defaultOf(f))} | ${env ? code(env) : ''} | ${cell(flags.map(code).join(', '))} | ${cell(f.doc?.description ?? '')} |`,
      );
    }
  }
  const missing = fields.filter((f) => !done.has(f.path));
  if (missing.length > 0) throw new Error(`gen-config-docs: no section for ${missing.map((f) => f.path).join(', ')}`);

  p();
  p('## Checks across keys');
  p();
  p('- `collectors.<group>.timeout` must be shorter than that group\'s `interval`.');
  p('- `server.leaderElection`: `renewDeadline` < `leaseDuration` and `retryPeriod` < `renewDeadline`.');
  p('- `server.leaderElection`: `mode` active-passive or sharded needs `enabled: true`; backend etcd needs `etcd.endpoints`.');
  p('- `server.stalenessLimit`, when set, must be longer than the longest enabled collector interval.');
  p('- `slurm.jwtKeyFile` needs `slurm.user`.');
  p('- Running (not `check-config`) needs `slurm.url` or `--demo`.');
  p();
  p('## Flags');
  p();
  p('| Flag | Description |');
  p('|---|---|');
  for (const f of CONFIG_FLAGS) p(`| ${code(f.arg ? `${f.flag} ${f.arg}` : f.flag)} | ${cell(flagHelp(f))} |`);
  p();
  p('There is deliberately no flag for the token: command lines are visible to every local user in `ps`.');
  p();
  p('## Environment variables');
  p();
  p('| Variable | Sets |');
  p('|---|---|');
  for (const e of CONFIG_ENV) p(`| ${code(e.env)} | ${code(e.path)} |`);
  p('| `POD_NAME`, else `HOSTNAME` | default of `server.leaderElection.identity` |');
  p('| `POD_NAMESPACE` | default of `server.leaderElection.namespace` |');
  p();
  p('An empty variable counts as unset.');
  p();
  p('## Example');
  p();
  p('The performance-tuning block of the HA deployment guide with its leader election, plus a Slurm URL and');
  p('token file:');
  p();
  p('```yaml');
  p(EXAMPLE.trimEnd());
  p('```');
  return `${out.join('\n')}\n`;
}

const EXAMPLE = `server:
  maxConcurrentScrapes: 10
  scrapeTimeout: 30s
  leaderElection:
    enabled: true
    leaseDuration: 15s
    renewDeadline: 10s
    retryPeriod: 2s

slurm:
  url: \${SLURM_REST_URL:-http://slurmctl:6820}
  tokenFile: /var/run/secrets/slurm/token
  maxConnections: 20
  connectionTimeout: 10s
  requestTimeout: 30s
  keepAlive: true
  rateLimit:
    enabled: true
    requestsPerSecond: 10
    burstSize: 20
  cache:
    enabled: true
    ttl: 60s
    maxSize: 1000

collectors:
  cluster:
    interval: 30s
    timeout: 20s
  nodes:
    interval: 60s
    timeout: 30s
  jobs:
    interval: 30s
    timeout: 25s
  partitions:
    interval: 120s
    timeout: 60s
`;

/** The example in the docs, for the test that checks it loads. */
export const CONFIG_DOCS_EXAMPLE = EXAMPLE;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = renderConfigDocs();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(CONFIG_DOCS_PATH, 'utf8');
    } catch {
      // missing counts as different
    }
    if (current !== text) {
      process.stderr.write(`${CONFIG_DOCS_PATH} is out of date: run npm run docs\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(CONFIG_DOCS_PATH, text);
    process.stdout.write(`wrote ${CONFIG_DOCS_PATH}\n`);
  }
}
