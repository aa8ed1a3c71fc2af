// The etcd backend, for sites without Kubernetes: etcd v3 over its HTTP/JSON gateway (/v3/..., etcd 3.4+),
// no gRPC client needed. The leader is whoever created the key: a transaction puts it only while its
// create_revision is 0 (absent), bound to a lease of leaseDuration seconds; the leader keeps the lease alive
// and the key vanishes with it when the leader dies; release revokes the lease. etcd's own clock decides
// expiry, so replica clocks do not matter. (Chosen over the v3election Campaign API: Campaign blocks until
// elected, which does not fit a renew-deadline loop, and the transaction is the same thing it does inside.)
import { Pool } from 'undici';
import type { LeaseBackend, LeaseObservation } from './elector.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: unknown) => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');

export class EtcdLeaseBackend implements LeaseBackend {
  private readonly endpoints: string[];
  private readonly pools = new Map<string, Pool>();
  private readonly key: string;
  private readonly identity: string;
  private readonly ttlSeconds: number;
  private leaseId: string | undefined;
  private next = 0;

  constructor(opts: { endpoints: string[]; name: string; identity: string; leaseDurationMs: number }) {
    if (opts.endpoints.length === 0) throw new Error('etcd backend: no endpoints');
    this.endpoints = opts.endpoints.map((e) => e.replace(/\/+$/, ''));
    this.key = `/slurm-exporter/leader/${opts.name}`;
    this.identity = opts.identity;
    this.ttlSeconds = Math.max(2, Math.round(opts.leaseDurationMs / 1000));
  }

  describe(): string {
    return `etcd key ${this.key} at ${this.endpoints.join(',')}`;
  }

  /** POST to the first endpoint that answers; the next call starts from the one that worked. */
  private async call(path: string, body: unknown, signal: AbortSignal): Promise<Record<string, unknown>> {
    let lastErr: unknown;
    for (let i = 0; i < this.endpoints.length; i++) {
      const ep = this.endpoints[(this.next + i) % this.endpoints.length]!;
      let pool = this.pools.get(ep);
      if (!pool) {
        pool = new Pool(ep, { connections: 2, connectTimeout: 3000 });
        this.pools.set(ep, pool);
      }
      try {
        const res = await pool.request({ method: 'POST', path: `/v3/${path}`, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
        const text = await res.body.text();
        const json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
        if (res.statusCode !== 200) {
          throw new Error(`etcd ${ep} /v3/${path}: HTTP ${res.statusCode} ${typeof json.error === 'string' ? json.error : typeof json.message === 'string' ? json.message : text.slice(0, 200)}`);
        }
        this.next = (this.next + i) % this.endpoints.length;
        return json;
      } catch (err) {
        lastErr = err;
        if (signal.aborted) break;
      }
    }
    throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
  }

  async tryAcquireOrRenew(signal: AbortSignal): Promise<LeaseObservation> {
    if (this.leaseId !== undefined) {
      // Leading: keep the lease alive. A TTL of 0 (or none) means it already expired: we no longer lead.
      const r = await this.call('lease/keepalive', { ID: this.leaseId }, signal);
      const result = (r.result ?? r) as Record<string, unknown>;
      if (Number(result.TTL ?? 0) > 0) return { held: true, holder: this.identity };
      this.leaseId = undefined;
    }
    const grant = await this.call('lease/grant', { TTL: this.ttlSeconds }, signal);
    const id = String(grant.ID ?? '');
    if (!id) throw new Error('etcd lease/grant answered without an ID');
    let won = false;
    try {
      const txn = await this.call(
        'kv/txn',
        {
          compare: [{ key: b64(this.key), target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
          success: [{ request_put: { key: b64(this.key), value: b64(this.identity), lease: id } }],
          failure: [{ request_range: { key: b64(this.key) } }],
        },
        signal,
      );
      won = txn.succeeded === true;
      if (won) {
        this.leaseId = id;
        return { held: true, holder: this.identity };
      }
      const responses = (txn.responses ?? []) as { response_range?: { kvs?: { value?: string; lease?: string }[] } }[];
      const kv = responses[0]?.response_range?.kvs?.[0];
      return { held: false, holder: unb64(kv?.value), ...(await this.expiresIn(kv?.lease, signal)) };
    } finally {
      // A lease we did not need must not linger until its TTL.
      if (!won) await this.call('lease/revoke', { ID: id }, AbortSignal.timeout(2000)).catch(() => undefined);
    }
  }

  /**
   * When the holder's key goes: etcd deletes it when its lease runs out, and says how many whole seconds are
   * left (the lease ends within TTL + 1 s). Unknown (no lease, an error) leaves the standby on its retry ticks.
   */
  private async expiresIn(lease: string | undefined, signal: AbortSignal): Promise<{ expiresInMs?: number }> {
    if (!lease || lease === '0') return {};
    try {
      const r = await this.call('lease/timetolive', { ID: lease }, signal);
      const ttl = Number(((r.result ?? r) as { TTL?: unknown }).TTL ?? -1);
      // Within its last second (or gone): look again shortly rather than a whole retry period later.
      return ttl >= 1 ? { expiresInMs: ttl * 1000 } : { expiresInMs: 100 };
    } catch {
      return {};
    }
  }

  /** Values of the live keys under this backend's key + '/' (sharded-mode membership: one key per replica). */
  async listChildren(signal: AbortSignal): Promise<string[]> {
    const prefix = Buffer.from(`${this.key}/`, 'utf8');
    const end = Buffer.from(prefix);
    end[end.length - 1]! += 1;
    const r = await this.call('kv/range', { key: prefix.toString('base64'), range_end: end.toString('base64') }, signal);
    return ((r.kvs ?? []) as { value?: string }[]).map((kv) => unb64(kv.value)).filter((v) => v !== '');
  }

  async release(signal: AbortSignal): Promise<void> {
    if (this.leaseId === undefined) return;
    const id = this.leaseId;
    this.leaseId = undefined;
    await this.call('lease/revoke', { ID: id }, signal);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => p.destroy())));
  }
}
