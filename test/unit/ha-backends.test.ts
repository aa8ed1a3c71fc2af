// The lease backends against what they talk to: the Kubernetes Lease client against the in-repo API fake
// (real semantics: resourceVersion, 409, 404/create, MicroTime, 401, RBAC 403 per verb with the Role documented
// in docs/high-availability.md), the etcd backend against a real etcd 3.4; and the elector's safety rule (a
// leader cut off from the backend steps down by its renew deadline).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KubeApiError} from '../../src/ha/kube-lease.ts';
import { KubeLeaseBackend, changedBetween, inClusterConnection, kubeconfigConnection, microTime } from '../../src/ha/kube-lease.ts';
import { EtcdLeaseBackend } from '../../src/ha/etcd-lease.ts';
import { LeaderElector } from '../../src/ha/elector.ts';
import { FakeKubeApi, type PolicyRule, documentedRole } from '../support/fake-kube-api.ts';
import { type EtcdProcess, startEtcd } from '../support/etcd.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const sig = () => AbortSignal.timeout(5000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Kubernetes Lease backend against the API fake', () => {
  let api: FakeKubeApi;
  let server: string;
  before(async () => {
    api = new FakeKubeApi({ tokens: ['tok-a', 'tok-b'], forbiddenTokens: ['tok-norbac'], rules: documentedRole().rules });
    server = await api.start();
  });
  after(() => api.stop());

  const backend = (identity: string, token: string, now?: () => number) =>
    new KubeLeaseBackend({ server, token }, { namespace: 'hpc', name: 'exp', identity, leaseDurationMs: 3000, now });

  it('re-reads a rotated service-account token file (the kubelet rotates projected tokens)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sa-'));
    try {
      writeFileSync(path.join(dir, 'token'), 'tok-a\n');
      const conn = inClusterConnection({ KUBERNETES_SERVICE_HOST: '127.0.0.1' }, dir)!;
      const b = new KubeLeaseBackend({ ...conn, server, ca: undefined }, { namespace: 'hpc', name: 'rotated', identity: 'r', leaseDurationMs: 3000 });
      assert.deepEqual(await b.tryAcquireOrRenew(sig()), { held: true, holder: 'r' });
      // The kubelet swaps in a new token: the next request carries it.
      writeFileSync(path.join(dir, 'token'), 'tok-b\n');
      utimesSync(path.join(dir, 'token'), new Date(), new Date(Date.now() + 5000));
      assert.deepEqual(await b.tryAcquireOrRenew(sig()), { held: true, holder: 'r' });
      assert.equal(api.log.at(-1)?.token, 'tok-b', 'the renewal went out with the new token');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes MicroTime with exactly six fractional digits', () => {
    assert.equal(microTime(Date.UTC(2026, 10, 24, 10, 30, 45, 123)), '2026-11-24T10:30:45.123000Z');
  });

  it('creates the lease when absent, renews its own, and a second candidate stands by', async () => {
    const a = backend('a', 'tok-a');
    const b = backend('b', 'tok-b');
    assert.deepEqual(await a.tryAcquireOrRenew(sig()), { held: true, holder: 'a' });
    const created = api.leases.get('hpc/exp')!;
    assert.match(String(created.spec.renewTime), /\.\d{6}Z$/);
    const standby = await b.tryAcquireOrRenew(sig());
    assert.deepEqual({ held: standby.held, holder: standby.holder }, { held: false, holder: 'a' });
    // It has just seen a new record: the lease has its whole duration left.
    assert.ok(standby.expiresInMs! > 2900 && standby.expiresInMs! <= 3001, `expires in ${standby.expiresInMs} ms`);
    const rv = api.leases.get('hpc/exp')!.metadata.resourceVersion;
    assert.deepEqual(await a.tryAcquireOrRenew(sig()), { held: true, holder: 'a' });
    assert.notEqual(api.leases.get('hpc/exp')!.metadata.resourceVersion, rv, 'renewal wrote a new version');
    await a.release(sig());
    assert.equal(api.holder('hpc', 'exp'), '');
    assert.deepEqual(await b.tryAcquireOrRenew(sig()), { held: true, holder: 'b' });
    assert.equal(api.leases.get('hpc/exp')!.spec.leaseTransitions, 1);
    await b.release(sig());
    await a.close();
    await b.close();
  });

  it('takes over only after the record stayed unchanged for the lease duration (on its own clock)', async () => {
    api.leases.clear();
    let now = 1_000_000;
    const a = backend('a', 'tok-a');
    const b = backend('b', 'tok-b', () => now);
    await a.tryAcquireOrRenew(sig());
    assert.equal((await b.tryAcquireOrRenew(sig())).held, false);
    now += 2000;
    assert.equal((await b.tryAcquireOrRenew(sig())).held, false, 'seen unchanged for 2 s of 3');
    now += 1500;
    assert.deepEqual(await b.tryAcquireOrRenew(sig()), { held: true, holder: 'b' }, 'expired: 3.5 s unchanged');
    const old = await a.tryAcquireOrRenew(sig());
    assert.deepEqual({ held: old.held, holder: old.holder }, { held: false, holder: 'b' }, 'the old leader sees it lost');
    await a.close();
    await b.close();
  });

  it('dates a record it sees for the first time by the holder\'s renewTime, within what the renew deadline allows', async () => {
    // Lease 15 s, renew deadline 10 s: a renewTime up to 4 s back is believed (15 - 10 - 1).
    const at = (identity: string, token: string, offsetMs: number) =>
      new KubeLeaseBackend({ server, token }, { namespace: 'hpc', name: 'dated', identity, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, now: () => Date.now() + offsetMs });
    const cases = [
      { what: 'renewed 3 s before the standby first looks: 12 s left', holderSkew: 0, lookLater: 3000, left: 12_000 },
      { what: 'a holder clock an hour behind: clamped to 4 s back, 11 s left', holderSkew: -3_600_000, lookLater: 0, left: 11_000 },
      { what: 'a holder clock an hour ahead: taken as now, the whole 15 s left', holderSkew: 3_600_000, lookLater: 0, left: 15_000 },
    ];
    for (const c of cases) {
      api.leases.clear();
      const a = at('a', 'tok-a', c.holderSkew);
      const b = at('b', 'tok-b', c.lookLater);
      await a.tryAcquireOrRenew(sig());
      const seen = await b.tryAcquireOrRenew(sig());
      assert.equal(seen.held, false, c.what);
      assert.ok(Math.abs(seen.expiresInMs! - c.left) < 300, `${c.what}: expires in ${seen.expiresInMs} ms`);
      await a.close();
      await b.close();
    }
    assert.equal(changedBetween(Number.NaN, 1, 5), 5, 'no renewTime: the moment it was seen');
  });

  it('a stale write gets 409 from the API and means "not acquired", never a crash', async () => {
    api.leases.clear();
    const a = backend('a', 'tok-a');
    await a.tryAcquireOrRenew(sig());
    // Two writers race with the same resourceVersion: the fake accepts the first and refuses the second.
    const lease = api.leases.get('hpc/exp')!;
    const put = (holder: string) =>
      fetch(`${server}/apis/coordination.k8s.io/v1/namespaces/hpc/leases/exp`, {
        method: 'PUT',
        headers: { authorization: 'Bearer tok-b', 'content-type': 'application/json' },
        body: JSON.stringify({ ...lease, spec: { ...lease.spec, holderIdentity: holder } }),
      });
    assert.equal((await put('x')).status, 200);
    assert.equal((await put('y')).status, 409);
    await a.close();
  });

  it('the fake refuses a three-digit time, as a real API server does', async () => {
    const r = await fetch(`${server}/apis/coordination.k8s.io/v1/namespaces/hpc/leases`, {
      method: 'POST',
      headers: { authorization: 'Bearer tok-a', 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'ms' }, spec: { renewTime: new Date().toISOString() } }),
    });
    assert.equal(r.status, 400);
  });

  it('401 and 403 become errors that say what to fix', async () => {
    const noToken = backend('c', 'wrong');
    await assert.rejects(noToken.tryAcquireOrRenew(sig()), (e: KubeApiError) => e.status === 401 && /not valid/.test(e.message) && !e.message.includes('wrong'));
    const noRbac = backend('c', 'tok-norbac');
    await assert.rejects(noRbac.tryAcquireOrRenew(sig()), (e: KubeApiError) => e.status === 403 && /RBAC: the service account may not "get" leases/.test(e.message));
    await noToken.close();
    await noRbac.close();
  });

  it('the documented Role is enough for active-passive and for sharded mode (membership leases listed)', async () => {
    api.leases.clear();
    const seen = api.log.length;
    assert.equal(documentedRole().name, 'slurm-exporter-leader-election');
    const a = backend('a', 'tok-a');
    const member = new KubeLeaseBackend({ server, token: 'tok-b' }, { namespace: 'hpc', name: 'exp-member-b', identity: 'b', leaseDurationMs: 3000 });
    assert.deepEqual(await a.tryAcquireOrRenew(sig()), { held: true, holder: 'a' });
    assert.deepEqual(await a.tryAcquireOrRenew(sig()), { held: true, holder: 'a' });
    await a.release(sig());
    assert.deepEqual(await member.tryAcquireOrRenew(sig()), { held: true, holder: 'b' });
    assert.deepEqual((await member.list('exp-member-', sig())).map((l) => l.holder), ['b']);
    assert.deepEqual(api.log.slice(seen).filter((e) => e.status === 403), [], 'nothing was refused');
    await a.close();
    await member.close();
  });

  describe('RBAC: a verb the Role does not grant is refused with 403', () => {
    const VERBS = ['get', 'list', 'create', 'update', 'patch', 'delete', 'watch'];
    const all: PolicyRule[] = [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: VERBS }];
    const without = (verb: string): PolicyRule[] => [{ ...all[0], verbs: VERBS.filter((v) => v !== verb) }];
    const leases = (base: string) => `${base}/apis/coordination.k8s.io/v1/namespaces/hpc/leases`;
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'exp' }, spec: { holderIdentity: 'x' } };
    const requests: Record<string, (base: string) => Promise<Response>> = {
      get: (b) => fetch(`${leases(b)}/exp`, { headers: auth }),
      list: (b) => fetch(leases(b), { headers: auth }),
      watch: (b) => fetch(`${leases(b)}?watch=true`, { headers: auth }),
      create: (b) => fetch(leases(b), { method: 'POST', headers: auth, body: JSON.stringify(lease) }),
      update: (b) => fetch(`${leases(b)}/exp`, { method: 'PUT', headers: auth, body: JSON.stringify(lease) }),
      patch: (b) => fetch(`${leases(b)}/exp`, { method: 'PATCH', headers: { ...auth, 'content-type': 'application/merge-patch+json' }, body: '{}' }),
      delete: (b) => fetch(`${leases(b)}/exp`, { method: 'DELETE', headers: auth }),
    };
    const auth = { authorization: 'Bearer tok-a', 'content-type': 'application/json' };

    const withRules = async <T>(rules: PolicyRule[], body: (base: string) => Promise<T>): Promise<T> => {
      const fake = new FakeKubeApi({ tokens: ['tok-a'], rules });
      try {
        return await body(await fake.start());
      } finally {
        await fake.stop();
      }
    };

    for (const verb of VERBS) {
      it(`${verb}: 403 Forbidden in the Status format without it, not refused with it`, async () => {
        await withRules(without(verb), async (base) => {
          const r = await requests[verb]!(base);
          assert.equal(r.status, 403);
          const status = (await r.json()) as Record<string, unknown>;
          assert.deepEqual({ ...status, message: undefined }, {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: undefined,
            reason: 'Forbidden',
            details: { ...(verb === 'list' || verb === 'create' || verb === 'watch' ? {} : { name: 'exp' }), group: 'coordination.k8s.io', kind: 'leases' },
            code: 403,
          });
          assert.match(String(status.message), new RegExp(`is forbidden: User ".*" cannot ${verb} resource "leases" in API group "coordination.k8s.io" in the namespace "hpc"`));
        });
        await withRules(all, async (base) => assert.notEqual((await requests[verb]!(base)).status, 403));
      });
    }

    it('the Lease client names the missing verb and the resource', async () => {
      const cases: [string, (b: KubeLeaseBackend) => Promise<unknown>, RegExp][] = [
        ['get', (b) => b.tryAcquireOrRenew(sig()), /^reading lease hpc\/exp: 403 .*may not "get" leases \(coordination\.k8s\.io\) in namespace hpc/],
        ['create', (b) => b.tryAcquireOrRenew(sig()), /^creating lease hpc\/exp: 403 .*may not "create" leases/],
        ['list', (b) => b.list('exp-member-', sig()), /^listing leases in namespace hpc: 403 .*may not "list" leases.*list in sharded mode/],
      ];
      for (const [verb, call, re] of cases) {
        await withRules(without(verb), async (base) => {
          const b = new KubeLeaseBackend({ server: base, token: 'tok-a' }, { namespace: 'hpc', name: 'exp', identity: 'a', leaseDurationMs: 3000 });
          await assert.rejects(call(b), (e: KubeApiError) => e.status === 403 && re.test(e.message));
          await b.close();
        });
      }
      await withRules(without('update'), async (base) => {
        const b = new KubeLeaseBackend({ server: base, token: 'tok-a' }, { namespace: 'hpc', name: 'exp', identity: 'a', leaseDurationMs: 3000 });
        assert.equal((await b.tryAcquireOrRenew(sig())).held, true, 'created');
        await assert.rejects(b.tryAcquireOrRenew(sig()), (e: KubeApiError) => /^renewing lease hpc\/exp: 403 .*may not "update" leases/.test(e.message));
        await b.close();
      });
    });

    it('the Role the docs gave before (no list) would have broken sharded mode', async () => {
      await withRules(without('list').map((r) => ({ ...r, verbs: ['get', 'create', 'update'] })), async (base) => {
        const b = new KubeLeaseBackend({ server: base, token: 'tok-a' }, { namespace: 'hpc', name: 'exp-member-a', identity: 'a', leaseDurationMs: 3000 });
        assert.equal((await b.tryAcquireOrRenew(sig())).held, true);
        await assert.rejects(b.list('exp-member-', sig()), (e: KubeApiError) => e.status === 403);
        await b.close();
      });
    });
  });

  it('reads a kubeconfig: current context, server, token', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kubeconfig-'));
    const file = path.join(dir, 'config');
    writeFileSync(
      file,
      `apiVersion: v1\nkind: Config\ncurrent-context: lab\ncontexts:\n- name: lab\n  context: {cluster: c1, user: u1}\nclusters:\n- name: c1\n  cluster: {server: "${server}/"}\nusers:\n- name: u1\n  user: {token: tok-a}\n`,
    );
    const c = kubeconfigConnection(file);
    assert.equal(c.server, server);
    assert.equal(c.token, 'tok-a');
    writeFileSync(file, 'current-context: nope\ncontexts: []\n');
    assert.throws(() => kubeconfigConnection(file), /context "nope" not found/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('elector: a leader cut off from the API steps down by its renew deadline, before the lease expires', async () => {
    api.leases.clear();
    const t = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300 };
    const events: string[] = [];
    let stoppedAt = 0;
    const ea = new LeaderElector(backend('a', 'tok-a'), 'a', t, quiet, {
      onStartedLeading: () => events.push('a+'),
      onStoppedLeading: () => {
        events.push('a-');
        stoppedAt = Date.now();
      },
    });
    let startedAt = 0;
    const eb = new LeaderElector(backend('b', 'tok-b'), 'b', t, quiet, {
      onStartedLeading: () => {
        events.push('b+');
        startedAt = Date.now();
      },
      onStoppedLeading: () => events.push('b-'),
    });
    ea.start();
    while (!ea.isLeader()) await sleep(50);
    eb.start();
    await sleep(800);
    assert.equal(eb.isLeader(), false);
    api.cutOff.add('tok-a');
    api.dropConnections();
    while (!eb.isLeader()) await sleep(50);
    assert.ok(stoppedAt > 0 && stoppedAt < startedAt, `a stopped (${stoppedAt}) before b started (${startedAt})`);
    assert.deepEqual(events, ['a+', 'a-', 'b+']);
    assert.ok(ea.status().renewFailures > 0);
    api.cutOff.delete('tok-a');
    await ea.stop();
    await eb.stop();
    assert.equal(api.holder('hpc', 'exp'), '', 'b released on stop');
  });
});

describe('etcd backend against a real etcd 3.4', () => {
  let etcd: EtcdProcess;
  before(async () => {
    etcd = await startEtcd();
  });
  after(() => etcd.stop());

  it('one holder; the key goes with the lease; revoke hands over at once', async () => {
    const mk = (id: string) => new EtcdLeaseBackend({ endpoints: [etcd.endpoint], name: 'unit', identity: id, leaseDurationMs: 3000 });
    const a = mk('a');
    const b = mk('b');
    assert.deepEqual(await a.tryAcquireOrRenew(sig()), { held: true, holder: 'a' });
    const standby = await b.tryAcquireOrRenew(sig());
    assert.deepEqual({ held: standby.held, holder: standby.holder }, { held: false, holder: 'a' });
    // etcd says how long the holder's key has left, in whole seconds (the lease ends within TTL + 1 s).
    assert.ok(standby.expiresInMs! >= 2000 && standby.expiresInMs! <= 3000, `expires in ${standby.expiresInMs} ms`);
    assert.deepEqual(await a.tryAcquireOrRenew(sig()), { held: true, holder: 'a' }, 'keepalive');
    await a.release(sig());
    assert.deepEqual(await b.tryAcquireOrRenew(sig()), { held: true, holder: 'b' });
    // b stops renewing (as if killed): its lease runs out and a takes over.
    const t0 = Date.now();
    let got = await a.tryAcquireOrRenew(sig());
    while (!got.held) {
      await sleep(250);
      got = await a.tryAcquireOrRenew(sig());
    }
    const waited = Date.now() - t0;
    assert.ok(waited >= 1500 && waited < 6000, `took over after ${waited} ms (TTL 3 s)`);
    await a.release(sig());
    await a.close();
    await b.close();
  });

  it('an unreachable endpoint is skipped for the next one', async () => {
    const x = new EtcdLeaseBackend({ endpoints: ['http://127.0.0.1:1', etcd.endpoint], name: 'multi', identity: 'x', leaseDurationMs: 3000 });
    assert.deepEqual(await x.tryAcquireOrRenew(sig()), { held: true, holder: 'x' });
    await x.release(sig());
    await x.close();
  });
});
