// Protections in front of any SlurmSource: slurm.rateLimit (token bucket) and slurm.cache
// (reuse an answer younger than ttl). Both sit outside the source so REST, CLI and simulator share them.
import type { ResourceKind } from './model.ts';
import { SlurmFetchError, type FetchResult, type SlurmSource } from './source.ts';

export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly rate: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(requestsPerSecond: number, burstSize: number, now: () => number = () => performance.now()) {
    if (!(requestsPerSecond > 0)) throw new Error(`rate limit: requestsPerSecond must be > 0, got ${requestsPerSecond}`);
    if (!(burstSize >= 1)) throw new Error(`rate limit: burstSize must be >= 1, got ${burstSize}`);
    this.rate = requestsPerSecond;
    this.burst = burstSize;
    this.tokens = burstSize;
    this.now = now;
    this.last = now();
  }

  /** Ms to wait before a token is available (0 = take it now). Takes the token when it returns 0. */
  tryTake(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  async take(signal: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.tryTake();
      if (wait === 0) return;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal.reason instanceof Error ? signal.reason : new SlurmFetchError('aborted', 'aborted while rate limited'));
        };
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, wait);
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}

export interface GuardOptions {
  rateLimit: { enabled: boolean; requestsPerSecond: number; burstSize: number };
  cache: { enabled: boolean; ttlMs: number; maxSize: number };
  now?: () => number;
}

interface CacheEntry {
  at: number;
  result: FetchResult<ResourceKind>;
}

export class GuardedSource implements SlurmSource {
  private readonly inner: SlurmSource;
  private readonly bucket: TokenBucket | undefined;
  private readonly cache = new Map<ResourceKind, CacheEntry>();
  private readonly opts: GuardOptions;
  private readonly now: () => number;
  /** Fetches answered from the cache, for the exporter's own metrics. */
  cacheHits = 0;
  /** Ms spent waiting for the rate limiter. */
  rateLimitedMs = 0;

  constructor(inner: SlurmSource, opts: GuardOptions) {
    this.inner = inner;
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.bucket = opts.rateLimit.enabled ? new TokenBucket(opts.rateLimit.requestsPerSecond, opts.rateLimit.burstSize) : undefined;
  }

  describe(): string {
    return this.inner.describe();
  }

  init(signal: AbortSignal): Promise<void> {
    return this.inner.init(signal);
  }

  async fetch<K extends ResourceKind>(kind: K, signal: AbortSignal): Promise<FetchResult<K>> {
    const { cache } = this.opts;
    if (cache.enabled) {
      const hit = this.cache.get(kind);
      if (hit && this.now() - hit.at < cache.ttlMs) {
        this.cacheHits++;
        // A cached answer cost Slurm nothing.
        return { ...(hit.result as FetchResult<K>), requests: 0, bytes: 0, cachedAt: hit.at };
      }
    }
    if (this.bucket) {
      const t0 = performance.now();
      await this.bucket.take(signal);
      this.rateLimitedMs += performance.now() - t0;
    }
    const result = await this.inner.fetch(kind, signal);
    if (cache.enabled && cache.maxSize > 0) {
      this.cache.delete(kind);
      this.cache.set(kind, { at: this.now(), result });
      // Oldest first out: Map keeps insertion order.
      while (this.cache.size > cache.maxSize) this.cache.delete(this.cache.keys().next().value as ResourceKind);
    }
    return result;
  }

  close(): Promise<void> {
    this.cache.clear();
    return this.inner.close();
  }
}
