// Sources that read files from this host: the configuration (exporter config, web config, rules, Alertmanager
// config, dashboards, Helm values), the certificates the web config names, and the exporter's log files.
// Every file records its origin, so restore puts it back where it was unless told --target.
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { REDACTED, redactText, redactValue } from '../../config/redact.ts';
import type { BackupSource, BackupType, SourceContext, SourceFile } from '../types.ts';

/** A file to back up: its path in the archive and on this host. */
export interface FileSpec {
  archivePath: string;
  file: string;
  /** In an unencrypted archive: YAML with secret values replaced, or (secret) the file left out entirely. */
  plain?: 'redact-yaml' | 'redact-text' | 'leave-out';
}

/** A YAML file with the values of secret-looking keys and of basic_auth_users (password hashes) replaced. */
export function redactYaml(text: string): string {
  const doc = redactValue(YAML.parse(text) as unknown);
  if (doc && typeof doc === 'object' && 'basic_auth_users' in doc) {
    const users = (doc as { basic_auth_users: unknown }).basic_auth_users;
    if (users && typeof users === 'object') for (const u of Object.keys(users)) (users as Record<string, unknown>)[u] = REDACTED;
  }
  return YAML.stringify(doc, { lineWidth: 0 });
}

/** The redacted copy of a file, for an unencrypted archive. */
async function redactedFile(spec: FileSpec): Promise<SourceFile> {
  const f = await sourceFile(spec);
  const text = await readFile(f.origin as string, 'utf8');
  const bytes = Buffer.from(spec.plain === 'redact-yaml' ? redactYaml(text) : redactText(text));
  return { ...f, size: bytes.length, read: async function* () {
    yield bytes;
  } };
}

async function sourceFile(spec: FileSpec): Promise<SourceFile> {
  const abs = path.resolve(spec.file);
  let s;
  try {
    s = await stat(abs);
  } catch (err) {
    throw new Error(`backup: cannot read ${abs} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  if (!s.isFile()) throw new Error(`backup: ${abs} is not a regular file`);
  return {
    path: spec.archivePath,
    mode: s.mode & 0o7777,
    size: s.size,
    mtimeMs: s.mtimeMs,
    origin: abs,
    read: () => createReadStream(abs) as AsyncIterable<Buffer>,
  };
}

/** A source over a fixed list of files (computed when collecting, so it sees the files as they are then). */
export class FileSource implements BackupSource {
  readonly type: BackupType;
  private readonly what: string;
  private readonly specs: (ctx: SourceContext) => Promise<FileSpec[]>;

  constructor(type: BackupType, what: string, specs: (ctx: SourceContext) => Promise<FileSpec[]>) {
    this.type = type;
    this.what = what;
    this.specs = specs;
  }

  describe(): string {
    return this.what;
  }

  async *collect(ctx: SourceContext): AsyncIterable<SourceFile> {
    for (const spec of await this.specs(ctx)) {
      ctx.signal.throwIfAborted();
      if (ctx.encrypted || spec.plain === undefined) yield await sourceFile(spec);
      else if (spec.plain === 'leave-out') ctx.log(`${spec.file} left out: secrets go only into an encrypted archive (configure backup.encryption)`);
      else yield await redactedFile(spec);
    }
  }
}

/** Regular files under dir (recursively), '/'-separated and relative to it, sorted; [] when dir is absent. */
export async function filesUnder(dir: string, filter: (name: string) => boolean = () => true): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(d, e.name), r);
      else if (e.isFile() && filter(e.name)) out.push(r);
    }
  };
  await walk(path.resolve(dir), '');
  return out;
}

export interface ConfigurationPaths {
  configFile?: string | undefined;
  webConfigFile?: string | undefined;
  rulesFile?: string | undefined;
  alertmanagerFile?: string | undefined;
  dashboardsDir?: string | undefined;
  helmValuesFile?: string | undefined;
}

export function configurationSource(p: ConfigurationPaths): FileSource {
  const single: [string | undefined, (f: string) => string][] = [
    [p.configFile, (f) => `config/${path.basename(f)}`],
    [p.webConfigFile, (f) => `web/${path.basename(f)}`],
    [p.rulesFile, () => 'monitoring/prometheus-rules.yaml'],
    [p.alertmanagerFile, () => 'monitoring/alertmanager.yaml'],
    [p.helmValuesFile, (f) => `helm/${path.basename(f)}`],
  ];
  const named = single.filter((s): s is [string, (f: string) => string] => s[0] !== undefined);
  const what = `configuration files: ${[...named.map((n) => n[0]), ...(p.dashboardsDir ? [`${p.dashboardsDir}/*.json`] : [])].join(', ') || 'none configured'}`;
  return new FileSource('configuration', what, async () => {
    // Every file here may hold a token or a password (Alertmanager receivers, Helm values): redacted when plain.
    const specs: FileSpec[] = named.map(([file, name]) => ({ archivePath: name(file), file, plain: 'redact-yaml' }));
    if (p.dashboardsDir) {
      const dir = p.dashboardsDir;
      for (const rel of await filesUnder(dir, (n) => n.endsWith('.json'))) specs.push({ archivePath: `monitoring/dashboards/${rel}`, file: path.join(dir, rel), plain: 'redact-text' });
    }
    return specs;
  });
}

/** The TLS files a web config names (cert_file, key_file, client_ca_file), relative ones against its directory. */
export async function webConfigTlsFiles(webConfigFile: string): Promise<{ key: string; file: string }[]> {
  let text: string;
  try {
    text = await readFile(webConfigFile, 'utf8');
  } catch (err) {
    throw new Error(`backup certificates: cannot read the web config ${webConfigFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  const doc = (YAML.parse(text) ?? {}) as { tls_server_config?: Record<string, unknown> };
  const tls = doc.tls_server_config ?? {};
  const dir = path.dirname(path.resolve(webConfigFile));
  return ['cert_file', 'key_file', 'client_ca_file'].flatMap((key) => {
    const v = tls[key];
    return typeof v === 'string' && v !== '' ? [{ key, file: path.resolve(dir, v) }] : [];
  });
}

export function certificatesSource(webConfigFile: string | undefined): FileSource {
  return new FileSource('certificates', `TLS files named by ${webConfigFile ?? '(no web config)'}`, async () => {
    if (!webConfigFile) return [];
    const files = await webConfigTlsFiles(webConfigFile);
    // The private key only ever goes into an encrypted archive.
    return files.map(({ key, file }): FileSpec => ({ archivePath: `certificates/${path.basename(file)}`, file, ...(key === 'key_file' ? { plain: 'leave-out' as const } : {}) }));
  });
}

export function logsSource(logDir: string | undefined): FileSource {
  return new FileSource('logs', `log files under ${logDir ?? '(no log directory)'}`, async () => {
    if (!logDir) return [];
    return (await filesUnder(logDir)).map((rel) => ({ archivePath: `logs/${rel}`, file: path.join(logDir, rel) }));
  });
}
