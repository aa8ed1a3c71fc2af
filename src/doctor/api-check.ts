// Which REST API version doctor and the exporter will speak: forced (slurm.apiVersion) or the newest one
// both sides speak, found the way the exporter finds it (a /ping per version, newest first).
import type { ExporterConfig } from '../config/types.ts';
import type { RestSource } from '../slurm/rest/client.ts';
import { SUPPORTED_VERSIONS } from '../slurm/rest/adapters/index.ts';
import { SlurmFetchError } from '../slurm/source.ts';
import { authFix, fetchFix } from './fixes.ts';
import { errText, ms } from './format.ts';
import type { Report } from './report.ts';

const OLDEST_FIRST = [...SUPPORTED_VERSIONS].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
const RANGE = `${OLDEST_FIRST[0]} to ${OLDEST_FIRST[OLDEST_FIRST.length - 1]}`;

function versionFix(cfg: ExporterConfig): string {
  if (cfg.slurm.apiVersion) return `unset slurm.apiVersion (--slurm.api-version) to negotiate, or set one of ${SUPPORTED_VERSIONS.join(', ')}`;
  return `slurmrestd must serve one of ${RANGE}: Slurm 22.05 or newer, with its openapi data parsers loaded (see \`slurmrestd -d list\` on the controller)`;
}

function failed(report: Report, cfg: ExporterConfig, err: unknown): void {
  const e = err instanceof SlurmFetchError ? err : new SlurmFetchError('parse', errText(err));
  if (e.kind === 'auth') {
    report.add({ section: 'credentials', check: 'auth', status: 'fail', message: e.message, fix: authFix(cfg.slurm) });
    return;
  }
  const prefix = e.kind === 'version' && !cfg.slurm.apiVersion ? 'no API version in common: ' : '';
  const fix = e.kind === 'version' ? versionFix(cfg) : fetchFix(e, cfg, 'cluster');
  report.add({ section: 'api', check: 'version', status: 'fail', message: `${prefix}${e.message}`, fix, data: { kind: e.kind } });
}

/** True when an API version is settled. */
export async function checkApi(report: Report, source: RestSource, cfg: ExporterConfig): Promise<boolean> {
  const timeoutMs = cfg.collectors.cluster?.timeoutMs ?? cfg.slurm.requestTimeoutMs;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(new SlurmFetchError('timeout', `no API version settled within ${ms(timeoutMs)} (collectors.cluster.timeout)`)), timeoutMs);
  const t0 = performance.now();
  try {
    await source.init(ctrl.signal);
    const how = cfg.slurm.apiVersion ? 'forced by slurm.apiVersion' : 'negotiated: the newest both sides speak';
    report.add({ section: 'api', check: 'version', status: 'ok', message: `${source.apiVersion()} (${how}; this exporter speaks ${RANGE}) in ${ms(performance.now() - t0)}`, data: { version: source.apiVersion() } });
    return true;
  } catch (err) {
    failed(report, cfg, ctrl.signal.aborted ? ctrl.signal.reason : err);
    return false;
  } finally {
    clearTimeout(timer);
  }
}
