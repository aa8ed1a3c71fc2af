// Can this host open a connection to slurmrestd at all: TCP, TLS (with the certificate checked as the
// exporter checks it) or a unix socket, within slurm.connectionTimeout.
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { SlurmRestConfig } from '../config/types.ts';
import { errText, isoSeconds, ms, ms1 } from './format.ts';
import type { Report } from './report.ts';

type SlurmConfig = SlurmRestConfig;

interface Endpoint {
  kind: 'tcp' | 'tls' | 'unix';
  host: string;
  port: number;
  socketPath: string;
  display: string;
}

const CERT_WARN_DAYS = 14;

function endpointOf(url: string): Endpoint {
  if (url.startsWith('unix:')) {
    const socketPath = new URL(url).pathname;
    return { kind: 'unix', host: '', port: 0, socketPath, display: `unix socket ${socketPath}` };
  }
  const u = new URL(url);
  const tlsOn = u.protocol === 'https:';
  const port = Number(u.port || (tlsOn ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return { kind: tlsOn ? 'tls' : 'tcp', host, port, socketPath: '', display: `${tlsOn ? 'TLS' : 'TCP'} ${u.host}` };
}

/** What to do about a socket error; the message says what happened. */
function problem(ep: Endpoint, code: string | undefined, timeoutMs: number): { message: string; fix: string } {
  const where = ep.kind === 'unix' ? ep.socketPath : `${ep.host}:${ep.port}`;
  switch (code) {
    case 'ECONNREFUSED':
      return ep.kind === 'unix'
        ? { message: 'connection refused: nothing listens on the socket', fix: 'restart slurmrestd (its socket file is left over from a run that ended)' }
        : { message: 'connection refused: nothing listens there', fix: `start slurmrestd on ${ep.host} (systemctl start slurmrestd) or correct the host and port in slurm.url` };
    case 'ENOENT':
      return { message: 'no such socket', fix: 'start slurmrestd listening on that socket (slurmrestd unix:/path), or mount the socket into the container/pod' };
    case 'EACCES':
      return { message: 'permission denied', fix: "run the exporter as a user allowed to open the socket (the socket's group), or widen the socket's mode" };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { message: `cannot resolve ${ep.host} (${code})`, fix: 'correct the host name in slurm.url, or fix DNS on this host (in Kubernetes: the pod\'s DNS policy)' };
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return {
        message: `no answer to the connection attempt within ${ms(timeoutMs)} (${code}; slurm.connectionTimeout)`,
        fix: `allow TCP from this host to ${where} (firewall; in Kubernetes the NetworkPolicy's egress), or correct slurm.url`,
      };
    default:
      return tlsProblem(ep, code) ?? { message: `cannot connect (${code ?? 'unknown error'})`, fix: 'check slurm.url and that slurmrestd runs on that host and port' };
  }
}

function tlsProblem(ep: Endpoint, code: string | undefined): { message: string; fix: string } | undefined {
  if (ep.kind !== 'tls' || !code) return undefined;
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) {
    return { message: `slurmrestd's certificate is not trusted (${code})`, fix: "set slurm.tls.caFile to the CA bundle that signed slurmrestd's certificate" };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return { message: `slurmrestd's certificate is not issued for ${ep.host} (${code})`, fix: 'use a host name the certificate names (its subjectAltName) in slurm.url, or re-issue the certificate' };
  }
  if (code === 'CERT_HAS_EXPIRED') return { message: "slurmrestd's certificate has expired", fix: "renew slurmrestd's certificate" };
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return { message: `no TLS on ${ep.host}:${ep.port} (${code})`, fix: 'slurmrestd speaks plain HTTP there: use http:// in slurm.url' };
  }
  return undefined;
}

function open(ep: Endpoint, ca: Buffer | undefined, cfg: SlurmConfig): net.Socket {
  if (ep.kind === 'unix') return net.connect({ path: ep.socketPath });
  if (ep.kind === 'tcp') return net.connect({ host: ep.host, port: ep.port });
  return tls.connect({ host: ep.host, port: ep.port, servername: net.isIP(ep.host) ? undefined : ep.host, ca, rejectUnauthorized: !cfg.tls.insecureSkipVerify });
}

interface Connected {
  ms: number;
  remote: string;
  tls?: { protocol: string; subject: string; validTo: number; authorized: boolean; error: string | undefined };
}

function attempt(ep: Endpoint, ca: Buffer | undefined, cfg: SlurmConfig): Promise<Connected> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const socket = open(ep, ca, cfg);
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), cfg.connectionTimeoutMs);
    const done = () => {
      clearTimeout(timer);
      const took = performance.now() - t0;
      const remote = ep.kind === 'unix' ? ep.socketPath : `${socket.remoteAddress}:${socket.remotePort}`;
      let info: Connected['tls'];
      if (socket instanceof tls.TLSSocket) {
        const cert = socket.getPeerCertificate();
        const err = socket.authorizationError;
        info = { protocol: socket.getProtocol() ?? '?', subject: String(cert.subject?.CN ?? '?'), validTo: Date.parse(cert.valid_to), authorized: socket.authorized, error: err ? String(err) : undefined };
      }
      socket.destroy();
      resolve({ ms: took, remote, tls: info });
    };
    socket.once(ep.kind === 'tls' ? 'secureConnect' : 'connect', done);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

async function caBundle(report: Report, cfg: SlurmConfig): Promise<Buffer | undefined | false> {
  if (!cfg.tls.caFile) return undefined;
  try {
    return await readFile(cfg.tls.caFile);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? errText(err);
    report.add({ section: 'connection', check: 'ca-file', status: 'fail', message: `slurm.tls.caFile ${cfg.tls.caFile}: cannot read it (${code})`, fix: 'correct slurm.tls.caFile, or mount the CA bundle at that path' });
    return false;
  }
}

function tlsFindings(report: Report, c: Connected, cfg: SlurmConfig): void {
  const t = c.tls;
  if (!t) return;
  const left = (t.validTo - Date.now()) / 86_400_000;
  const data = { protocol: t.protocol, subject: t.subject, validTo: isoSeconds(t.validTo) };
  if (!t.authorized) {
    report.add({ section: 'connection', check: 'certificate', status: 'warn', message: `certificate of ${t.subject} NOT verified (${t.error}): slurm.tls.insecureSkipVerify is on`, fix: "set slurm.tls.caFile to the CA that signed slurmrestd's certificate and turn insecureSkipVerify off", data });
  } else if (left < CERT_WARN_DAYS) {
    report.add({ section: 'connection', check: 'certificate', status: 'warn', message: `certificate of ${t.subject} expires ${isoSeconds(t.validTo)} (in ${Math.max(0, Math.floor(left))} days)`, fix: "renew slurmrestd's certificate before it expires", data });
  } else {
    report.add({ section: 'connection', check: 'certificate', status: 'ok', message: `${t.protocol}, certificate of ${t.subject} verified${cfg.tls.caFile ? ` against ${cfg.tls.caFile}` : ''}, valid until ${isoSeconds(t.validTo)}`, data });
  }
}

/** True when a connection could be opened. */
export async function checkConnect(report: Report, cfg: SlurmConfig): Promise<boolean> {
  const ep = endpointOf(cfg.url!);
  const ca = await caBundle(report, cfg);
  if (ca === false) return false;
  try {
    const c = await attempt(ep, ca, cfg);
    report.add({ section: 'connection', check: ep.kind, status: 'ok', message: `${ep.display} connected in ${ms(c.ms)}${ep.kind === 'unix' || net.isIP(ep.host) ? '' : ` (${c.remote})`}`, data: { ms: ms1(c.ms), remote: c.remote } });
    tlsFindings(report, c, cfg);
    return true;
  } catch (err) {
    const p = problem(ep, (err as NodeJS.ErrnoException).code, cfg.connectionTimeoutMs);
    report.add({ section: 'connection', check: ep.kind, status: 'fail', message: `${ep.display}: ${p.message}`, fix: p.fix });
    return false;
  }
}
