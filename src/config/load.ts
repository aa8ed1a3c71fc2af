// Loads the effective configuration: defaults < config file < environment < flags. Every problem is a
// ConfigError whose message says where (file, variable or flag), which key, and what is wrong.
import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import * as YAML from 'yaml';
import type * as z from 'zod';
import type { ExporterConfig } from './types.ts';
import { ConfigError } from './errors.ts';
import { expandEnv } from './env.ts';
import { attributeName, CONFIG_FILE_FLAG, envOverlays, flagOverlays, type Overlay } from './flags.ts';
import { buildConfigSchema, COLLECTOR_GROUPS, knownKeysAt, toFileShape, TOP_LEVEL_KEYS } from './schema.ts';
import { isSecretKey, redactConfig, redactText } from './redact.ts';

export { ConfigError } from './errors.ts';
export { addConfigOptions } from './flags.ts';
export { redactConfig } from './redact.ts';

export interface LoadedFile {
  /** The file's settings, nulls and unknown top-level keys removed. */
  data: Record<string, unknown>;
  warnings: string[];
}

const KNOWN_TOP = new Set<string>(TOP_LEVEL_KEYS);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// An empty YAML value (`webConfigFile:`) or a section whose keys are all commented out means "not set".
function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripNulls);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = stripNulls(x);
  return out;
}

/** Parses config text (after ${VAR} expansion). @param where e.g. `config /etc/slurm-exporter.yaml` */
export function parseConfigText(text: string, env: NodeJS.ProcessEnv, where: string): LoadedFile {
  const expanded = expandEnv(text, env, where);
  const doc = YAML.parseDocument(expanded, { prettyErrors: false });
  const err = doc.errors[0];
  if (err) {
    const offset = err.pos[0];
    const before = expanded.slice(0, offset);
    const line = before.split('\n').length;
    const col = offset - before.lastIndexOf('\n');
    const at = ` at line ${line}, column ${col}`;
    const what = err.message.split('\n')[0] ?? err.message;
    throw new ConfigError(`${where}: YAML syntax error${at}: ${what}`);
  }
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // e.g. alias expansion beyond the limit (a "billion laughs" file)
    throw new ConfigError(`${where}: ${(e as Error).message}`);
  }
  const root = stripNulls(js);
  if (root === undefined || root === null) return { data: {}, warnings: [] };
  if (!isPlainObject(root)) throw new ConfigError(`${where}: the file must be a YAML mapping with keys such as server:, slurm:, collectors:`);
  if (root.kind === 'ConfigMap' && isPlainObject(root.data)) {
    throw new ConfigError(`${where}: this is a Kubernetes ConfigMap; mount it and pass the file from its data (e.g. data."config.yaml"), not the manifest`);
  }
  const warnings: string[] = [];
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(root)) {
    if (KNOWN_TOP.has(k)) {
      data[k] = v;
      continue;
    }
    // Foreign sections (a Kubernetes-style resources: block) are tolerated, but a misspelt section would silently
    // fall back to defaults, so a near miss is an error.
    const near = closest(k, TOP_LEVEL_KEYS);
    if (near) throw new ConfigError(`${where}: ${k}: unknown top-level key; did you mean "${near}"?`);
    const hint = k === 'resources' ? 'CPU/memory requests and limits belong in the pod spec or the Helm values' : `known keys: ${TOP_LEVEL_KEYS.join(', ')}`;
    warnings.push(`${where}: ignoring unknown top-level key "${k}" (${hint})`);
  }
  warnings.push(...dropBatchSize(data, where));
  return { data, warnings };
}

// `collectors.<group>.batchSize` appears in widely copied example configurations, but slurmrestd has no paging:
// every answer comes whole. It is dropped with a warning instead of refused, and never promised to do anything.
function dropBatchSize(data: Record<string, unknown>, where: string): string[] {
  const out: string[] = [];
  const collectors = data.collectors;
  if (!isPlainObject(collectors)) return out;
  for (const [group, gc] of Object.entries(collectors)) {
    if (!isPlainObject(gc) || !('batchSize' in gc)) continue;
    delete gc.batchSize;
    out.push(`${where}: ignoring collectors.${group}.batchSize: slurmrestd has no paging and sends each answer whole, so it has no effect; remove it`);
  }
  return out;
}

export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv): Promise<LoadedFile> {
  const where = `config ${path}`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new ConfigError(`${where}: cannot read the file: ${why}`);
  }
  return parseConfigText(text, env, where);
}

function setPath(root: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = root;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (next === undefined) cur[p] = {};
    // A non-mapping here is the file's error; leave it for the schema to report.
    else if (!isPlainObject(next)) return;
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known key a typo most likely meant (case-insensitive, at most 2 edits), if any. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD && d < k.length / 2) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'a list' : v === null || v === undefined ? 'nothing' : JSON.stringify(v);
}

function formatIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType, where: string, origins: Map<string, string>): string {
  const lines: string[] = [];
  const line = (path: readonly PropertyKey[], msg: string) => {
    const p = path.map(String).join('.');
    const origin = origins.get(p);
    if (origin) lines.push(`${origin} (${p}): ${msg}`);
    else lines.push(p ? `${where}: ${p}: ${msg}` : `${where}: ${msg}`);
  };
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path) ?? [];
      for (const key of issue.keys) {
        if (issue.path.length === 1 && issue.path[0] === 'collectors') {
          const near = closest(key, COLLECTOR_GROUPS);
          line([...issue.path, key], `unknown collector group "${key}" (${near ? `did you mean "${near}"? ` : ''}known groups: ${COLLECTOR_GROUPS.join(', ')})`);
        } else {
          const near = closest(key, known);
          line([...issue.path, key], `unknown key "${key}" (${near ? `did you mean "${near}"? ` : ''}known keys here: ${known.join(', ')})`);
        }
      }
    } else if (issue.code === 'invalid_type' && issue.expected === 'object') {
      line(issue.path, `must be a mapping of keys, got ${show(issue.input)}`);
    } else if (isSecretKey(String(issue.path[issue.path.length - 1] ?? ''))) {
      // The message may quote the value.
      line(issue.path, 'is not a valid value (a non-empty string; value not shown)');
    } else {
      line(issue.path, issue.message);
    }
  }
  return redactText(lines.join('\n'));
}

export interface ResolveOptions {
  /** Receives non-fatal problems (unknown top-level keys); default: stderr. */
  warn?: (message: string) => void;
  /** Identity fallback after POD_NAME and HOSTNAME; default os.hostname(). */
  hostname?: () => string;
}

/**
 * The effective configuration from commander's parsed options (see addConfigOptions), the environment
 * and the --config.file they name. Throws ConfigError on any problem.
 */
export async function resolveConfig(opts: Record<string, unknown>, env: NodeJS.ProcessEnv, options: ResolveOptions = {}): Promise<ExporterConfig> {
  const warn = options.warn ?? ((m: string) => process.stderr.write(`slurm-exporter: warning: ${m}\n`));
  const file = opts[attributeName(CONFIG_FILE_FLAG)];
  if (file !== undefined && (typeof file !== 'string' || file === '')) throw new ConfigError(`flag ${CONFIG_FILE_FLAG}: needs a file name`);
  const where = file ? `config ${file}` : 'config';
  const loaded = file ? await loadConfigFile(file, env) : { data: {}, warnings: [] };
  for (const w of loaded.warnings) warn(w);
  return resolveFromData(loaded.data, [...envOverlays(env), ...flagOverlays(opts)], env, where, options.hostname);
}

/** `b` over `a`, mapping by mapping; lists and scalars in `b` replace those in `a`. */
function deepMerge(a: unknown, b: unknown): unknown {
  if (!isPlainObject(a) || !isPlainObject(b)) return b === undefined ? structuredClone(a) : b;
  const out: Record<string, unknown> = structuredClone(a);
  for (const [k, v] of Object.entries(b)) out[k] = deepMerge(a[k], v);
  return out;
}

const CLUSTER_SECTIONS = ['slurm', 'collectors', 'limits'] as const;

/**
 * Each clusters[] entry gets the top-level slurm, collectors and limits under its own (flags and environment
 * included, as they set top-level keys), so the schema checks every entry as a whole cluster.
 */
function expandClusters(raw: Record<string, unknown>): void {
  if (!Array.isArray(raw.clusters)) return;
  raw.clusters = raw.clusters.map((entry: unknown) => {
    if (!isPlainObject(entry)) return entry;
    const out: Record<string, unknown> = { ...entry };
    for (const k of CLUSTER_SECTIONS) {
      if (raw[k] === undefined && entry[k] === undefined) continue;
      out[k] = deepMerge(raw[k] ?? {}, entry[k] ?? {});
    }
    // The entry's name is its cluster label; a top-level slurm.cluster must not rename every entry.
    if (isPlainObject(out.slurm)) delete out.slurm.cluster;
    return out;
  });
}

/** Validates file data with overlays applied in order (later wins). Exposed for tests and tools. */
export function resolveFromData(
  data: Record<string, unknown>,
  overlays: readonly Overlay[],
  env: NodeJS.ProcessEnv,
  where = 'config',
  hostname: () => string = osHostname,
): ExporterConfig {
  const raw = structuredClone(data);
  const origins = new Map<string, string>();
  for (const o of overlays) {
    setPath(raw, o.path, o.value);
    origins.set(o.path, o.origin);
  }
  expandClusters(raw);
  const schema = buildConfigSchema({ env, hostname });
  const result = schema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues, schema, where, origins));
  return result.data;
}

/** Throws unless there is something to collect from: a Slurm URL, or --demo. */
export function assertSourceConfigured(cfg: ExporterConfig): void {
  if (cfg.demo) return;
  const missing = cfg.clusters.filter((c) => c.slurm.source === 'rest' && !c.slurm.url);
  if (missing.length === 0) return;
  if (cfg.clusters.length > 1 || cfg.clusters[0]!.name !== undefined) {
    throw new ConfigError(`no slurmrestd URL for cluster ${missing.map((c) => `"${c.name}"`).join(', ')}: set slurm.url in its clusters[] entry (or at the top level for all), or slurm.source cli / native`);
  }
  throw new ConfigError(
    'no Slurm source configured: give the slurmrestd URL with --slurm.url or SLURM_REST_URL (or slurm.url in --config.file), ' +
      'and a credential: SLURM_JWT, --slurm.token-file (SLURM_JWT_FILE) or --slurm.jwt-key-file with --slurm.user; ' +
      'or --slurm.source cli to read the Slurm commands on this host; or try --demo to run against a simulated cluster',
  );
}

/** The effective configuration as YAML in the config file's shape, secrets redacted (check-config). */
export function renderEffectiveConfig(cfg: ExporterConfig): string {
  return `# slurm-exporter effective configuration (secrets redacted)\n${YAML.stringify(toFileShape(redactConfig(cfg)), { lineWidth: 0 })}`;
}
