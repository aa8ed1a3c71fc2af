// `slurm-exporter doctor`: the checks before and after a deployment as one command, with the exporter's own
// flags and config file. Each step needs the one before it (no slurmrestd, no token check against it); the
// running exporter is checked whenever the configuration loads.
import type { ExporterConfig } from '../config/types.ts';
import { createLogger } from '../log.ts';
import type { Logger } from '../logger.ts';
import { RestSource, parseSlurmUrl } from '../slurm/rest/client.ts';
import { VERSION } from '../version.ts';
import { checkApi } from './api-check.ts';
import { checkClock } from './clock-check.ts';
import { checkCollectors, neededKinds } from './collectors-check.ts';
import { checkConfig } from './config-check.ts';
import { checkConnect } from './connect-check.ts';
import { checkExporter } from './exporter-check.ts';
import { errText } from './format.ts';
import { checkProbe } from './probe-check.ts';
import { renderJson, renderText } from './render.ts';
import { Report } from './report.ts';
import { checkResources } from './resources-check.ts';
import { checkToken } from './token-check.ts';

export type OutputFormat = 'text' | 'json';

const QUIET: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** The exporter's client, its log on stderr only at --log.level debug. */
function restSource(report: Report, cfg: ExporterConfig): RestSource | undefined {
  const log = cfg.log.level === 'debug' ? createLogger(cfg.log) : QUIET;
  try {
    return new RestSource(cfg.slurm, log, { userAgent: `slurm-exporter/${VERSION} (doctor)` });
  } catch (err) {
    report.add({ section: 'connection', check: 'client', status: 'fail', message: errText(err), fix: 'correct the slurm section (slurm.url, slurm.tls.caFile)' });
    return undefined;
  }
}

/** API version, one request per resource kind, the clock, the collectors. */
async function checkSlurm(report: Report, cfg: ExporterConfig, skew: number | undefined): Promise<void> {
  const source = restSource(report, cfg);
  if (!source) return;
  try {
    if (!(await checkApi(report, source, cfg))) return;
    const fetched = await checkResources(report, source, cfg, neededKinds(cfg));
    await checkClock(report, cfg.slurm, skew, source.apiVersion());
    checkCollectors(report, cfg, fetched);
  } finally {
    await source.close();
  }
}

async function checkAll(report: Report, opts: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<void> {
  const loaded = await checkConfig(report, opts, env);
  if (!loaded) return;
  const { cfg } = loaded;
  report.target = `slurmrestd ${parseSlurmUrl(cfg.slurm.url!).display}`;
  try {
    if (!(await checkConnect(report, cfg.slurm))) return;
    const probe = await checkProbe(report, cfg.slurm);
    if (!probe || !(await checkToken(report, cfg.slurm))) return;
    await checkSlurm(report, cfg, probe.skewSeconds);
  } finally {
    await checkExporter(report, cfg, loaded.web);
  }
}

/** Runs every check, writes the report, and returns the exit code: 0 all well, 1 warnings, 2 a failure. */
export async function runDoctor(opts: Record<string, unknown>, env: NodeJS.ProcessEnv, out: { write(s: string): unknown }): Promise<number> {
  const t0 = performance.now();
  const report = new Report();
  await checkAll(report, opts, env);
  const format: OutputFormat = opts.output === 'json' ? 'json' : 'text';
  const took = performance.now() - t0;
  out.write(format === 'json' ? renderJson(report, took) : renderText(report, took));
  return report.exitCode();
}
