// Secrets never leave the process in logs, errors or check-config output. Two layers: values under
// secret-looking keys are replaced, and any text that looks like a JWT, a bearer token or a URL password
// is masked wherever it appears (a token pasted into the wrong key, or echoed in an error message).
import type { ExporterConfig } from './types.ts';

export const REDACTED = '<redacted>';
export const REDACTED_JWT = '<redacted-jwt>';

// Three base64url segments, the first a JSON object ("eyJ" is base64 of '{"'). The signature may be
// empty (alg "none").
const JWT_RE = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const BEARER_RE = /\b(Bearer\s+)(?!<redacted)[A-Za-z0-9._~+/=-]+/gi;
// Quotes end the match so a JSON line is never cut across fields.
const URL_PASSWORD_RE = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@"']*:)[^/\s@"']+@/gi;

/** Masks JWTs, bearer tokens and URL passwords inside any text. */
export function redactText(text: string): string {
  return text.replace(JWT_RE, REDACTED_JWT).replace(BEARER_RE, `$1${REDACTED}`).replace(URL_PASSWORD_RE, `$1${REDACTED}@`);
}

/** Whether a key names a secret (token, password, ...) rather than, say, the file holding one. */
export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase();
  if (/(file|path|name|url|lifetime|expires?)$/.test(k)) return false;
  return /token|passw(or)?d|secret|authorization|jwt|credential|api_?key|private_?key|^key$|x-slurm-user-token/.test(k);
}

/** A deep copy with secret values replaced and secret-looking text masked. */
export function redactValue<T>(value: T): T {
  const walk = (v: unknown, key: string | undefined): unknown => {
    if (typeof v === 'string') return key !== undefined && isSecretKey(key) && v !== '' ? REDACTED : redactText(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x, k)]));
    }
    return v;
  };
  return walk(value, undefined) as T;
}

/** The configuration with the Slurm token and anything secret-looking replaced. */
export function redactConfig(cfg: ExporterConfig): ExporterConfig {
  return redactValue(cfg);
}
