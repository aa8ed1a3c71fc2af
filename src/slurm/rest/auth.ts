// Where the X-SLURM-USER-* headers come from: a fixed token (SLURM_JWT), a token file that a sidecar rotates
// (re-read when its mtime or size changes), or tokens we sign ourselves with the cluster's HS256 key and
// renew before they expire. None of these texts may reach a log or an error message.
import { readFile, stat } from 'node:fs/promises';
import { SlurmFetchError } from '../source.ts';
import { decodeJwtClaims, mintSlurmJwt } from './jwt.ts';

export interface AuthConfig {
  user: string | undefined;
  token: string | undefined;
  tokenFile: string | undefined;
  jwtKeyFile: string | undefined;
  jwtLifetimeMs: number;
}

export type AuthMode = 'none' | 'token' | 'token-file' | 'key-file';

interface Current {
  token: string;
  user: string | undefined;
  /** Expiry in ms since the epoch, when the token says. */
  expiresAt: number | undefined;
}

export class SlurmAuth {
  readonly mode: AuthMode;
  private readonly cfg: AuthConfig;
  private current: Current | undefined;
  private fileSig = '';
  private key: Buffer | undefined;
  private readonly now: () => number;

  constructor(cfg: AuthConfig, now: () => number = Date.now) {
    this.cfg = cfg;
    this.now = now;
    // A key file wins: self-signed tokens never expire on us. Then a rotated file, then a fixed token.
    this.mode = cfg.jwtKeyFile ? 'key-file' : cfg.tokenFile ? 'token-file' : cfg.token ? 'token' : 'none';
  }

  describe(): string {
    switch (this.mode) {
      case 'key-file':
        return `JWT signed with ${this.cfg.jwtKeyFile} for user ${this.cfg.user ?? '?'}`;
      case 'token-file':
        return `JWT from ${this.cfg.tokenFile}`;
      case 'token':
        return 'JWT from slurm.token (SLURM_JWT or the configuration file)';
      default:
        return 'no authentication';
    }
  }

  /** When the token in use expires (ms since epoch), if known. */
  expiresAt(): number | undefined {
    return this.current?.expiresAt;
  }

  /** Headers for the next request; refreshes a file token or a self-signed one that is close to expiry. */
  async headers(): Promise<Record<string, string>> {
    switch (this.mode) {
      case 'none':
        return {};
      case 'token':
        this.current ??= this.fromToken(this.cfg.token!.trim());
        break;
      case 'token-file':
        await this.readTokenFile(false);
        break;
      case 'key-file':
        if (!this.current || this.nearExpiry()) await this.mint();
        break;
    }
    const c = this.current!;
    const h: Record<string, string> = { 'x-slurm-user-token': c.token };
    const user = this.cfg.user ?? c.user;
    if (user) h['x-slurm-user-name'] = user;
    return h;
  }

  /**
   * After slurmrestd refused the token: get a different one if we can (re-read the file, sign a new one).
   * True when the next request will carry a new token, so one retry is worth it.
   */
  async renew(): Promise<boolean> {
    switch (this.mode) {
      case 'token-file': {
        const before = this.current?.token;
        await this.readTokenFile(true);
        return this.current?.token !== before;
      }
      case 'key-file':
        this.key = undefined; // the key may have been rotated too
        await this.mint();
        return true;
      default:
        return false;
    }
  }

  private fromToken(token: string): Current {
    const claims = decodeJwtClaims(token);
    return { token, user: claims.user, expiresAt: claims.exp === undefined ? undefined : claims.exp * 1000 };
  }

  private nearExpiry(): boolean {
    const exp = this.current?.expiresAt;
    if (exp === undefined) return false;
    // Renew at 80 % of the lifetime, and never closer than 30 s to the end.
    const margin = Math.max(30_000, this.cfg.jwtLifetimeMs / 5);
    return exp - this.now() < margin;
  }

  private async readTokenFile(force: boolean): Promise<void> {
    const file = this.cfg.tokenFile!;
    let sig: string;
    try {
      const s = await stat(file);
      sig = `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch (err) {
      throw new SlurmFetchError('auth', `token file ${file}: ${errCode(err)}`);
    }
    if (!force && sig === this.fileSig && this.current) return;
    let text: string;
    try {
      text = (await readFile(file, 'utf8')).trim();
    } catch (err) {
      throw new SlurmFetchError('auth', `token file ${file}: ${errCode(err)}`);
    }
    if (text === '') throw new SlurmFetchError('auth', `token file ${file} is empty`);
    this.current = this.fromToken(text);
    this.fileSig = sig;
  }

  private async mint(): Promise<void> {
    const file = this.cfg.jwtKeyFile!;
    if (!this.key) {
      try {
        this.key = await readFile(file);
      } catch (err) {
        throw new SlurmFetchError('auth', `JWT key file ${file}: ${errCode(err)}`);
      }
      if (this.key.length === 0) throw new SlurmFetchError('auth', `JWT key file ${file} is empty`);
    }
    const user = this.cfg.user;
    if (!user) throw new SlurmFetchError('auth', 'slurm.user is required to sign tokens with slurm.jwtKeyFile');
    const lifetimeSec = Math.max(60, Math.round(this.cfg.jwtLifetimeMs / 1000));
    const nowSec = Math.floor(this.now() / 1000);
    this.current = { token: mintSlurmJwt(user, this.key, lifetimeSec, nowSec), user, expiresAt: (nowSec + lifetimeSec) * 1000 };
  }
}

function errCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return code ?? (err instanceof Error ? err.message : String(err));
}
