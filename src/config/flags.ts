// Command-line flags and environment variables, Prometheus-exporter style (--web.listen-address,
// --collector.<name> / --no-collector.<name>). Neither carries defaults of its own: the schema does,
// so a flag that was not given never hides a value from the config file.
import { Option, type Command } from 'commander';
import { COLLECTOR_GROUPS, fieldInfo } from './schema.ts';

export interface ConfigFlag {
  /** e.g. `--web.listen-address` */
  flag: string;
  /** `<address>` for flags with a value; absent for switches. */
  arg?: string;
  /** The config key it sets; absent for --config.file. */
  path?: string;
  /** Environment variable for the same key (below flags, above the file). */
  env?: string;
  /** Help text when there is no config key to take it from. */
  help?: string;
  /** For a --no-… switch: the value it sets. */
  value?: boolean;
}

export const CONFIG_FILE_FLAG = '--config.file';

export const CONFIG_FLAGS: readonly ConfigFlag[] = [
  { flag: CONFIG_FILE_FLAG, arg: '<file>', help: 'YAML configuration file (sections server, slurm, collectors, limits, log; ${VAR} and ${VAR:-default} are expanded).' },
  { flag: '--web.listen-address', arg: '<address>', path: 'server.listenAddress' },
  { flag: '--web.telemetry-path', arg: '<path>', path: 'server.telemetryPath' },
  { flag: '--web.config.file', arg: '<file>', path: 'server.webConfigFile' },
  { flag: '--slurm.source', arg: '<source>', path: 'slurm.source' },
  { flag: '--slurm.cli.bin-dir', arg: '<dir>', path: 'slurm.cli.binDir' },
  { flag: '--slurm.native.url', arg: '<url>', path: 'slurm.native.url' },
  { flag: '--slurm.url', arg: '<url>', path: 'slurm.url', env: 'SLURM_REST_URL' },
  { flag: '--slurm.api-version', arg: '<version>', path: 'slurm.apiVersion', env: 'SLURM_REST_API_VERSION' },
  { flag: '--slurm.user', arg: '<name>', path: 'slurm.user', env: 'SLURM_USER' },
  { flag: '--slurm.token-file', arg: '<file>', path: 'slurm.tokenFile', env: 'SLURM_JWT_FILE' },
  { flag: '--slurm.jwt-key-file', arg: '<file>', path: 'slurm.jwtKeyFile' },
  { flag: '--slurm.cluster', arg: '<name>', path: 'slurm.cluster' },
  { flag: '--log.level', arg: '<level>', path: 'log.level' },
  { flag: '--log.format', arg: '<format>', path: 'log.format' },
  { flag: '--demo', path: 'demo.enabled' },
  { flag: '--demo.nodes', arg: '<n>', path: 'demo.nodes' },
  { flag: '--demo.jobs', arg: '<n>', path: 'demo.jobs' },
  ...COLLECTOR_GROUPS.flatMap((g): ConfigFlag[] => [
    { flag: `--collector.${g}`, path: `collectors.${g}.enabled`, value: true },
    { flag: `--no-collector.${g}`, path: `collectors.${g}.enabled`, value: false },
  ]),
];

/** Variables read for config keys. The token has no flag on purpose: flags show in `ps`. */
export const CONFIG_ENV: readonly { env: string; path: string }[] = [
  ...CONFIG_FLAGS.filter((f): f is ConfigFlag & { env: string; path: string } => f.env !== undefined && f.path !== undefined).map((f) => ({ env: f.env, path: f.path })),
  { env: 'SLURM_JWT', path: 'slurm.token' },
];

/** The key commander stores a flag's value under: `--web.listen-address` → `web.listenAddress`. */
export function attributeName(flag: string): string {
  return new Option(flag).attributeName();
}

function showDefault(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function flagHelp(f: ConfigFlag): string {
  if (f.path?.startsWith('collectors.')) {
    const group = f.path.split('.')[1];
    return f.value === false ? `disable the ${group} collector group` : `enable the ${group} collector group (default: enabled)`;
  }
  const info = f.path ? fieldInfo(f.path) : undefined;
  let text = f.help ?? info?.doc?.description ?? '';
  const def = info?.doc?.defaultText ?? showDefault(info?.defaultValue);
  if (def !== undefined && f.arg && !def.startsWith('unset')) text += ` (default: ${def})`;
  if (f.env) text += ` [env ${f.env}]`;
  return text;
}

/** Registers the configuration flags on a command (the root command and `check-config`). */
export function addConfigOptions(cmd: Command): Command {
  // When both the program and a subcommand (check-config) carry these flags, commander by default lets
  // the program swallow them even after the subcommand's name; positional options give them to the
  // command they follow.
  cmd.parent?.enablePositionalOptions();
  for (const f of CONFIG_FLAGS) {
    cmd.addOption(new Option(f.arg ? `${f.flag} ${f.arg}` : f.flag, flagHelp(f)));
  }
  return cmd;
}

export interface Overlay {
  path: string;
  value: unknown;
  /** Where the value came from, for error messages: `flag --slurm.url`, `environment variable SLURM_JWT`. */
  origin: string;
}

export function envOverlays(env: NodeJS.ProcessEnv): Overlay[] {
  const out: Overlay[] = [];
  for (const { env: name, path } of CONFIG_ENV) {
    const v = env[name];
    if (v !== undefined && v !== '') out.push({ path, value: v, origin: `environment variable ${name}` });
  }
  return out;
}

export function flagOverlays(opts: Record<string, unknown>): Overlay[] {
  const out: Overlay[] = [];
  const seen = new Set<string>();
  for (const f of CONFIG_FLAGS) {
    if (!f.path) continue;
    const key = attributeName(f.flag);
    // --collector.x and --no-collector.x share one attribute; handle it once.
    if (seen.has(key)) continue;
    seen.add(key);
    const v = opts[key];
    if (v === undefined) continue;
    const origin = f.value === undefined ? `flag ${f.flag}` : `flag ${v === false ? f.flag.replace('--', '--no-') : f.flag}`;
    out.push({ path: f.path, value: v, origin });
  }
  return out;
}
