// After deployment: the exporter running on this host or in this pod, at server.listenAddress. /health must
// answer 200, /ready says whether it has fresh data (a standby says so), and /metrics serves Slurm series.
// Nothing listening there is not a problem before deployment.
import { Agent, request } from 'undici';
import type { ExporterConfig } from '../config/types.ts';
import type { WebConfig } from '../http/web-config.ts';
import { errText } from './format.ts';
import type { Finding, Report } from './report.ts';

const TIMEOUT_MS = 5000;

function baseUrl(listen: string, tls: boolean): string {
  const m = /^(.*):(\d+)$/.exec(listen)!;
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const local = host === '' || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `${tls ? 'https' : 'http'}://${local.includes(':') ? `[${local}]` : local}:${m[2]}`;
}

function add(report: Report, f: Omit<Finding, 'section'>): void {
  report.add({ section: 'exporter', ...f });
}

async function get(url: string, dispatcher: Agent): Promise<{ status: number; text: string }> {
  const res = await request(url, { dispatcher, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
  return { status: res.statusCode, text: await res.body.text() };
}

function slurmSeries(page: string): number {
  return page.split('\n').filter((l) => l.startsWith('slurm_') && !l.startsWith('slurm_exporter_')).length;
}

async function health(report: Report, base: string, d: Agent): Promise<boolean> {
  try {
    const h = await get(`${base}/health`, d);
    if (h.status === 200) add(report, { check: 'health', status: 'ok', message: `${base}/health answered 200` });
    else add(report, { check: 'health', status: 'fail', message: `${base}/health answered ${h.status}: ${h.text.slice(0, 200)}`, fix: 'restart the exporter and read its log (journalctl -u slurm-exporter, kubectl logs)' });
    return true;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ECONNREFUSED') {
      add(report, { check: 'health', status: 'skip', message: `no exporter listens on ${base} yet: run doctor again after deployment to check /health, /ready and /metrics` });
    } else {
      add(report, { check: 'health', status: 'fail', message: `${base}/health: ${errText(err)}`, fix: 'something else listens on server.listenAddress, or the exporter hangs: restart it and read its log' });
    }
    return false;
  }
}

async function ready(report: Report, base: string, d: Agent): Promise<void> {
  const r = await get(`${base}/ready`, d);
  const reason = r.text.trim().slice(0, 300);
  if (r.status === 200) add(report, { check: 'ready', status: 'ok', message: `/ready: ${reason}` });
  else if (/standby/.test(reason)) add(report, { check: 'ready', status: 'ok', message: `/ready 503 as a standby should: ${reason}` });
  else add(report, { check: 'ready', status: 'warn', message: `/ready answered ${r.status}: ${reason}`, fix: "the running exporter has no fresh data for what /ready names: read its log (journalctl -u slurm-exporter, kubectl logs) — right after a start, wait one interval" });
}

async function metrics(report: Report, base: string, path: string, d: Agent): Promise<void> {
  const m = await get(`${base}${path}`, d);
  const n = m.status === 200 ? slurmSeries(m.text) : 0;
  if (m.status !== 200) add(report, { check: 'metrics', status: 'fail', message: `${path} answered ${m.status}`, fix: 'read the exporter log; check server.telemetryPath' });
  else if (n === 0) add(report, { check: 'metrics', status: 'warn', message: `${path} serves no Slurm series (a standby serves only slurm_exporter_*)`, fix: 'if this replica should lead, read its log for the failing collection' });
  else add(report, { check: 'metrics', status: 'ok', message: `${path} serves ${n} Slurm series`, data: { series: n } });
}

export async function checkExporter(report: Report, cfg: ExporterConfig, web: WebConfig | undefined): Promise<void> {
  if (web?.tls && web.tls.clientAuthType.startsWith('Require')) {
    add(report, { check: 'health', status: 'skip', message: 'the running exporter requires client certificates: check /health, /ready with curl --cert' });
    return;
  }
  const authed = (web?.basicAuthUsers.size ?? 0) > 0;
  if (authed && !web?.probesWithoutAuth) {
    add(report, { check: 'health', status: 'skip', message: 'the running exporter asks for basic auth on every path: check /ready and /metrics with curl -u' });
    return;
  }
  const base = baseUrl(cfg.server.listenAddress, web?.tls !== undefined);
  const d = new Agent({ connect: { rejectUnauthorized: false, timeout: TIMEOUT_MS } });
  try {
    if (!(await health(report, base, d))) return;
    await ready(report, base, d);
    if (authed) add(report, { check: 'metrics', status: 'skip', message: `${cfg.server.telemetryPath} is behind basic auth: check it with curl -u` });
    else await metrics(report, base, cfg.server.telemetryPath, d);
  } catch (err) {
    add(report, { check: 'ready', status: 'fail', message: `the running exporter: ${errText(err)}`, fix: 'restart the exporter and read its log' });
  } finally {
    await d.close();
  }
}
