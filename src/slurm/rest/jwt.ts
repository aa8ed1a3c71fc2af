// Slurm's JWTs (auth/jwt): HS256, claims iat, exp and sun (the Slurm user name), as `scontrol token` makes them.
// Minting needs the cluster's jwt_hs256.key; reading a given token only decodes its claims (the signature is
// slurmctld's business), for the user name and the expiry.
import { createHmac } from 'node:crypto';

export interface JwtClaims {
  /** Slurm user name (`sun`). */
  user: string | undefined;
  /** Expiry, seconds since the epoch. */
  exp: number | undefined;
}

/** Signs a token for `user`, valid `lifetimeSec` from `nowSec`. */
export function mintSlurmJwt(user: string, key: Buffer, lifetimeSec: number, nowSec = Math.floor(Date.now() / 1000)): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = enc({ alg: 'HS256', typ: 'JWT' });
  const body = enc({ iat: nowSec, exp: nowSec + lifetimeSec, sun: user });
  const sig = createHmac('sha256', key).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** Claims of a token; undefined fields when it is not a JWT (tokens are opaque to us, so this never throws). */
export function decodeJwtClaims(token: string): JwtClaims {
  const parts = token.split('.');
  if (parts.length !== 3) return { user: undefined, exp: undefined };
  try {
    const p = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    return {
      user: typeof p.sun === 'string' && p.sun !== '' ? p.sun : typeof p.username === 'string' ? p.username : undefined,
      exp: typeof p.exp === 'number' ? p.exp : undefined,
    };
  } catch {
    return { user: undefined, exp: undefined };
  }
}
