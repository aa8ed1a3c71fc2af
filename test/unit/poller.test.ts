import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Poller } from '../../src/poll/poller.ts';
import { SnapshotStore } from '../../src/poll/snapshot-store.ts';
import { nextDelayMs } from '../../src/poll/backoff.ts';
import { SlurmFetchError, type FetchResult, type SlurmSource } from '../../src/slurm/source.ts';
import type { ResourceKind, SlurmNode } from '../../src/slurm/model.ts';
import type { CollectorGroupConfig } from '../../src/config/types.ts';
import { COLLECTOR_GROUPS } from '../../src/slurm/resources.ts';
import { AnomalyLog } from '../../src/poll/anomalies.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const groups = (intervalMs: number, timeoutMs: number): Record<string, CollectorGroupConfig> =>
  Object.fromEntries(
    COLLECTOR_GROUPS.map((g) => [g, { enabled: true, intervalMs, timeoutMs }]),
  );

function node(name: string): SlurmNode {
  return {
    name, state: 'idle', flags: [], partitions: ['p'], cpus: 4, allocCpus: 0, memoryBytes: 1, allocMemoryBytes: 0,
    freeMemoryBytes: undefined, cpuLoad: undefined, gres: [], gresUsed: [], reason: '', reasonChangedAt: 0, features: [],
  };
}

/** A scripted source: each fetch takes the next behaviour from the script. */
class ScriptedSource implements SlurmSource {
  calls = 0;
  inflight = 0;
  maxInflight = 0;
  inits = 0;
  script: (() => Promise<SlurmNode[]>)[];
  constructor(script: (() => Promise<SlurmNode[]>)[]) {
    this.script = script;
  }
  describe() {
    return 'scripted';
  }
  async init() {
    this.inits++;
  }
  async fetch<K extends ResourceKind>(_kind: K, signal: AbortSignal): Promise<FetchResult<K>> {
    this.calls++;
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    try {
      const step = this.script.shift() ?? (async () => [node('last')]);
      const data = await Promise.race([
        step(),
        new Promise<never>((_, rej) => signal.addEventListener('abort', () => rej(signal.reason), { once: true })),
      ]);
      return { data: data as never, anomalies: { unknown: [] }, bytes: 10, requests: 1 };
    } finally {
      this.inflight--;
    }
  }
  async close() {}
}

test('a failed poll keeps the last good snapshot and counts the error by kind', async () => {
  const src = new ScriptedSource([
    async () => [node('a'), node('b')],
    async () => {
      throw new SlurmFetchError('connect', 'connection refused');
    },
  ]);
  const store = new SnapshotStore();
  const p = new Poller(src, store, ['nodes'], groups(1000, 500), quiet, new AnomalyLog(quiet));
  await p.pollOnce('nodes');
  const first = store.get('nodes');
  assert.equal(first?.data.length, 2);
  await p.pollOnce('nodes');
  assert.equal(store.get('nodes'), first, 'snapshot must not be replaced by a failure');
  const st = p.statuses()[0]!;
  assert.equal(st.lastSuccess, false);
  assert.equal(st.consecutiveFailures, 1);
  assert.equal(st.lastErrorKind, 'connect');
  assert.equal(p.stats.apiErrors.get(['nodes', 'connect']), 1);
  assert.equal(p.stats.errors.get(['nodes', 'connect']), 1);
  await p.pollOnce('nodes');
  assert.equal(store.get('nodes')?.data[0]?.name, 'last');
  assert.equal(p.statuses()[0]!.consecutiveFailures, 0);
});

test('a fetch that outlives the group timeout fails as timeout, not as a hang', async () => {
  const src = new ScriptedSource([() => new Promise(() => {})]);
  const p = new Poller(src, new SnapshotStore(), ['nodes'], groups(1000, 50), quiet, new AnomalyLog(quiet));
  await p.pollOnce('nodes');
  assert.equal(p.statuses()[0]!.lastErrorKind, 'timeout');
});

test('scheduled polling never has two requests in flight for a kind, and stop() ends it', async () => {
  const slow = () => new Promise<SlurmNode[]>((r) => setTimeout(() => r([node('x')]), 30));
  const src = new ScriptedSource(Array.from({ length: 50 }, () => slow));
  const store = new SnapshotStore();
  const p = new Poller(src, store, ['nodes'], groups(10, 100), quiet, new AnomalyLog(quiet));
  p.activate();
  await new Promise((r) => setTimeout(r, 300));
  await p.stop();
  const calls = src.calls;
  assert.ok(calls >= 2, `expected several polls, got ${calls}`);
  assert.equal(src.maxInflight, 1);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(src.calls, calls, 'no poll after stop()');
  assert.equal(src.inits, 1, 'version negotiation runs once, not per poll');
});

test('deactivate aborts the request in flight and publishes nothing from it', async () => {
  let release: (v: SlurmNode[]) => void = () => {};
  const src = new ScriptedSource([() => new Promise((r) => (release = r))]);
  const store = new SnapshotStore();
  const p = new Poller(src, store, ['nodes'], groups(10_000, 5_000), quiet, new AnomalyLog(quiet));
  p.activate();
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(src.inflight, 1);
  p.deactivate();
  release([node('late')]);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(store.get('nodes'), undefined);
  await p.stop();
});

test('backoff retries soon after a failure and is capped at the interval', () => {
  const mid = () => 0.5; // no jitter
  assert.equal(nextDelayMs({ intervalMs: 30_000, consecutiveFailures: 0, random: mid }), 30_000);
  assert.equal(nextDelayMs({ intervalMs: 30_000, consecutiveFailures: 1, random: mid }), 1000);
  assert.equal(nextDelayMs({ intervalMs: 30_000, consecutiveFailures: 3, random: mid }), 4000);
  assert.equal(nextDelayMs({ intervalMs: 30_000, consecutiveFailures: 20, random: mid }), 30_000);
  assert.equal(nextDelayMs({ intervalMs: 30_000, consecutiveFailures: 2, noFastRetry: true, random: mid }), 30_000);
  const lo = nextDelayMs({ intervalMs: 10_000, consecutiveFailures: 0, random: () => 0 });
  const hi = nextDelayMs({ intervalMs: 10_000, consecutiveFailures: 0, random: () => 1 });
  assert.deepEqual([lo, hi], [9000, 11000]);
});
