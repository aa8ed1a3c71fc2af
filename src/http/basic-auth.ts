// Basic auth against bcrypt hashes (exporter-toolkit's basic_auth_users). bcrypt is slow on purpose
// (~100 ms at cost 10 in bcryptjs), so results are cached: Prometheus sends the same credentials every
// scrape. The cache key is an HMAC of user, hash and password under a per-process random key: the clear
// password is never stored, and the key is useless outside this process.

import { createHmac, randomBytes } from 'node:crypto';
import { compare } from 'bcryptjs';

// A valid cost-10 hash of a throwaway string: unknown users pay the same bcrypt time as known ones, so
// response time does not reveal which user names exist.
const DUMMY_HASH = '$2b$10$CQ569D75wS7lBYC69lYtq.tmaNaIMOxn6e3iZphaplOc1djP1sG4y';
const CACHE_MAX = 1024;

export interface BasicAuth {
  /** True when the Authorization header carries valid credentials. */
  check(authorization: string | undefined): Promise<boolean>;
  /** User name from a header (for logs), without checking it. */
  userOf(authorization: string | undefined): string | undefined;
}

function decode(authorization: string | undefined): { user: string; password: string } | undefined {
  if (!authorization) return undefined;
  const m = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
  if (!m) return undefined;
  const text = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

export interface BasicAuthOptions {
  /** bcrypt comparison; replaceable so tests can count how often bcrypt runs. */
  compare?: (password: string, hash: string) => Promise<boolean>;
}

export function createBasicAuth(users: ReadonlyMap<string, string>, opts: BasicAuthOptions = {}): BasicAuth {
  const bcryptCompare = opts.compare ?? compare;
  const hmacKey = randomBytes(32);
  // Map keeps insertion order: deleting the first key evicts the oldest entry.
  const cache = new Map<string, boolean>();
  const inflight = new Map<string, Promise<boolean>>();

  const verify = async (user: string, password: string): Promise<boolean> => {
    const hash = users.get(user);
    const key = createHmac('sha256', hmacKey).update(user).update('\0').update(hash ?? '').update('\0').update(password).digest('base64');
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    let pending = inflight.get(key);
    if (!pending) {
      pending = (async () => {
        let ok: boolean;
        try {
          ok = await bcryptCompare(password, hash ?? DUMMY_HASH);
        } catch {
          ok = false;
        }
        ok = ok && hash !== undefined;
        // Failures are cached too, so repeating one wrong password does not buy bcrypt time each try.
        if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
        cache.set(key, ok);
        return ok;
      })().finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    return pending;
  };

  return {
    async check(authorization) {
      const creds = decode(authorization);
      if (!creds) return false;
      return verify(creds.user, creds.password);
    },
    userOf(authorization) {
      return decode(authorization)?.user;
    },
  };
}
