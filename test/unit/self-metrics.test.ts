// The exporter's own metrics that the configuration reference promises: the cache and rate-limit figures of
// slurm.cache / slurm.rateLimit, and the supported gauge, filled from the live objects at scrape time.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { clusterSelfFamilies } from '../../src/self-metrics.ts';
import { Poller } from '../../src/poll/poller.ts';
import { SnapshotStore } from '../../src/poll/snapshot-store.ts';
import { AnomalyLog } from '../../src/poll/anomalies.ts';
import { GuardedSource } from '../../src/slurm/guarded-source.ts';
import { renderFamilies } from '../../src/exposition/writer.ts';
import { COLLECTOR_GROUPS } from '../../src/slurm/resources.ts';
import type { FetchResult, SlurmSource } from '../../src/slurm/source.ts';
import type { ResourceKind } from '../../src/slurm/model.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

class Licenses implements SlurmSource {
  describe() {
    return 'fixed';
  }
  async init() {}
  async fetch<K extends ResourceKind>(): Promise<FetchResult<K>> {
    return { data: [{ name: 'matlab', total: 4, used: 1, free: 3, reserved: 0, remote: false }] as never, anomalies: { unknown: [] }, bytes: 10, requests: 1 };
  }
  async close() {}
}

it('cache hits and rate-limit waits of the guarded source are exported', async () => {
  const guard = new GuardedSource(new Licenses(), { rateLimit: { enabled: true, requestsPerSecond: 5, burstSize: 1 }, cache: { enabled: true, ttlMs: 60_000, maxSize: 10 } });
  const groups = Object.fromEntries(COLLECTOR_GROUPS.map((g) => [g, { enabled: true, intervalMs: 60_000, timeoutMs: 5_000 }]));
  const anomalies = new AnomalyLog(quiet);
  const store = new SnapshotStore();
  const poller = new Poller(guard, store, ['licenses', 'reservations'], groups, quiet, anomalies);
  await poller.pollOnce('licenses');
  await poller.pollOnce('licenses'); // from the cache
  await poller.pollOnce('reservations'); // waits for the rate limit (burst 1, 5/s)
  const text = renderFamilies(
    clusterSelfFamilies([{ cluster: 'lab', groups: poller.groupStatuses(), counters: { errors: poller.stats.errors.entries(), apiErrors: poller.stats.apiErrors.entries(), requests: poller.stats.requests.entries(), responseBytes: poller.stats.responseBytes.entries(), collectorErrors: [], anomalies: anomalies.counter.entries() }, guard, restarts: [] }]),
    'text',
  );
  assert.match(text, /^slurm_exporter_slurm_cache_hits_total\{cluster="lab"\} 1$/m);
  const waited = Number(/^slurm_exporter_slurm_rate_limited_seconds_total\{cluster="lab"\} (\S+)$/m.exec(text)?.[1]);
  assert.ok(waited > 0.1 && waited < 1, `waited ${waited} s for a token at 5/s`);
  assert.match(text, /^slurm_exporter_collector_supported\{cluster="lab",collector="licenses"\} 1$/m);
  assert.match(text, /^slurm_exporter_slurm_requests_total\{cluster="lab",endpoint="licenses"\} 1$/m, 'a cached poll costs Slurm nothing');
});
