import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuardedSource, TokenBucket } from '../../src/slurm/guarded-source.ts';
import type { FetchResult, SlurmSource } from '../../src/slurm/source.ts';
import type { ResourceKind } from '../../src/slurm/model.ts';

class CountingSource implements SlurmSource {
  calls: number[] = [];
  describe() {
    return 'counting';
  }
  async init() {}
  async fetch<K extends ResourceKind>(_kind: K): Promise<FetchResult<K>> {
    this.calls.push(performance.now());
    return { data: [] as never, anomalies: { unknown: [] }, bytes: 100, requests: 1 };
  }
  async close() {}
}

const off = { enabled: false, requestsPerSecond: 1, burstSize: 1 };
const noCache = { enabled: false, ttlMs: 0, maxSize: 0 };

test('token bucket allows a burst, then one request per 1/rate seconds', () => {
  let t = 0;
  const b = new TokenBucket(10, 3, () => t);
  assert.deepEqual([b.tryTake(), b.tryTake(), b.tryTake()], [0, 0, 0]);
  assert.equal(b.tryTake(), 100, 'fourth request waits 100 ms at 10 rps');
  t += 100;
  assert.equal(b.tryTake(), 0);
  t += 10_000;
  assert.deepEqual([b.tryTake(), b.tryTake(), b.tryTake(), b.tryTake() > 0], [0, 0, 0, true], 'refill stops at burst size');
});

test('rate limit spaces real fetches and gives up when the poll is aborted', async () => {
  const inner = new CountingSource();
  const g = new GuardedSource(inner, { rateLimit: { enabled: true, requestsPerSecond: 20, burstSize: 1 }, cache: noCache });
  const ctrl = new AbortController();
  for (let i = 0; i < 4; i++) await g.fetch('nodes', ctrl.signal);
  const gaps = inner.calls.slice(1).map((t, i) => t - inner.calls[i]!);
  for (const gap of gaps) assert.ok(gap >= 40, `requests ${gap.toFixed(1)} ms apart, limit is 50 ms`);
  const aborted = new AbortController();
  const p = g.fetch('nodes', aborted.signal);
  aborted.abort(new Error('stop'));
  await assert.rejects(p, /stop/);
  assert.equal(inner.calls.length, 4);
});

test('cache answers within ttl without asking Slurm, marks the age, evicts beyond maxSize', async () => {
  let now = 1000;
  const inner = new CountingSource();
  const g = new GuardedSource(inner, { rateLimit: off, cache: { enabled: true, ttlMs: 60_000, maxSize: 1 }, now: () => now });
  const s = new AbortController().signal;
  await g.fetch('nodes', s);
  now += 30_000;
  const hit = await g.fetch('nodes', s);
  assert.equal(inner.calls.length, 1);
  assert.equal(hit.requests, 0);
  assert.equal(hit.cachedAt, 1000);
  await g.fetch('jobs', s); // evicts nodes (maxSize 1)
  await g.fetch('nodes', s);
  assert.equal(inner.calls.length, 3);
  now += 61_000;
  await g.fetch('nodes', s);
  assert.equal(inner.calls.length, 4, 'expired entry is fetched again');
  assert.equal(g.cacheHits, 1);
});
