// The configuration as the exporter would load it: the loader's errors (each names the file, variable or
// flag and the key) and warnings, a Slurm source to check, and the web config file the HTTP server would read.
import { ConfigError, resolveConfig } from '../config/load.ts';
import { attributeName, CONFIG_FILE_FLAG } from '../config/flags.ts';
import { COLLECTOR_GROUPS } from '../config/schema.ts';
import type { ExporterConfig } from '../config/types.ts';
import { loadWebConfig, type WebConfig } from '../http/web-config.ts';
import { errText } from './format.ts';
import type { Report } from './report.ts';

const DOCS = 'every key and its values: docs/configuration.md';

function where(line: string): string {
  // "config /etc/x.yaml: slurm.url: ..." → "slurm.url in /etc/x.yaml"; "flag --slurm.url (slurm.url): ..." → the flag.
  const origin = /^((?:flag|environment variable) \S+) \(([^)]+)\)/.exec(line);
  if (origin) return `${origin[1]} (${origin[2]})`;
  const file = /^config ([^:]+): ([A-Za-z0-9_.]+):/.exec(line);
  if (file) return `${file[2]} in ${file[1]}`;
  const anyFile = /^config ([^:]+):/.exec(line);
  return anyFile ? anyFile[1]! : 'the configuration';
}

function warned(report: Report, warnings: string[]): void {
  for (const w of warnings) report.add({ section: 'configuration', check: 'config', status: 'warn', message: w, fix: `remove or correct it in ${where(w)}; ${DOCS}` });
}

function loadFailed(report: Report, err: ConfigError): void {
  for (const line of err.message.split('\n').filter(Boolean)) {
    const unreadable = /^config ([^:]+): cannot read the file/.exec(line);
    const fix = unreadable ? `give --config.file a file that exists and that the exporter's user can read (${unreadable[1]})` : `correct ${where(line)}; ${DOCS}`;
    report.add({ section: 'configuration', check: 'config', status: 'fail', message: line, fix });
  }
}

function sourceProblem(cfg: ExporterConfig): string | undefined {
  if (cfg.demo) return '--demo runs against a simulated cluster; doctor checks a real slurmrestd';
  if (!cfg.slurm.url) return 'no Slurm source configured (slurm.url)';
  return undefined;
}

async function webConfig(report: Report, file: string | undefined): Promise<WebConfig | undefined> {
  if (!file) return undefined;
  try {
    const web = await loadWebConfig(file);
    const auth = web.basicAuthUsers.size ? `basic auth for ${web.basicAuthUsers.size} user(s)` : 'no basic auth';
    report.add({ section: 'configuration', check: 'web-config', status: 'ok', message: `web config ${file}: ${web.tls ? 'TLS' : 'plain HTTP'}, ${auth}` });
    return web;
  } catch (err) {
    report.add({ section: 'configuration', check: 'web-config', status: 'fail', message: errText(err), fix: `correct ${file} (the exporter-toolkit web config format), or drop --web.config.file` });
    return undefined;
  }
}

export interface ConfigCheck {
  cfg: ExporterConfig;
  web: WebConfig | undefined;
}

/** The effective configuration, or undefined when there is nothing further to check. */
export async function checkConfig(report: Report, opts: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<ConfigCheck | undefined> {
  const warnings: string[] = [];
  let cfg: ExporterConfig;
  try {
    cfg = await resolveConfig(opts, env, { warn: (m) => warnings.push(m) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    warned(report, warnings);
    loadFailed(report, err);
    return undefined;
  }
  report.secret(cfg.slurm.token);
  warned(report, warnings);
  const problem = sourceProblem(cfg);
  if (problem) {
    report.add({
      section: 'configuration',
      check: 'source',
      status: 'fail',
      message: problem,
      fix: 'give the slurmrestd URL: --slurm.url http://slurmctl:6820 (or SLURM_REST_URL, or slurm.url in --config.file), without --demo',
    });
    return undefined;
  }
  const file = opts[attributeName(CONFIG_FILE_FLAG)];
  const enabled = COLLECTOR_GROUPS.filter((g) => cfg.collectors[g]?.enabled);
  const from = typeof file === 'string' ? `config ${file} with flags and environment` : 'flags and environment (no --config.file)';
  report.add({ section: 'configuration', check: 'config', status: 'ok', message: `valid: ${from}; ${enabled.length} of ${COLLECTOR_GROUPS.length} collector groups enabled` });
  const web = await webConfig(report, cfg.server.webConfigFile);
  if (report.failed('configuration')) return undefined;
  return { cfg, web };
}
