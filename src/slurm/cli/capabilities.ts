// What the installed Slurm commands can do, found once at start and again when a binary changes (a package
// upgrade): the release (`sinfo -V`), which commands take `--json` (their `--help` lists it; 22.05 has it for
// sinfo and squeue only), and the JSON layout (data_parser version) they print. `--help` and `-V` never
// contact slurmctld; only the cluster name (`scontrol show config`) and the layout probe (`scontrol ping
// --json`) do, once per detection.
import { statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { SlurmFetchError } from '../source.ts';
import { SUPPORTED_VERSIONS } from '../rest/adapters/index.ts';
import { type RunOptions, runText } from './run.ts';

export const BINARIES = ['sinfo', 'squeue', 'scontrol', 'sdiag', 'sshare'] as const;
export type Binary = (typeof BINARIES)[number];

export interface Capabilities {
  /** Absolute path of each command. */
  paths: Record<Binary, string>;
  /** `22.05.8`, `25.11.7`. */
  release: string;
  /** Commands whose --help offers --json. */
  json: ReadonlySet<Binary>;
  /** Data parser (API) version of their JSON, e.g. v0.0.44; undefined when no command prints JSON we read. */
  dataParser: string | undefined;
  /** Whether to ask for that version explicitly (`--json=v0.0.44`): releases newer than the exporter knows. */
  pinned: boolean;
  /** ClusterName from `scontrol show config`, '' when it could not be read. */
  clusterName: string;
  /** Size and mtime of every binary, to notice an upgrade. */
  fingerprint: string;
}

// The JSON layout each release prints by default (`--json` without a version): the newest data_parser it has.
const DEFAULT_PARSER: Record<string, string> = {
  '22.05': 'v0.0.38',
  '23.02': 'v0.0.39',
  '23.11': 'v0.0.40',
  '24.05': 'v0.0.41',
  '24.11': 'v0.0.42',
  '25.05': 'v0.0.43',
  '25.11': 'v0.0.44',
};

/** Where a command lives: slurm.cli.binDir, else the first PATH entry that has it. */
export function resolveBinary(name: Binary, binDir: string | undefined, pathEnv: string | undefined): string {
  const dirs = binDir !== undefined ? [binDir] : (pathEnv ?? '').split(delimiter).filter((d) => d !== '');
  for (const d of dirs) {
    const p = join(d, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  throw new SlurmFetchError('exec', `${name}: command not found in ${binDir !== undefined ? `slurm.cli.binDir ${binDir}` : 'PATH'}`);
}

export function fingerprintOf(paths: readonly string[]): string {
  return paths
    .map((p) => {
      try {
        const s = statSync(p);
        return `${p}:${s.size}:${s.mtimeMs}:${s.ino}`;
      } catch {
        return `${p}:missing`;
      }
    })
    .join('|');
}

/** `slurm 25.11.7` or `slurm-wlm 22.05.8` → 25.11.7. */
export function parseRelease(text: string): string {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (!m) throw new SlurmFetchError('parse', `sinfo -V printed no Slurm release: ${JSON.stringify(text.trim().slice(0, 80))}`);
  return `${m[1]}.${m[2]!.padStart(2, '0')}.${m[3]}`;
}

/** The data_parser version a release prints, and whether to pin it; undefined before 22.05. */
export function parserFor(release: string): { version: string; pinned: boolean } | undefined {
  const [major, minor] = release.split('.').map(Number) as [number, number];
  const known = DEFAULT_PARSER[`${major}.${String(minor).padStart(2, '0')}`];
  if (known !== undefined) return { version: known, pinned: false };
  if (major < 22) return undefined;
  // Newer than this exporter knows: Slurm keeps serving the three previous layouts, so ask for our newest.
  return { version: SUPPORTED_VERSIONS[0]!, pinned: true };
}

/** `ClusterName = lab` from `scontrol show config`. */
export function clusterNameOf(config: string): string {
  return /^\s*ClusterName\s*=\s*(\S+)/m.exec(config)?.[1] ?? '';
}

/** The data_parser version named in a JSON answer's meta (`data_parser/v0.0.44`, or 22.05's `openapi/v0.0.38`). */
export function metaParserVersion(text: string): string | undefined {
  return /"(?:data_parser|type)"\s*:\s*"(?:data_parser|openapi)\\?\/(v\d+\.\d+\.\d+)"/.exec(text)?.[1];
}

async function offersJson(path: string, signal: AbortSignal, opts: RunOptions): Promise<boolean> {
  try {
    const { text } = await runText(path, ['--help'], signal, { ...opts, maxBytes: 1 << 20 });
    return /--json\b/.test(text);
  } catch {
    // Some releases exit non-zero after --help; a command that cannot print help gets text parsing.
    return false;
  }
}

export async function detect(binDir: string | undefined, signal: AbortSignal, opts: RunOptions): Promise<Capabilities> {
  const pathEnv = opts.env.PATH ?? process.env.PATH;
  const paths = Object.fromEntries(BINARIES.map((b) => [b, resolveBinary(b, binDir, pathEnv)])) as Record<Binary, string>;
  const fingerprint = fingerprintOf(Object.values(paths));
  const release = parseRelease((await runText(paths.sinfo, ['-V'], signal, opts)).text);
  const json = new Set<Binary>();
  for (const b of BINARIES) if (await offersJson(paths[b], signal, opts)) json.add(b);
  const parser = parserFor(release);
  if (parser === undefined || !SUPPORTED_VERSIONS.includes(parser.version)) json.clear();
  let dataParser = json.size > 0 ? parser?.version : undefined;
  let pinned = parser?.pinned ?? false;
  if (dataParser !== undefined && json.has('scontrol') && !pinned) {
    // The layout the commands really print: a site may have built Slurm with another default.
    const ping = await runText(paths.scontrol, ['ping', '--json'], signal, opts).catch(() => undefined);
    const seen = ping && metaParserVersion(ping.text);
    if (seen !== undefined && SUPPORTED_VERSIONS.includes(seen)) dataParser = seen;
    else if (seen !== undefined) [dataParser, pinned] = [SUPPORTED_VERSIONS[0]!, true];
  }
  const config = await runText(paths.scontrol, ['show', 'config'], signal, opts).catch(() => undefined);
  return { paths, release, json, dataParser, pinned, clusterName: config ? clusterNameOf(config.text) : '', fingerprint };
}
