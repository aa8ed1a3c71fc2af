// How far this host's clock is from the server's: from the HTTP Date header when slurmrestd sends one, else
// from slurmctld's own clock (req_time in /diag, one more request). slurmctld checks a token's exp against
// its clock, so a skewed host sees fresh tokens refused or self-signed ones not yet valid.
import type { SlurmRestConfig } from '../config/types.ts';
import { SlurmAuth } from '../slurm/rest/auth.ts';
import { resourcePath } from '../slurm/resources.ts';
import { slurmGet } from './http.ts';
import type { Report } from './report.ts';
import { span } from './format.ts';

const MAX_SKEW_S = 60;

function reqTime(body: string): number | undefined {
  try {
    const v = (JSON.parse(body) as { statistics?: { req_time?: unknown } }).statistics?.req_time;
    if (typeof v === 'number') return v;
    const n = (v as { number?: unknown } | undefined)?.number;
    return typeof n === 'number' ? n : undefined;
  } catch {
    return undefined;
  }
}

async function slurmctldSkew(cfg: SlurmRestConfig, version: string | undefined): Promise<number | undefined> {
  const path = version ? resourcePath('diag', version) : undefined;
  if (!path) return undefined;
  try {
    const a = await slurmGet(cfg, path, await new SlurmAuth(cfg).headers());
    const t = a.status === 200 ? reqTime(a.body) : undefined;
    return t === undefined ? undefined : t - (a.sentAt + a.receivedAt) / 2000;
  } catch {
    return undefined;
  }
}

export async function checkClock(report: Report, cfg: SlurmRestConfig, dateSkew: number | undefined, version: string | undefined): Promise<void> {
  let skew = dateSkew;
  let from = "from slurmrestd's Date header";
  if (skew === undefined) {
    skew = await slurmctldSkew(cfg, version);
    from = "slurmctld's req_time in /diag";
  }
  if (skew === undefined) {
    report.add({ section: 'connection', check: 'clock', status: 'skip', message: 'no server clock to compare with (no Date header, no /diag answer)' });
    return;
  }
  const data = { skewSeconds: Math.round(skew), from };
  const side = skew > 0 ? 'ahead of' : 'behind';
  if (Math.abs(skew) > MAX_SKEW_S) {
    report.add({ section: 'connection', check: 'clock', status: 'warn', message: `the server's clock is ${span(skew)} ${side} this host's (${from})`, fix: 'synchronise the clocks of this host and the Slurm controller (chrony or systemd-timesyncd): slurmctld checks token expiry against its own clock', data });
    return;
  }
  report.add({ section: 'connection', check: 'clock', status: 'ok', message: `within ${Math.max(1, Math.ceil(Math.abs(skew)))} s of the server's clock (${from})`, data });
}
