// The monitoring-data source: a TSDB snapshot taken through Prometheus' admin API (it needs
// --web.enable-admin-api), plus the rules, targets and configuration as Prometheus serves them.
//
// The snapshot is written by Prometheus, on its own disk, to <data dir>/snapshots/<name>; the API only returns the
// name. So this source must run where that data directory is mounted (a sidecar in the Prometheus pod sharing the
// volume, or on the Prometheus host), and `dataDir` is that mount's path here. The snapshot directory is removed
// once every file has been read (a consumer may gather all files before reading any, e.g. to write a manifest), or
// at once when the consumer stops early: a left-behind snapshot holds as much disk as the data it copies.
//
// Archive layout: `tsdb/...` is the snapshot directory's content, which is, as is, a data directory a fresh
// Prometheus can start on (`--storage.tsdb.path`); `api/*.json` are the API answers.
import { createReadStream, readFileSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import type { BackupSource, SourceContext, SourceFactory, SourceFile } from '../types.ts';

export interface PrometheusSourceOptions {
  /** Prometheus' base URL, e.g. `http://127.0.0.1:9090` (a path prefix such as `/prometheus` is kept). */
  url: string;
  /** Prometheus' --storage.tsdb.path as mounted where this source runs. */
  dataDir: string;
  /** Basic auth, the password read from a file (never from a flag or the config itself). */
  basicAuth?: { username: string; passwordFile: string };
  /** Bearer token from a file. */
  bearerTokenFile?: string;
  requestTimeoutMs?: number;
}

/** The API answers kept beside the snapshot: archive path and API path. */
const API_FILES: readonly [string, string][] = [
  ['api/rules.json', '/api/v1/rules'],
  ['api/targets.json', '/api/v1/targets'],
  // Prometheus itself replaces secrets in the configuration it serves with <secret>.
  ['api/config.json', '/api/v1/status/config'],
];

type ApiAnswer = { status?: string; error?: string; errorType?: string; data?: unknown };

function readCredential(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new Error(`Prometheus ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

function memoryFile(p: string, bytes: Buffer): SourceFile {
  return {
    path: p,
    mode: 0o644,
    size: bytes.length,
    mtimeMs: Date.now(),
    async *read() {
      yield bytes;
    },
  };
}

/**
 * Removes the snapshot once the listing is complete and every file handed out has been read to its end, or at
 * once when the listing ended early (the consumer gave up).
 */
function snapshotCleanup(dir: string, ctx: SourceContext): { track(f: SourceFile): SourceFile; listingDone(complete: boolean): Promise<void> | undefined } {
  let open = 0;
  let listed = false;
  let removed: Promise<void> | undefined;
  const remove = () =>
    (removed ??= rm(dir, { recursive: true, force: true }).catch((err: unknown) =>
      ctx.log(`could not remove the Prometheus snapshot ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`),
    ));
  const maybeRemove = () => (listed && open === 0 ? remove() : undefined);
  return {
    track(file) {
      open++;
      const read = file.read;
      return {
        ...file,
        async *read() {
          try {
            yield* read();
          } finally {
            open--;
            await maybeRemove();
          }
        },
      };
    },
    listingDone(complete) {
      listed = true;
      return complete ? maybeRemove() : remove();
    },
  };
}

/** Every regular file under `root`, depth first, as archive paths below `prefix`. */
async function* walk(root: string, prefix: string, rel = ''): AsyncIterable<SourceFile> {
  const entries = await readdir(path.join(root, rel), { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const relPath = rel ? `${rel}/${e.name}` : e.name;
    const abs = path.join(root, relPath);
    if (e.isDirectory()) {
      yield* walk(root, prefix, relPath);
      continue;
    }
    const st = await lstat(abs);
    // A TSDB snapshot holds only directories and hard-linked regular files; anything else is not ours to copy.
    if (!st.isFile()) continue;
    yield { path: `${prefix}/${relPath}`, mode: st.mode & 0o777, size: st.size, mtimeMs: st.mtimeMs, read: () => createReadStream(abs) };
  }
}

export class PrometheusSource implements BackupSource {
  readonly type = 'monitoring' as const;
  private readonly opts: PrometheusSourceOptions;
  private readonly base: URL;

  constructor(opts: PrometheusSourceOptions) {
    this.opts = opts;
    this.base = new URL(opts.url);
    // Credentials belong in files: a URL's userinfo would end up in describe() and in error messages.
    if (this.base.username || this.base.password) throw new Error('Prometheus source: the URL must not carry credentials; use basicAuth.passwordFile');
  }

  describe(): string {
    return `Prometheus TSDB snapshot from ${this.base.origin}${this.base.pathname.replace(/\/+$/, '')} (data dir ${this.opts.dataDir})`;
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' };
    if (this.opts.bearerTokenFile) h.authorization = `Bearer ${readCredential(this.opts.bearerTokenFile, 'bearer token')}`;
    else if (this.opts.basicAuth) {
      const pw = readCredential(this.opts.basicAuth.passwordFile, 'basic auth password');
      h.authorization = `Basic ${Buffer.from(`${this.opts.basicAuth.username}:${pw}`).toString('base64')}`;
    }
    return h;
  }

  /** One API call; the answer's body, or an error naming the URL (without credentials) and Prometheus' reason. */
  private async call(method: 'GET' | 'POST', apiPath: string, signal: AbortSignal): Promise<Buffer> {
    const url = new URL(`${this.base.pathname.replace(/\/+$/, '')}${apiPath}`, this.base.origin);
    const timeout = AbortSignal.timeout(this.opts.requestTimeoutMs ?? 120_000);
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, { method, headers: this.headers(), signal: AbortSignal.any([signal, timeout]) });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new Error(`Prometheus ${method} ${url.href}: cannot reach it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).name}`, { cause: err });
    }
    const body = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode === 200) return body;
    let reason = `HTTP ${res.statusCode}`;
    try {
      const j = JSON.parse(body.toString('utf8')) as ApiAnswer;
      if (j.error) reason += `: ${j.error}`;
    } catch {
      // Not JSON (a proxy's page): the status is all there is.
    }
    const hint = /admin APIs disabled/.test(reason) ? ' (start Prometheus with --web.enable-admin-api)' : res.statusCode === 401 || res.statusCode === 403 ? ' (check the credentials file)' : '';
    throw new Error(`Prometheus ${method} ${url.href}: ${reason}${hint}`);
  }

  /** Asks Prometheus for a snapshot (head block included) and returns its directory here. */
  private async snapshot(ctx: SourceContext): Promise<string> {
    const t0 = Date.now();
    const body = await this.call('POST', '/api/v1/admin/tsdb/snapshot?skip_head=false', ctx.signal);
    const name = ((JSON.parse(body.toString('utf8')) as ApiAnswer).data as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || !/^[\w.-]+$/.test(name)) throw new Error(`Prometheus snapshot at ${this.base.origin}: the answer names no snapshot directory`);
    const dir = path.join(this.opts.dataDir, 'snapshots', name);
    try {
      await lstat(dir);
    } catch {
      throw new Error(`Prometheus snapshot ${name}: ${dir} does not exist here: this source must run where Prometheus' data directory is mounted (dataDir is ${this.opts.dataDir}; e.g. as a sidecar sharing its volume)`);
    }
    ctx.log('Prometheus snapshot taken', { name, ms: Date.now() - t0 });
    return dir;
  }

  async *collect(ctx: SourceContext): AsyncIterable<SourceFile> {
    for (const [file, apiPath] of API_FILES) yield memoryFile(file, await this.call('GET', apiPath, ctx.signal));
    const dir = await this.snapshot(ctx);
    const cleanup = snapshotCleanup(dir, ctx);
    let files = 0;
    let bytes = 0;
    let complete = false;
    try {
      for await (const f of walk(dir, 'tsdb')) {
        files++;
        bytes += f.size;
        yield cleanup.track(f);
      }
      complete = true;
      ctx.log('Prometheus snapshot listed', { files, bytes });
    } finally {
      await cleanup.listingDone(complete);
    }
  }
}

type Loose = Record<string, unknown>;
const loose = (v: unknown): Loose => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Loose) : {});

function setting(section: Loose, key: string, required: true): string;
function setting(section: Loose, key: string, required: false): string | undefined;
function setting(section: Loose, key: string, required: boolean): string | undefined {
  const v = section[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw new Error(`backup.prometheus.${key} is not set: the monitoring backup needs it`);
    return undefined;
  }
  if (typeof v !== 'string') throw new Error(`backup.prometheus.${key}: expected a string, got ${typeof v}`);
  return v;
}

/**
 * The commands' entry point (SourceFactory in ../types.ts), from `backup.prometheus`: url, dataDir, and optionally
 * bearerTokenFile or basicAuth { username, passwordFile }.
 */
export const createSource: SourceFactory = (config: unknown) => {
  const p = loose(loose(loose(config).backup).prometheus);
  const basic = loose(p.basicAuth);
  const username = setting(basic, 'username', false);
  const passwordFile = setting(basic, 'passwordFile', false);
  if ((username === undefined) !== (passwordFile === undefined)) throw new Error('backup.prometheus.basicAuth needs both username and passwordFile');
  const bearerTokenFile = setting(p, 'bearerTokenFile', false);
  return new PrometheusSource({
    url: setting(p, 'url', true),
    dataDir: setting(p, 'dataDir', true),
    ...(bearerTokenFile ? { bearerTokenFile } : {}),
    ...(username && passwordFile ? { basicAuth: { username, passwordFile } } : {}),
  });
};
