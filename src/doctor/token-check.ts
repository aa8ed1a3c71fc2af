// The credential the exporter would send: which source (SLURM_JWT, a token file, the HS256 key), the user
// name (--slurm.user, else the token's `sun` claim), when the token expires (its `exp` claim), and whether the
// files holding it are readable by others. Never prints the token or the key: both are registered as secrets.
import { readFile, stat } from 'node:fs/promises';
import type { SlurmRestConfig } from '../config/types.ts';
import { SlurmAuth } from '../slurm/rest/auth.ts';
import { decodeJwtClaims } from '../slurm/rest/jwt.ts';
import { errText, isoSeconds, span } from './format.ts';
import type { Finding, Report } from './report.ts';

type SlurmConfig = SlurmRestConfig;

const EXPIRY_WARN_S = 24 * 3600;
const NEW_TOKEN = 'scontrol token username=<user> lifespan=<seconds>';

function add(report: Report, f: Omit<Finding, 'section'>): void {
  report.add({ section: 'credentials', ...f });
}

function sourceFix(cfg: SlurmConfig, auth: SlurmAuth): string {
  switch (auth.mode) {
    case 'token-file':
      return `write a token from \`${NEW_TOKEN}\` to ${cfg.tokenFile}, readable by the exporter's user (systemd: LoadCredential=; Kubernetes: a Secret volume)`;
    case 'key-file':
      return `point --slurm.jwt-key-file at the cluster's jwt_hs256.key (slurm.conf AuthAltParameters=jwt_key=...), readable by the exporter's user`;
    default:
      return `put a token from \`${NEW_TOKEN}\` in SLURM_JWT`;
  }
}

function renewFix(cfg: SlurmConfig, auth: SlurmAuth, when: string): string {
  if (auth.mode === 'token-file') return `make sure something rewrites ${cfg.tokenFile} with a fresh token (\`${NEW_TOKEN}\`) before ${when}; the exporter re-reads it`;
  return `the exporter cannot renew SLURM_JWT: restart it with a fresh token before ${when}, or use --slurm.token-file (rotated) or --slurm.jwt-key-file (self-renewing)`;
}

function expiredFix(cfg: SlurmConfig, auth: SlurmAuth): string {
  if (auth.mode === 'token-file') return `write a fresh token (\`${NEW_TOKEN}\`) to ${cfg.tokenFile} now, and have a job rewrite it before each expiry`;
  return `restart with a fresh token in SLURM_JWT (\`${NEW_TOKEN}\`), or use --slurm.jwt-key-file so the exporter signs and renews its own`;
}

async function checkFileMode(report: Report, what: string, file: string | undefined): Promise<void> {
  if (!file) return;
  try {
    const s = await stat(file);
    if ((s.mode & 0o004) === 0) return;
    const mode = (s.mode & 0o777).toString(8).padStart(4, '0');
    add(report, { check: 'file-mode', status: 'warn', message: `${what} ${file} is readable by every user (mode ${mode})`, fix: `chmod 600 ${file}, owned by the exporter's user (Kubernetes: the Secret volume's defaultMode 0440 with the pod's fsGroup)` });
  } catch {
    // Reading it is checked (and reported) by the source itself.
  }
}

function checkExpiry(report: Report, cfg: SlurmConfig, auth: SlurmAuth, user: string): void {
  const exp = auth.expiresAt();
  const what = auth.describe();
  if (exp === undefined) {
    add(report, { check: 'token', status: 'warn', message: `${what}: no expiry (exp claim) in the token, so doctor cannot tell when it stops working`, fix: `Slurm's tokens are JWTs with an exp claim: make one with \`${NEW_TOKEN}\`` });
    return;
  }
  const left = (exp - Date.now()) / 1000;
  const when = isoSeconds(exp);
  const data = { mode: auth.mode, user, expiresAt: when, secondsLeft: Math.round(left) };
  if (left <= 0) {
    add(report, { check: 'token', status: 'fail', message: `${what}: the token expired at ${when} (${span(left)} ago)`, fix: expiredFix(cfg, auth), data });
  } else if (left < EXPIRY_WARN_S) {
    add(report, { check: 'token', status: 'warn', message: `${what}: the token expires at ${when} (in ${span(left)})`, fix: renewFix(cfg, auth, when), data });
  } else {
    add(report, { check: 'token', status: 'ok', message: `${what}, user ${user}, expires ${when} (in ${span(left)})`, data });
  }
}

function checkUser(report: Report, cfg: SlurmConfig, token: string): string {
  const claimed = decodeJwtClaims(token).user;
  if (cfg.user && claimed && cfg.user !== claimed) {
    add(report, { check: 'user', status: 'warn', message: `--slurm.user ${cfg.user} differs from the token's user ${claimed} (sun claim)`, fix: `slurmctld allows that only when ${claimed} is root or SlurmUser: set --slurm.user ${claimed}, or make the token for ${cfg.user}` });
  } else if (!cfg.user && !claimed) {
    add(report, { check: 'user', status: 'warn', message: 'no user name: neither --slurm.user (SLURM_USER) nor a sun claim in the token', fix: 'set --slurm.user (or SLURM_USER) to the user the token was made for' });
  } else {
    add(report, { check: 'user', status: 'ok', message: `user ${cfg.user ?? claimed} (${cfg.user ? '--slurm.user / SLURM_USER' : "the token's sun claim"})` });
  }
  return cfg.user ?? claimed ?? '?';
}

async function registerKey(report: Report, cfg: SlurmConfig): Promise<void> {
  if (!cfg.jwtKeyFile) return;
  report.secret(await readFile(cfg.jwtKeyFile).catch(() => undefined));
}

function noCredential(report: Report, cfg: SlurmConfig): void {
  if (cfg.url!.startsWith('unix:')) {
    add(report, { check: 'token', status: 'ok', message: 'no token: over the unix socket slurmrestd authenticates the user this process runs as (auth/local)' });
    return;
  }
  add(report, { check: 'token', status: 'warn', message: 'no credential configured: slurmrestd with auth/jwt refuses every request', fix: 'set SLURM_JWT, --slurm.token-file (SLURM_JWT_FILE), or --slurm.jwt-key-file with --slurm.user' });
}

/** Checks the credential; false when it cannot even be read. */
export async function checkToken(report: Report, cfg: SlurmConfig): Promise<boolean> {
  const auth = new SlurmAuth(cfg);
  if (auth.mode === 'none') {
    noCredential(report, cfg);
    return true;
  }
  await registerKey(report, cfg);
  let headers: Record<string, string>;
  try {
    headers = await auth.headers();
  } catch (err) {
    add(report, { check: 'token', status: 'fail', message: errText(err), fix: sourceFix(cfg, auth) });
    return false;
  }
  const token = headers['x-slurm-user-token'] ?? '';
  report.secret(token);
  await checkFileMode(report, 'token file', cfg.tokenFile);
  await checkFileMode(report, 'JWT key file', cfg.jwtKeyFile);
  if (auth.mode === 'key-file') {
    add(report, { check: 'token', status: 'ok', message: `${auth.describe()}: each valid ${span(cfg.jwtLifetimeMs / 1000)}, renewed before it expires`, data: { mode: auth.mode, user: cfg.user } });
  } else {
    checkExpiry(report, cfg, auth, checkUser(report, cfg, token));
  }
  return true;
}
