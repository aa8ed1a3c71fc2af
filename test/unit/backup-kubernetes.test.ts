// The deployment-state source against the project's Kubernetes API fake: what is read (by label selector, per
// kind), how it is cleaned, how Secrets are kept out of an unencrypted archive, RBAC refusals and an absent CRD.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { KubernetesSource, createSource } from '../../src/backup/sources/kubernetes.ts';
import type { SourceContext, SourceFile } from '../../src/backup/types.ts';
import { FakeKubeApi } from '../support/fake-kube-api.ts';
import type { PolicyRule } from '../support/fake-kube-api.ts';

const NS = 'monitoring';
const SELECTOR = 'app.kubernetes.io/instance=slurm-exporter';
const LABELS = { 'app.kubernetes.io/instance': 'slurm-exporter', 'app.kubernetes.io/name': 'slurm-exporter' };
const SECRET_VALUE = 'hunter2-very-secret-token';
const SECRET_B64 = Buffer.from(SECRET_VALUE).toString('base64');

/** The backup Role: get and list on every kind backed up. */
const BACKUP_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['configmaps', 'secrets', 'services'], verbs: ['get', 'list'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list'] },
  { apiGroups: ['monitoring.coreos.com'], resources: ['servicemonitors', 'prometheusrules'], verbs: ['get', 'list'] },
];

function seed(api: FakeKubeApi): void {
  const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: NS, labels: LABELS, ...extra });
  api.add('configmaps', { metadata: meta('slurm-exporter-config'), data: { 'config.yaml': 'slurm:\n  url: http://slurmrestd:6820\n' } });
  api.add('configmaps', { metadata: { name: 'someone-else', namespace: NS, labels: { app: 'other' } }, data: { a: 'b' } });
  api.add('configmaps', { metadata: { ...meta('elsewhere'), namespace: 'default' }, data: { a: 'b' } });
  const applied = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', data: { token: SECRET_B64 } });
  api.add('secrets', {
    metadata: meta('slurm-exporter-jwt', { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': applied, team: 'hpc' } }),
    type: 'Opaque',
    data: { token: SECRET_B64 },
    stringData: { password: SECRET_VALUE },
  });
  api.add('deployments', { metadata: meta('slurm-exporter'), spec: { replicas: 2 }, status: { readyReplicas: 2 } });
  api.add('services', { metadata: meta('slurm-exporter'), spec: { ports: [{ port: 9341 }] } });
  api.add('networkpolicies', { metadata: meta('slurm-exporter'), spec: { podSelector: {} } });
  api.add('servicemonitors', { metadata: meta('slurm-exporter'), spec: { endpoints: [{ port: 'http' }] } });
  api.add('prometheusrules', { metadata: meta('slurm-exporter'), spec: { groups: [] } });
}

const logs: string[] = [];
const ctx = (encrypted: boolean): SourceContext => ({ signal: AbortSignal.timeout(10_000), log: (m) => logs.push(m), encrypted });

async function collect(src: KubernetesSource, c: SourceContext): Promise<Map<string, { file: SourceFile; text: string }>> {
  const out = new Map<string, { file: SourceFile; text: string }>();
  for await (const file of src.collect(c)) {
    const parts: Buffer[] = [];
    for await (const chunk of file.read()) parts.push(Buffer.from(chunk));
    const text = Buffer.concat(parts).toString('utf8');
    assert.equal(Buffer.byteLength(text), file.size, `${file.path}: size`);
    out.set(file.path, { file, text });
  }
  return out;
}

function start(opts: { rules?: PolicyRule[]; absentGroups?: string[] } = {}): { api: FakeKubeApi; url: Promise<string>; source: (token?: string) => Promise<KubernetesSource> } {
  const api = new FakeKubeApi({ tokens: ['tok'], forbiddenTokens: ['tok-norbac'], rules: opts.rules ?? BACKUP_RULES, absentGroups: opts.absentGroups });
  seed(api);
  const server = api.start();
  return { api, url: server, source: async (token = 'tok') => new KubernetesSource({ namespace: NS, labelSelector: SELECTOR, connection: { server: await server, token } }) };
}

let main: ReturnType<typeof start>;
before(() => {
  main = start();
});
after(async () => {
  await main.api.stop();
});

test('every kind of the release is read by label selector, one cleaned YAML file per object', async () => {
  const files = await collect(await main.source(), ctx(true));
  assert.deepEqual([...files.keys()].sort(), [
    'NOTES.txt',
    'configmaps/slurm-exporter-config.yaml',
    'deployments/slurm-exporter.yaml',
    'networkpolicies/slurm-exporter.yaml',
    'prometheusrules/slurm-exporter.yaml',
    'secrets/slurm-exporter-jwt.yaml',
    'servicemonitors/slurm-exporter.yaml',
    'services/slurm-exporter.yaml',
  ]);
  const deploy = parse(files.get('deployments/slurm-exporter.yaml')!.text) as Record<string, Record<string, unknown>>;
  assert.equal(deploy.apiVersion, 'apps/v1');
  assert.equal(deploy.kind, 'Deployment');
  assert.deepEqual(deploy.spec, { replicas: 2 });
  assert.equal(deploy.status, undefined);
  assert.deepEqual(Object.keys(deploy.metadata!).sort(), ['labels', 'name', 'namespace']);
  const sm = parse(files.get('servicemonitors/slurm-exporter.yaml')!.text) as Record<string, unknown>;
  assert.equal(sm.apiVersion, 'monitoring.coreos.com/v1');
  assert.equal(sm.kind, 'ServiceMonitor');
  for (const { file, text } of files.values()) {
    assert.ok(!/managedFields|resourceVersion|uid-|creationTimestamp/.test(text), `${file.path} keeps server-set fields:\n${text}`);
  }
  const lists = main.api.log.filter((r) => r.method === 'GET').map((r) => new URL(r.path, 'http://x').searchParams.get('labelSelector'));
  assert.ok(lists.every((s) => s === SELECTOR), 'every list carries the release selector');
});

test('with encryption a Secret is kept whole (0600), without the last-applied annotation duplicate', async () => {
  const files = await collect(await main.source(), ctx(true));
  const { file, text } = files.get('secrets/slurm-exporter-jwt.yaml')!;
  assert.equal(file.mode, 0o600);
  const secret = parse(text) as { data: Record<string, string>; stringData: Record<string, string>; metadata: { annotations: Record<string, string> } };
  assert.deepEqual(secret.data, { token: SECRET_B64 });
  assert.deepEqual(secret.stringData, { password: SECRET_VALUE });
  assert.deepEqual(secret.metadata.annotations, { team: 'hpc' });
});

test('without encryption a Secret keeps only metadata and key names, and says so: no value bytes anywhere', async () => {
  const files = await collect(await main.source(), ctx(false));
  const { text } = files.get('secrets/slurm-exporter-jwt.yaml')!;
  assert.match(text, /^# Secret values omitted: this archive is not encrypted/);
  const secret = parse(text) as Record<string, unknown>;
  assert.deepEqual(secret.dataKeys, ['password', 'token']);
  assert.equal(secret.data, undefined);
  assert.equal(secret.type, 'Opaque');
  const all = [...files.values()].map((f) => f.text).join('\n');
  for (const needle of [SECRET_VALUE, SECRET_B64, Buffer.from(SECRET_VALUE).toString('hex')]) {
    assert.ok(!all.includes(needle), `a Secret value (${needle.slice(0, 4)}...) is in the unencrypted output`);
  }
  assert.ok(!logs.join('\n').includes(SECRET_VALUE));
  assert.match(files.get('NOTES.txt')!.text, /secrets: values omitted \(archive not encrypted\)/);
});

test('a CRD kind the server does not serve (404 on its group) is skipped with a note, not a failure', async () => {
  const s = start({ absentGroups: ['monitoring.coreos.com'] });
  try {
    logs.length = 0;
    const files = await collect(await s.source(), ctx(true));
    assert.ok(!files.has('servicemonitors/slurm-exporter.yaml') && !files.has('prometheusrules/slurm-exporter.yaml'));
    assert.ok(files.has('deployments/slurm-exporter.yaml'));
    const notes = files.get('NOTES.txt')!.text;
    assert.match(notes, /servicemonitors\.monitoring\.coreos\.com: skipped, the API server does not serve monitoring\.coreos\.com\/v1/);
    assert.match(notes, /prometheusrules\.monitoring\.coreos\.com: skipped/);
    assert.ok(logs.some((l) => l.startsWith('servicemonitors.monitoring.coreos.com: skipped')));
  } finally {
    await s.api.stop();
  }
});

test('an RBAC refusal fails the backup with a 403 that names the verb, the resource and the namespace', async () => {
  const s = start({ rules: BACKUP_RULES.filter((r) => !r.resources?.includes('deployments')) });
  try {
    await assert.rejects(
      collect(await s.source(), ctx(true)),
      /^Error: deployment backup: listing deployments\.apps in namespace monitoring: 403 deployments\.apps is forbidden: .* cannot list resource "deployments" in API group "apps" in the namespace "monitoring" \(RBAC: the backup service account may not "list" deployments\.apps/,
    );
  } finally {
    await s.api.stop();
  }
});

test('a token bound to no Role is refused on the first kind, and an unknown token is 401', async () => {
  await assert.rejects(collect(await main.source('tok-norbac'), ctx(true)), /listing configmaps in namespace monitoring: 403 .*cannot list resource "configmaps" in API group ""/);
  await assert.rejects(collect(await main.source('nope'), ctx(true)), /listing configmaps in namespace monitoring: 401 Unauthorized \(the token is not valid\)/);
});

test('an API server that is down fails with the kind being listed and the server, not a raw socket error', async () => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  const src = new KubernetesSource({ namespace: NS, labelSelector: SELECTOR, connection: { server: `http://127.0.0.1:${port}`, token: 'tok' } });
  await assert.rejects(collect(src, ctx(true)), new RegExp(`^Error: deployment backup: listing configmaps in namespace monitoring: cannot reach the Kubernetes API at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED$`));
});

test('createSource reads backup.kubernetes (namespace, selector, kubeconfig) and collects through it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kubeconfig-'));
  try {
    const server = await main.url;
    const file = path.join(dir, 'config');
    writeFileSync(file, stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': 'c', contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }], clusters: [{ name: 'k', cluster: { server } }], users: [{ name: 'u', user: { token: 'tok' } }] }));
    const src = await createSource({ backup: { kubernetes: { namespace: NS, kubeconfig: file } } }, {});
    assert.equal(src.type, 'deployment');
    assert.match(src.describe(), new RegExp(`namespace monitoring matching ${SELECTOR.replace(/\./g, '\\.')} at ${server}`));
    const files = await collect(src as KubernetesSource, ctx(false));
    assert.ok(files.has('deployments/slurm-exporter.yaml'));
    assert.throws(() => createSource({ backup: {} }, { POD_NAMESPACE: 'x' }), /no Kubernetes API: not in a pod .*neither backup\.kubernetes\.kubeconfig nor KUBECONFIG is set/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('describe names namespace, selector and server, never the token', async () => {
  const d = (await main.source('tok')).describe();
  assert.match(d, /^Kubernetes objects in namespace monitoring matching app\.kubernetes\.io\/instance=slurm-exporter at http:\/\/127\.0\.0\.1:\d+$/);
});

test('large namespaces are listed page by page (limit and continue), every object once', async () => {
  const big = start();
  try {
    for (let i = 0; i < 7; i++) big.api.add('configmaps', { metadata: { name: `extra-${i}`, namespace: NS, labels: { 'app.kubernetes.io/instance': 'slurm-exporter' } }, data: { i: String(i) } });
    const src = new KubernetesSource({ namespace: NS, labelSelector: SELECTOR, connection: { server: await big.url, token: 'tok' }, pageSize: 3 });
    const files = await collect(src, ctx(true));
    const cms = [...files.keys()].filter((k) => k.startsWith('configmaps/'));
    assert.equal(cms.length, 8, 'the release ConfigMap and the seven more');
    const pages = big.api.pages.filter((p) => p.resource === 'configmaps');
    assert.deepEqual(pages.map((p) => [p.from, p.count]), [[0, 3], [3, 3], [6, 2]]);
  } finally {
    await big.api.stop();
  }
});

test('a continue token that expired between pages fails the backup with what to do, nothing half-listed', async () => {
  const big = start();
  try {
    for (let i = 0; i < 4; i++) big.api.add('configmaps', { metadata: { name: `extra-${i}`, namespace: NS, labels: { 'app.kubernetes.io/instance': 'slurm-exporter' } }, data: {} });
    const server = await big.url;
    // An object changes while the backup pages through the list: the API refuses the old continue token.
    big.api.onListPage = (resource, from) => {
      if (resource === 'configmaps' && from === 0) big.api.add('configmaps', { metadata: { name: 'late', namespace: NS, labels: { 'app.kubernetes.io/instance': 'slurm-exporter' } }, data: {} });
    };
    const src = new KubernetesSource({ namespace: NS, labelSelector: SELECTOR, connection: { server, token: 'tok' }, pageSize: 2 });
    await assert.rejects(collect(src, ctx(true)), /continue token expired between pages \(410 Gone\); run the backup again/);
  } finally {
    await big.api.stop();
  }
});
