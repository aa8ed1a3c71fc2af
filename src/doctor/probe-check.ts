// Does what listens at slurm.url answer HTTP: one GET without credentials. Any status will do (slurmrestd
// answers 401 or 404); a connection closed or left silent is the failure. The answer's Date header, when there
// is one, is the server's clock for the skew check.
import type { SlurmRestConfig } from '../config/types.ts';
import { errText, ms, ms1 } from './format.ts';
import { slurmGet } from './http.ts';
import type { Report } from './report.ts';

type SlurmConfig = SlurmRestConfig;

export interface Probe {
  /** The server's clock minus ours, in seconds, from the Date header; undefined when it sent none. */
  skewSeconds: number | undefined;
}

function failure(err: unknown, cfg: SlurmConfig): { message: string; fix: string } {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return {
      message: `slurmrestd accepted the connection but sent no answer within ${ms(cfg.requestTimeoutMs)} (slurm.requestTimeout)`,
      fix: "slurmrestd is stuck or all its threads are busy: look at its log on the controller (journalctl -u slurmrestd) and restart it",
    };
  }
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') {
    return {
      message: `slurmrestd accepted the connection and closed it without answering (${code})`,
      fix: "look at slurmrestd's log (journalctl -u slurmrestd); if it serves TLS use https:// in slurm.url; a proxy in between may be refusing",
    };
  }
  if (/^HPE_/.test(code) || code === 'UND_ERR_INFO') {
    return { message: `what answers at ${cfg.url} does not speak HTTP (${code})`, fix: 'check the port in slurm.url (slurmrestd listens on 6820 by default); if it serves TLS use https://' };
  }
  return { message: `the request failed: ${errText(err)}`, fix: 'check slurm.url and slurmrestd\'s log' };
}

function skewOf(date: unknown, sentAt: number, receivedAt: number): number | undefined {
  if (typeof date !== 'string') return undefined;
  const server = Date.parse(date);
  if (!Number.isFinite(server)) return undefined;
  // The Date header has 1 s resolution: compare with the middle of the exchange.
  return (server - (sentAt + receivedAt) / 2) / 1000;
}

/** The probe, or undefined when slurmrestd does not answer HTTP. */
export async function checkProbe(report: Report, cfg: SlurmConfig): Promise<Probe | undefined> {
  const t0 = performance.now();
  try {
    const a = await slurmGet(cfg, '/');
    const took = performance.now() - t0;
    const server = typeof a.headers.server === 'string' ? `, Server: ${a.headers.server}` : '';
    report.add({ section: 'connection', check: 'http', status: 'ok', message: `answered HTTP ${a.status} to an unauthenticated GET / in ${ms(took)}${server}`, data: { ms: ms1(took), status: a.status } });
    return { skewSeconds: skewOf(a.headers.date, a.sentAt, a.receivedAt) };
  } catch (err) {
    const f = failure(err, cfg);
    report.add({ section: 'connection', check: 'http', status: 'fail', message: f.message, fix: f.fix });
    return undefined;
  }
}
