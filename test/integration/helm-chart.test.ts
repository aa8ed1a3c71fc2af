// The Helm chart (deploy/helm/slurm-exporter) and the kustomize manifests (deploy/kubernetes), rendered offline
// with a real helm 4 and kubectl 1.35 (.tools/bin, from scripts/install-test-deps.sh). Every rendered object is
// validated against the Kubernetes schema or its CRD's (kubernetes-models and the CRD model packages; the
// VerticalPodAutoscaler, which has no model package, by hand). The behaviours operators rely on are asserted
// on the rendered objects: replicas, probes, pod security, the RBAC verbs of each HA mode (compared with
// docs/high-availability.md and exercised against the Kubernetes API fake), the config checksum, the alert
// rules and dashboards from monitoring/, and the rendered exporter configuration loaded by the exporter's own
// config loader with the container's flags and environment. No API server runs here, so nothing is applied.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import * as YAML from 'yaml';
import { parseConfigText, resolveFromData, assertSourceConfigured } from '../../src/config/load.ts';
import { addConfigOptions, attributeName, CONFIG_FILE_FLAG, envOverlays, flagOverlays } from '../../src/config/flags.ts';
import { listFields } from '../../src/config/schema.ts';
import type { ExporterConfig } from '../../src/config/types.ts';
import { KubeLeaseBackend } from '../../src/ha/kube-lease.ts';
import { FakeKubeApi, documentedRole, type PolicyRule } from '../support/fake-kube-api.ts';
import {
  assertAllValid,
  CHART,
  find,
  get,
  helmTemplate,
  helmTemplateFails,
  kinds,
  KUSTOMIZE,
  kustomize,
  type K8sObject,
  ROOT,
  type TemplateOptions,
  run,
  tool,
  validateObject,
} from '../support/helm.ts';
import { dashboardId, planSync, RULES_SOURCE, DASHBOARDS_SOURCE } from '../../scripts/sync-chart-files.ts';
import { BACKUP_DEFAULT_SCHEDULES } from '../../src/backup/metric-names.ts';
import { parseCron } from '../../src/backup/cron.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- rendered manifests are untyped data

const CI_VALUES = readdirSync(path.join(CHART, 'ci'))
  .filter((f) => f.endsWith('-values.yaml'))
  .sort();
const POD_NAME = 'slurm-exporter-7d9f8c6b5-x2k4q';
const timings: { what: string; ms: number }[] = [];

async function render(what: string, o: TemplateOptions = {}) {
  const r = await helmTemplate(o);
  timings.push({ what, ms: r.ms });
  return r.objects;
}

/** The exporter's Deployment or Rollout (not the `backup schedule` Deployment of backup.mode schedule). */
function workload(objects: K8sObject[]): Obj {
  const exporter = objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] !== 'backup');
  const w = find(exporter, 'Deployment') ?? find(exporter, 'Rollout');
  assert.ok(w, `no Deployment or Rollout among ${kinds(objects).join(', ')}`);
  return w as Obj;
}

function container(objects: K8sObject[]): Obj {
  const c = (workload(objects).spec.template.spec.containers as Obj[]).find((x) => x.name === 'slurm-exporter');
  assert.ok(c, 'no container slurm-exporter');
  return c;
}

/**
 * Loads the rendered configuration the way the pod would: the container's args parsed by the exporter's own
 * flag definitions, the file they name read from the ConfigMap mounted there, `${VAR}` expanded from the
 * container's environment (downward-API values filled in), then validated by resolveFromData.
 */
function loadRenderedConfig(objects: K8sObject[]): { cfg: ExporterConfig; opts: Record<string, unknown>; env: Record<string, string> } {
  const pod = workload(objects).spec.template.spec as Obj;
  const c = container(objects);
  const env: Record<string, string> = {};
  for (const e of (c.env ?? []) as Obj[]) {
    const field = e.valueFrom?.fieldRef?.fieldPath as string | undefined;
    env[e.name] = e.value ?? (field === 'metadata.name' ? POD_NAME : field === 'metadata.namespace' ? 'monitoring' : '');
  }
  const program = addConfigOptions(new Command('slurm-exporter'))
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  program.parse(c.args as string[], { from: 'user' });
  const opts = program.opts();
  const file = opts[attributeName(CONFIG_FILE_FLAG)] as string;
  const mount = (c.volumeMounts as Obj[]).find((m) => file.startsWith(`${m.mountPath}/`));
  assert.ok(mount, `--config.file ${file} is in no mounted volume`);
  const volume = (pod.volumes as Obj[]).find((v) => v.name === mount.name);
  const cm = get(objects, 'ConfigMap', volume?.configMap?.name) as Obj;
  const text = cm.data?.[path.relative(mount.mountPath, file)] as string | undefined;
  assert.ok(text, `ConfigMap ${cm.metadata.name} has no key for ${file}`);
  const loaded = parseConfigText(text, env, `config ${file}`);
  assert.deepEqual(loaded.warnings, [], 'the rendered config loads without warnings');
  const cfg = resolveFromData(loaded.data, [...envOverlays(env), ...flagOverlays(opts)], env, `config ${file}`, () => 'localhost');
  assertSourceConfigured(cfg);
  return { cfg, opts, env };
}

/** The credential: a file from a Secret volume, named by the flag, never an environment variable. */
function assertCredentialMountedAsFile(objects: K8sObject[], flag: 'slurm.tokenFile' | 'slurm.jwtKeyFile', cfg: ExporterConfig, secretName: string, secretKey: string) {
  const pod = workload(objects).spec.template.spec as Obj;
  const c = container(objects);
  const file = flag === 'slurm.tokenFile' ? cfg.slurm.tokenFile : cfg.slurm.jwtKeyFile;
  assert.ok(file, `${flag} is set`);
  assert.ok((c.args as string[]).some((a) => a.startsWith(flag === 'slurm.tokenFile' ? '--slurm.token-file=' : '--slurm.jwt-key-file=')), 'passed as a flag');
  const mount = (c.volumeMounts as Obj[]).find((m) => file.startsWith(`${m.mountPath}/`));
  assert.ok(mount, `${file} is in a mounted volume`);
  assert.equal(mount.readOnly, true);
  const vol = (pod.volumes as Obj[]).find((v) => v.name === mount.name);
  assert.equal(vol?.secret?.secretName, secretName);
  assert.deepEqual(vol.secret.items, [{ key: secretKey, path: path.basename(file) }]);
  assert.equal(vol.secret.defaultMode, 0o440);
  for (const e of (c.env ?? []) as Obj[]) {
    assert.ok(!['SLURM_JWT', 'SLURM_JWT_FILE'].includes(e.name), `no ${e.name} in the environment`);
    assert.equal(e.valueFrom?.secretKeyRef, undefined, `env ${e.name} does not come from a Secret`);
  }
  assert.equal(c.envFrom, undefined);
}

function roleVerbs(objects: K8sObject[]): string[] | undefined {
  const role = find(objects, 'Role') as Obj | undefined;
  if (!role) return undefined;
  assert.equal(role.rules.length, 1, 'one rule');
  assert.deepEqual(role.rules[0].apiGroups, ['coordination.k8s.io']);
  assert.deepEqual(role.rules[0].resources, ['leases']);
  return [...(role.rules[0].verbs as string[])].sort();
}

/** Per mode, the verbs docs/high-availability.md's RBAC table gives ("every mode with election" or the mode). */
function documentedVerbs(mode: 'active-passive' | 'sharded'): string[] {
  const text = readFileSync(path.join(ROOT, 'docs/high-availability.md'), 'utf8');
  const section = text.slice(text.indexOf('## RBAC for the Kubernetes backend'));
  const verbs: string[] = [];
  for (const m of section.matchAll(/^\| `([a-z]+)` \| [^|]+ \| ([^|]+) \|$/gm)) {
    const who = m[2]!.trim();
    if (who === 'every mode with election' || who.includes(`\`${mode}\``)) verbs.push(m[1]!);
  }
  assert.ok(verbs.length >= 3, 'the RBAC table of docs/high-availability.md was found');
  return verbs.sort();
}

/** The Role's rules are enough for what the Lease client does in this mode, and list is refused when not granted. */
async function exerciseRole(rules: PolicyRule[], mode: 'active-passive' | 'sharded') {
  const api = new FakeKubeApi({ tokens: ['tok'], rules });
  const server = await api.start();
  const sig = () => AbortSignal.timeout(5000);
  const b = new KubeLeaseBackend({ server, token: 'tok' }, { namespace: 'monitoring', name: 'slurm-exporter', identity: 'a', leaseDurationMs: 3000 });
  try {
    assert.deepEqual(await b.tryAcquireOrRenew(sig()), { held: true, holder: 'a' }, 'create');
    assert.deepEqual(await b.tryAcquireOrRenew(sig()), { held: true, holder: 'a' }, 'get + update');
    await b.release(sig());
    if (mode === 'sharded') assert.ok(Array.isArray(await b.list('slurm-exporter-member-', sig())));
    else await assert.rejects(b.list('slurm-exporter-member-', sig()), /403/);
  } finally {
    await b.close();
    await api.stop();
  }
}

function assertPodSecurity(objects: K8sObject[]) {
  const pod = workload(objects).spec.template.spec as Obj;
  const c = container(objects);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.runAsUser, 65534);
  assert.equal(pod.securityContext.runAsGroup, 65534);
  assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.equal(c.securityContext.runAsNonRoot, true);
  assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
  assert.equal(c.securityContext.capabilities.add, undefined);
  assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory && c.resources.limits.cpu, 'requests and limits');
  assert.equal(pod.automountServiceAccountToken, false, 'no automounted token');
  // The only writable place is an emptyDir at /tmp.
  const tmp = (c.volumeMounts as Obj[]).find((m) => m.mountPath === '/tmp');
  assert.ok((pod.volumes as Obj[]).find((v) => v.name === tmp?.name)?.emptyDir);
}

/** With leader election on the Kubernetes API: a projected token where the in-cluster client reads it; else none. */
function assertApiToken(objects: K8sObject[], wanted: boolean) {
  const pod = workload(objects).spec.template.spec as Obj;
  const c = container(objects);
  const mount = (c.volumeMounts as Obj[]).find((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount');
  if (!wanted) {
    assert.equal(mount, undefined, 'no service-account token mounted');
    return;
  }
  assert.ok(mount, 'token mounted at the in-cluster path');
  const sources = (pod.volumes as Obj[]).find((v) => v.name === mount.name)?.projected?.sources as Obj[];
  assert.ok(sources.some((s) => s.serviceAccountToken?.path === 'token'));
  assert.ok(sources.some((s) => s.configMap?.name === 'kube-root-ca.crt'));
}

function assertProbes(objects: K8sObject[], readiness: '/ready' | '/health') {
  const c = container(objects);
  assert.equal(c.livenessProbe.httpGet.path, '/health');
  assert.equal(c.startupProbe.httpGet.path, '/health');
  assert.equal(c.readinessProbe.httpGet.path, readiness);
  for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) assert.equal(p.httpGet.port, 'http-metrics');
  assert.deepEqual(c.ports, [{ name: 'http-metrics', containerPort: 9341, protocol: 'TCP' }]);
}

function assertAntiAffinity(objects: K8sObject[]) {
  const terms = workload(objects).spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution as Obj[];
  assert.deepEqual(terms.map((t) => t.podAffinityTerm.topologyKey).sort(), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
  assert.equal(workload(objects).spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution, undefined);
}

function rulesSource(): Obj | undefined {
  const p = path.join(ROOT, RULES_SOURCE);
  return existsSync(p) ? (YAML.parse(readFileSync(p, 'utf8')) as Obj) : undefined;
}

function dashboardSources(): string[] {
  const dir = path.join(ROOT, DASHBOARDS_SOURCE);
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
}

function assertMonitoring(objects: K8sObject[], dashboardName: (id: string) => string) {
  const src = rulesSource();
  const rule = find(objects, 'PrometheusRule') as Obj | undefined;
  if (src) {
    assert.ok(rule, 'a PrometheusRule from monitoring/prometheus-rules.yaml');
    assert.deepEqual(rule.spec.groups, src.groups, 'its groups are monitoring/prometheus-rules.yaml\'s');
  } else {
    assert.equal(rule, undefined, 'no PrometheusRule while monitoring/prometheus-rules.yaml does not exist');
  }
  const files = dashboardSources();
  const cms = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
  assert.equal(cms.length, files.length, 'one dashboard ConfigMap per monitoring/dashboards/*.json');
  for (const f of files) {
    const cm = get(objects, 'ConfigMap', dashboardName(dashboardId(f))) as Obj;
    assert.equal(cm.metadata.labels.grafana_dashboard, '1');
    assert.equal(cm.data[f], readFileSync(path.join(ROOT, DASHBOARDS_SOURCE, f), 'utf8'), `${f} byte for byte`);
  }
}

it('helm 4 and kubectl 1.35 are in .tools/bin (else: run scripts/install-test-deps.sh)', async () => {
  const helm = await run(tool('helm'), ['version', '--short']);
  assert.match(helm.stdout, /^v4\./, helm.stdout + helm.stderr);
  const kubectl = await run(tool('kubectl'), ['version', '--client']);
  assert.match(kubectl.stdout, /Client Version: v1\.35\./, kubectl.stdout + kubectl.stderr);
});

after(() => {
  if (timings.length === 0) return;
  const ms = timings.map((t) => t.ms).sort((a, b) => a - b);
  const p = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!.toFixed(0);
  process.stdout.write(`# render times over ${ms.length} renders: min ${ms[0]!.toFixed(0)} ms, median ${p(0.5)} ms, max ${ms[ms.length - 1]!.toFixed(0)} ms\n`);
  for (const t of timings) process.stdout.write(`#   ${t.what}: ${t.ms.toFixed(0)} ms\n`);
});

describe('Helm chart deploy/helm/slurm-exporter', () => {
  it('helm lint --strict passes with the default values and with every ci/ values file', async () => {
    for (const values of [undefined, ...CI_VALUES]) {
      const args = ['lint', '--strict', CHART, '--namespace', 'monitoring', ...(values ? ['--values', path.join(CHART, 'ci', values)] : [])];
      const r = await run(tool('helm'), args);
      assert.equal(r.code, 0, `helm ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(r.stdout, /\[(WARNING|ERROR)\]/);
    }
  });

  describe('default values: active-passive, three replicas, Kubernetes Lease', () => {
    let objects: K8sObject[];
    before(async () => {
      objects = await render('default values', {});
    });

    it('renders the expected objects, each valid against its schema', () => {
      const want = ['ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Secret', 'Service', 'ServiceAccount', 'ServiceMonitor'];
      if (rulesSource()) want.push('PrometheusRule');
      assert.deepEqual(kinds(objects), [...new Set(want)].sort());
      assertAllValid(objects, 'default values');
      for (const o of objects) assert.equal(o.metadata.namespace, 'monitoring', `${o.kind}/${o.metadata.name} in the release namespace`);
    });

    it('Deployment: 3 replicas, rolling update 1/1, anti-affinity by host and zone', () => {
      const d = get(objects, 'Deployment') as Obj;
      assert.equal(d.spec.replicas, 3);
      assert.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } });
      assert.deepEqual(d.spec.selector.matchLabels, d.spec.template.metadata.labels && {
        'app.kubernetes.io/name': 'slurm-exporter',
        'app.kubernetes.io/instance': 'slurm-exporter',
      });
      assertAntiAffinity(objects);
    });

    it('probes: liveness and startup on /health; readiness on /health (active-passive: a standby answers /ready 503)', () => {
      assertProbes(objects, '/health');
    });

    it('pod security: non-root 65534, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
      assertPodSecurity(objects);
      assertApiToken(objects, true);
    });

    it('the rendered config loads with the exporter\'s loader: leader election with the pod\'s identity and namespace', () => {
      const { cfg } = loadRenderedConfig(objects);
      assert.equal(cfg.server.listenAddress, ':9341');
      assert.deepEqual(
        { ...cfg.server.leaderElection, etcdEndpoints: undefined, kubeconfig: undefined },
        {
          enabled: true,
          backend: 'kubernetes',
          mode: 'active-passive',
          leaseDurationMs: 15_000,
          renewDeadlineMs: 10_000,
          retryPeriodMs: 2_000,
          leaseName: 'slurm-exporter',
          namespace: 'monitoring',
          identity: POD_NAME,
          etcdEndpoints: undefined,
          kubeconfig: undefined,
        },
      );
      assert.equal(cfg.slurm.url, 'http://slurmrestd.slurm.svc.cluster.local:6820');
      assertCredentialMountedAsFile(objects, 'slurm.tokenFile', cfg, 'slurm-exporter-auth', 'token');
    });

    it('Role: get, create, update on leases, as docs/high-availability.md gives for active-passive; the Lease client works with it', async () => {
      assert.deepEqual(roleVerbs(objects), documentedVerbs('active-passive'));
      assert.deepEqual(roleVerbs(objects), ['create', 'get', 'update']);
      const rb = get(objects, 'RoleBinding') as Obj;
      assert.deepEqual(rb.roleRef, { kind: 'Role', name: get(objects, 'Role').metadata.name, apiGroup: 'rbac.authorization.k8s.io' });
      assert.deepEqual(rb.subjects, [{ kind: 'ServiceAccount', name: workload(objects).spec.template.spec.serviceAccountName, namespace: 'monitoring' }]);
      await exerciseRole((get(objects, 'Role') as Obj).rules, 'active-passive');
    });

    it('Services: ClusterIP and headless on 9341; the ServiceMonitor scrapes every pod through the headless one only', () => {
      const svc = get(objects, 'Service', 'slurm-exporter') as Obj;
      const headless = get(objects, 'Service', 'slurm-exporter-headless') as Obj;
      assert.equal(headless.spec.clusterIP, 'None');
      assert.equal(headless.spec.publishNotReadyAddresses, true);
      for (const s of [svc, headless]) assert.deepEqual(s.spec.ports, [{ name: 'http-metrics', port: 9341, targetPort: 'http-metrics', protocol: 'TCP' }]);
      const sm = get(objects, 'ServiceMonitor') as Obj;
      const sel = sm.spec.selector.matchLabels as Record<string, string>;
      const matches = (o: Obj) => Object.entries(sel).every(([k, v]) => o.metadata.labels?.[k] === v);
      assert.deepEqual(objects.filter((o) => o.kind === 'Service' && matches(o as Obj)).map((o) => o.metadata.name), ['slurm-exporter-headless']);
      assert.equal(sm.spec.endpoints[0].port, 'http-metrics');
      assert.equal(sm.spec.endpoints[0].path, '/metrics');
      assert.equal(sm.spec.jobLabel, 'app.kubernetes.io/name', 'job="slurm-exporter" whatever the release name');
    });

    it('PodDisruptionBudget: minAvailable 2 over the exporter pods', () => {
      const pdb = get(objects, 'PodDisruptionBudget') as Obj;
      assert.equal(pdb.spec.minAvailable, 2);
      assert.deepEqual(pdb.spec.selector.matchLabels, (get(objects, 'Deployment') as Obj).spec.selector.matchLabels);
    });

    it('NetworkPolicy: in only to 9341 from the monitoring namespace; out only to slurmrestd, DNS and the Kubernetes API', () => {
      const np = get(objects, 'NetworkPolicy') as Obj;
      assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
      assert.deepEqual(np.spec.ingress, [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ protocol: 'TCP', port: 9341 }] }]);
      const egress = np.spec.egress as Obj[];
      assert.equal(egress.length, 3);
      assert.deepEqual(egress[0]!.ports, [{ port: 6820, protocol: 'TCP' }], 'slurmrestd\'s port, from config.slurm.url');
      assert.ok(egress[0]!.to[0].podSelector && egress[0]!.to[0].namespaceSelector);
      assert.deepEqual(egress[1]!.ports.map((p: Obj) => `${p.protocol}/${p.port}`).sort(), ['TCP/53', 'UDP/53']);
      assert.deepEqual(egress[2]!.ports.map((p: Obj) => p.port), [443, 6443], 'the API server');
    });

    it('dashboards: one ConfigMap per monitoring/dashboards/*.json with grafana_dashboard "1"', () => {
      assertMonitoring(objects, (id) => `slurm-exporter-dashboard-${id}`);
    });
  });

  it('every ci/ values file renders, and every object validates (all options on across the files)', async () => {
    const all = new Set<string>();
    for (const f of CI_VALUES) {
      const objects = await render(`ci/${f}`, { valuesFiles: [`ci/${f}`] });
      assertAllValid(objects, `ci/${f}`);
      for (const o of objects) all.add(`${o.apiVersion}/${o.kind}`);
      loadRenderedConfig(objects);
    }
    for (const k of [
      'apps/v1/Deployment',
      'argoproj.io/v1alpha1/Rollout',
      'autoscaling/v2/HorizontalPodAutoscaler',
      'autoscaling.k8s.io/v1/VerticalPodAutoscaler',
      'networking.istio.io/v1/DestinationRule',
      'external-secrets.io/v1/ExternalSecret',
      'bitnami.com/v1alpha1/SealedSecret',
      'policy/v1/PodDisruptionBudget',
      'networking.k8s.io/v1/NetworkPolicy',
      'monitoring.coreos.com/v1/ServiceMonitor',
      'rbac.authorization.k8s.io/v1/Role',
      'v1/Secret',
      'batch/v1/CronJob',
      'v1/PersistentVolumeClaim',
    ]) {
      assert.ok(all.has(k), `some ci/ values file renders ${k}`);
    }
  });

  it('sharded: Role adds list (as documented), readiness on /ready, HPA and canary Rollout in place of the Deployment', async () => {
    const objects = await render('ci/sharded-values.yaml', { valuesFiles: ['ci/sharded-values.yaml'] });
    assert.deepEqual(roleVerbs(objects), documentedVerbs('sharded'));
    assert.deepEqual(roleVerbs(objects), ['create', 'get', 'list', 'update']);
    // docs/high-availability.md's Role block grants what both modes need, i.e. sharded's verbs.
    assert.deepEqual([...(documentedRole().rules[0]!.verbs ?? [])].sort(), roleVerbs(objects));
    await exerciseRole((get(objects, 'Role') as Obj).rules, 'sharded');
    assertProbes(objects, '/ready');
    assert.equal(find(objects, 'Deployment'), undefined, 'the Rollout replaces the Deployment');
    const ro = get(objects, 'Rollout') as Obj;
    assert.equal(ro.spec.replicas, undefined, 'the HPA owns the replica count');
    assert.deepEqual(ro.spec.strategy.canary.steps, [
      { setWeight: 10 },
      { pause: { duration: '1m' } },
      { setWeight: 25 },
      { pause: { duration: '1m' } },
      { setWeight: 50 },
      { pause: { duration: '1m' } },
      { setWeight: 100 },
    ]);
    const hpa = get(objects, 'HorizontalPodAutoscaler') as Obj;
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'slurm-exporter' });
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [3, 9]);
    assert.deepEqual(get(objects, 'VerticalPodAutoscaler').spec, {
      targetRef: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'slurm-exporter' },
      updatePolicy: { updateMode: 'Off' },
      resourcePolicy: {
        containerPolicies: [
          { containerName: 'slurm-exporter', controlledResources: ['cpu', 'memory'], controlledValues: 'RequestsAndLimits', minAllowed: { cpu: '100m', memory: '128Mi' }, maxAllowed: { cpu: '2', memory: '4Gi' } },
        ],
      },
    });
    const dr = get(objects, 'DestinationRule') as Obj;
    assert.equal(dr.spec.host, 'slurm-exporter.monitoring.svc.cluster.local');
    assert.equal(dr.spec.trafficPolicy.outlierDetection.consecutive5xxErrors, 3);
    // The HS256 key from an ExternalSecret into the Secret the pods mount; signed tokens for user slurm.
    const es = get(objects, 'ExternalSecret') as Obj;
    assert.equal(es.spec.target.name, 'slurm-exporter-auth');
    assert.equal(es.spec.data[0].secretKey, 'jwt_hs256.key');
    assert.equal(find(objects, 'Secret'), undefined, 'the ExternalSecret makes the Secret');
    const { cfg } = loadRenderedConfig(objects);
    assert.equal(cfg.server.leaderElection.mode, 'sharded');
    assert.equal(cfg.slurm.user, 'slurm');
    assert.equal(cfg.slurm.cluster, 'hpc-west');
    assertCredentialMountedAsFile(objects, 'slurm.jwtKeyFile', cfg, 'slurm-exporter-auth', 'jwt_hs256.key');
    const np = get(objects, 'NetworkPolicy') as Obj;
    assert.deepEqual(np.spec.egress[0], { ports: [{ port: 6820, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '10.20.0.0/24' } }] });
    assert.deepEqual(np.spec.egress[2].to, [{ ipBlock: { cidr: '10.0.0.1/32' } }]);
  });

  it('blue-green: a Rollout with active and preview Services, no auto-promotion, the analysis; the token from a SealedSecret', async () => {
    const objects = await render('ci/bluegreen-values.yaml', { valuesFiles: ['ci/bluegreen-values.yaml'] });
    const bg = (get(objects, 'Rollout') as Obj).spec.strategy.blueGreen;
    assert.deepEqual(bg, {
      activeService: 'slurm-exporter',
      previewService: 'slurm-exporter-preview',
      autoPromotionEnabled: false,
      scaleDownDelaySeconds: 30,
      prePromotionAnalysis: { templates: [{ templateName: 'success-rate' }], args: [{ name: 'service-name', value: 'slurm-exporter-preview' }] },
    });
    assert.equal((get(objects, 'Rollout') as Obj).spec.replicas, 3);
    assert.ok(find(objects, 'Service', 'slurm-exporter-preview'));
    // Argo re-points the active and preview Services during a rollout; the ServiceMonitor scrapes through the
    // headless one, which it leaves alone, so no pod drops out of the scrape while an old leader still leads.
    const sel = (get(objects, 'ServiceMonitor') as Obj).spec.selector.matchLabels as Record<string, string>;
    const scraped = objects.filter((o) => o.kind === 'Service' && Object.entries(sel).every(([k, v]) => o.metadata.labels?.[k] === v));
    assert.deepEqual(scraped.map((o) => o.metadata.name), ['slurm-exporter-headless']);
    const ss = get(objects, 'SealedSecret') as Obj;
    assert.equal(ss.metadata.name, 'slurm-exporter-auth');
    assert.deepEqual(Object.keys(ss.spec.encryptedData), ['token']);
    assert.equal(ss.spec.template.metadata.name, 'slurm-exporter-auth');
    assert.deepEqual((get(objects, 'VerticalPodAutoscaler') as Obj).spec.updatePolicy, { updateMode: 'Recreate', minReplicas: 2 });
    assert.equal((get(objects, 'PodDisruptionBudget') as Obj).spec.minAvailable, 2);
    assertProbes(objects, '/health');
    const { cfg } = loadRenderedConfig(objects);
    assert.deepEqual([cfg.server.leaderElection.leaseDurationMs, cfg.server.leaderElection.renewDeadlineMs, cfg.server.leaderElection.retryPeriodMs], [20_000, 15_000, 3_000]);
    for (const cm of objects.filter((o) => o.metadata.labels?.grafana_dashboard === '1')) assert.equal(cm.metadata.namespace, 'grafana');
  });

  it('no Role and no API token where the mode does not use the Kubernetes API (active-active, etcd, election off)', async () => {
    const cases: [string, TemplateOptions][] = [
      ['ci/active-active-values.yaml', { valuesFiles: ['ci/active-active-values.yaml'] }],
      ['ci/etcd-values.yaml', { valuesFiles: ['ci/etcd-values.yaml'] }],
      ['--set config.server.leaderElection.enabled=false', { set: { 'config.server.leaderElection.enabled': false } }],
    ];
    for (const [what, opts] of cases) {
      const objects = await render(what, opts);
      assert.equal(find(objects, 'Role'), undefined, `${what}: no Role`);
      assert.equal(find(objects, 'RoleBinding'), undefined, `${what}: no RoleBinding`);
      assertApiToken(objects, false);
      const np = get(objects, 'NetworkPolicy') as Obj;
      assert.ok(!(np.spec.egress as Obj[]).some((r) => r.ports.some((p: Obj) => p.port === 6443)), `${what}: no egress to the API`);
      const { cfg } = loadRenderedConfig(objects);
      if (what.includes('etcd')) {
        assert.equal(cfg.server.leaderElection.backend, 'etcd');
        assert.deepEqual(np.spec.egress.at(-1).ports, [{ port: 2379, protocol: 'TCP' }]);
      } else {
        assert.equal(cfg.server.leaderElection.enabled, false);
        assertProbes(objects, '/ready');
      }
    }
    const aa = await render('ci/active-active-values.yaml', { valuesFiles: ['ci/active-active-values.yaml'] });
    const { cfg } = loadRenderedConfig(aa);
    assert.equal(cfg.server.leaderElection.mode, 'active-active');
    assert.equal(cfg.slurm.user, 'prometheus');
    assertCredentialMountedAsFile(aa, 'slurm.tokenFile', cfg, 'slurm-credentials', 'slurm-token');
    assert.equal(find(aa, 'Secret'), undefined, 'existingSecret: the chart makes none');
  });

  it('multi-region: the cluster label in the config, a region label on every target, a release-specific name', async () => {
    const objects = await render('ci/multi-region-values.yaml', { valuesFiles: ['ci/multi-region-values.yaml'] });
    const { cfg } = loadRenderedConfig(objects);
    assert.equal(cfg.slurm.cluster, 'hpc-east');
    assert.equal(cfg.server.leaderElection.leaseName, 'slurm-exporter-hpc-east');
    const sm = get(objects, 'ServiceMonitor') as Obj;
    assert.deepEqual(sm.spec.endpoints[0].relabelings, [{ action: 'replace', targetLabel: 'region', replacement: 'us-east-1' }]);
    assert.ok(find(objects, 'Deployment', 'slurm-exporter-hpc-east'));
  });

  it('checksum/config changes with the exporter configuration, and only with it', async () => {
    const sum = async (what: string, set: Record<string, string | number | boolean>) =>
      (get(await render(what, { set }), 'Deployment') as Obj).spec.template.metadata.annotations['checksum/config'] as string;
    const base = await sum('checksum: default', {});
    assert.match(base, /^[0-9a-f]{64}$/);
    assert.equal(await sum('checksum: default again', {}), base, 'stable');
    assert.notEqual(await sum('checksum: jobs interval', { 'config.collectors.jobs.interval': '60s' }), base);
    assert.notEqual(await sum('checksum: log level', { 'config.log.level': 'debug' }), base);
    assert.equal(await sum('checksum: replicas', { replicaCount: 4 }), base, 'a change outside the config does not roll for nothing');
  });

  it('bad values fail at helm template: the schema, and the checks across values', async () => {
    const cases: [Record<string, string | number | boolean | null>, RegExp][] = [
      [{ replicaCount: 0 }, /replicaCount.*minimum/],
      [{ 'config.collectors.jobs.intervl': '30s' }, /additional properties 'intervl'/],
      [{ 'config.collectors.jobs.interval': '3x' }, /collectors\/jobs\/interval/],
      [{ 'config.server.leaderElection.mode': 'leader' }, /leaderElection\/mode/],
      [{ 'config.slurm.token': 'eyJ' }, /additional properties 'token'/],
      [{ 'auth.type': 'password' }, /auth\/type/],
      [{ 'extraEnv[0].name': 'SLURM_JWT', 'extraEnv[0].value': 'x' }, /extraEnv/],
      [{ 'securityContext.allowPrivilegeEscalation': true }, /allowPrivilegeEscalation/],
      [{ 'autoscaling.enabled': true }, /HorizontalPodAutoscaler only helps in sharded mode.*active-passive/],
      [{ 'config.server.leaderElection.mode': 'sharded', 'autoscaling.enabled': true, 'autoscaling.maxReplicas': 12 }, /maxReplicas \(12\) is above the number of enabled collector groups \(9\)/],
      [{ 'config.server.leaderElection.mode': 'sharded', 'replicaCount': 3, 'config.collectors.jobs.enabled': false, 'config.collectors.nodes.enabled': false, 'config.collectors.fairshare.enabled': false, 'config.collectors.licenses.enabled': false, 'config.collectors.slurmdbd.enabled': false, 'config.collectors.reservations.enabled': false, 'config.collectors.scheduler.enabled': false }, /replicaCount \(3\) is above the number of enabled collector groups \(2\)/],
      [{ 'config.server.leaderElection.mode': 'sharded', 'autoscaling.enabled': true, 'verticalAutoscaler.enabled': true, 'verticalAutoscaler.updateMode': 'Recreate' }, /verticalAutoscaler and autoscaling both act on CPU\/memory/],
      [{ replicaCount: 2 }, /minAvailable \(2\) must be below the replica count \(2\)/],
      [{ 'auth.type': 'jwtKey' }, /set auth.user/],
      [{ 'auth.existingSecret': 'a', 'auth.sealedSecret.enabled': true, 'auth.sealedSecret.encryptedValue': 'x' }, /choose one of/],
      [{ 'auth.externalSecret.enabled': true }, /secretStoreRef.name/],
      [{ 'config.server.leaderElection.backend': 'etcd', 'config.server.leaderElection.etcd.endpoints[0]': 'http://etcd:2379' }, /networkPolicy.etcd/],
      [{ 'config.slurm.url': 'http://slurmrestd:6820', 'networkPolicy.slurmrestd.namespaceSelector': null, 'networkPolicy.slurmrestd.podSelector': null }, /networkPolicy.slurmrestd: give cidrs/],
      [{ 'backup.enabled': true, 'backup.extraEnv[0].name': 'SLURM_EXPORTER_BACKUP_KEY', 'backup.extraEnv[0].value': 'x' }, /backup\/extraEnv/],
      [{ 'backup.enabled': true, 'backup.concurrencyPolicy': 'Allow' }, /backup\/concurrencyPolicy/],
      [{ 'backup.enabled': true, 'backup.types.logs.schedule': 'daily' }, /backup\/types\/logs\/schedule/],
    ];
    for (const [set, re] of cases) {
      const err = await helmTemplateFails({ set });
      assert.match(err, re, `--set ${JSON.stringify(set)}`);
    }
  });

  it('values.schema.json knows every key of the exporter\'s configuration, except those the chart sets itself', () => {
    const schema = JSON.parse(readFileSync(path.join(CHART, 'values.schema.json'), 'utf8')) as Obj;
    const leaves: string[] = [];
    const walk = (s: Obj, p: string[]) => {
      if (s.properties) for (const [k, v] of Object.entries(s.properties as Record<string, Obj>)) walk(v, [...p, k]);
      else leaves.push(p.join('.'));
    };
    walk(schema.properties.config, []);
    const chartSets = ['server.listenAddress', 'server.leaderElection.identity', 'server.leaderElection.kubeconfig', 'slurm.token', 'slurm.tokenFile', 'slurm.jwtKeyFile'];
    const exporter = listFields().map((f) => f.path);
    // The `backup:` section is built by the chart from the top-level backup: values (the backup ConfigMap), so
    // config.backup is not a value; the backup tests below load what the chart builds with the exporter's loader.
    const fromBackupValues = (p: string) => p.startsWith('backup.');
    assert.deepEqual(leaves.sort(), exporter.filter((p) => !chartSets.includes(p) && !fromBackupValues(p)).sort());
    assert.equal(schema.properties.config.properties.backup, undefined, 'no config.backup value: the chart builds that section');
    for (const p of chartSets) assert.ok(exporter.includes(p), `${p} is still an exporter key`);
  });

  it('the chart\'s and the kustomize manifests\' copies of monitoring/ equal their sources (scripts/sync-chart-files.ts)', () => {
    const off = planSync(ROOT).filter((e) => e.state !== 'same');
    assert.deepEqual(
      off.map((e) => `${e.target}: ${e.state}`),
      [],
      'run `node scripts/sync-chart-files.ts` after changing monitoring/prometheus-rules.yaml or monitoring/dashboards/',
    );
  });

  it('a PrometheusRule from a rules file: groups unchanged, the alerts\' own templates not expanded by Helm', async () => {
    // A copy of the chart with a known rules file, so the template is proven whatever monitoring/ holds now.
    const dir = mkdtempSync(path.join(tmpdir(), 'chart-'));
    try {
      const chart = path.join(dir, 'slurm-exporter');
      cpSync(CHART, chart, { recursive: true });
      mkdirSync(path.join(chart, 'files'), { recursive: true });
      const rules = [
        '# comment kept',
        'groups:',
        '  - name: slurm-exporter.availability',
        '    rules:',
        '      - alert: SlurmExporterDown',
        '        expr: up{job="slurm-exporter"} == 0',
        '        for: 1m',
        '        labels:',
        '          severity: critical',
        '        annotations:',
        '          summary: "SLURM Exporter is down"',
        '          description: "{{ $labels.instance }} has been down for {{ $value | humanizeDuration }}."',
        '      - record: slurm:nodes:sum',
        '        expr: |',
        '          sum by (cluster, state) (',
        '            slurm_nodes',
        '          )',
        '',
      ].join('\n');
      writeFileSync(path.join(chart, 'files/prometheus-rules.yaml'), rules);
      const objects = await render('temporary chart with a rules file', { chart });
      const rule = get(objects, 'PrometheusRule') as Obj;
      assert.deepEqual(validateObject(rule as K8sObject), []);
      assert.deepEqual(rule.spec.groups, (YAML.parse(rules) as Obj).groups);
      assert.equal(rule.spec.groups[0].rules[0].annotations.description, '{{ $labels.instance }} has been down for {{ $value | humanizeDuration }}.');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('backup on (ci/backup-values.yaml): CronJobs, validation CronJob, ServiceAccount, Role, PVC', () => {
    let objects: K8sObject[];
    let cronJobs: Obj[];
    const TYPES = Object.keys(BACKUP_DEFAULT_SCHEDULES) as (keyof typeof BACKUP_DEFAULT_SCHEDULES)[];
    const backupPod = (cj: Obj): Obj => cj.spec.jobTemplate.spec.template.spec as Obj;
    const backupContainer = (cj: Obj): Obj => {
      const c = (backupPod(cj).containers as Obj[]).find((x) => x.name === 'backup');
      assert.ok(c, `${cj.metadata.name}: a container named backup`);
      return c;
    };
    before(async () => {
      objects = await render('ci/backup-values.yaml', { valuesFiles: ['ci/backup-values.yaml'] });
      cronJobs = objects.filter((o) => o.kind === 'CronJob') as Obj[];
    });

    it('renders every backup object, each valid against its schema (batch/v1 CronJob, v1 PVC, Role, RoleBinding, ServiceAccount, ConfigMap)', () => {
      const backup = objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'backup');
      assert.deepEqual(
        backup.map((o) => `${o.apiVersion}/${o.kind}/${o.metadata.name}`).sort(),
        [
          'batch/v1/CronJob/slurm-exporter-backup-certificates',
          'batch/v1/CronJob/slurm-exporter-backup-configuration',
          'batch/v1/CronJob/slurm-exporter-backup-deployment',
          'batch/v1/CronJob/slurm-exporter-backup-logs',
          'batch/v1/CronJob/slurm-exporter-backup-monitoring',
          'batch/v1/CronJob/slurm-exporter-backup-verify',
          'rbac.authorization.k8s.io/v1/Role/slurm-exporter-backup',
          'rbac.authorization.k8s.io/v1/RoleBinding/slurm-exporter-backup',
          'v1/ConfigMap/slurm-exporter-backup',
          'v1/PersistentVolumeClaim/slurm-exporter-backup',
          'v1/ServiceAccount/slurm-exporter-backup',
        ],
      );
      for (const o of backup) assert.deepEqual(validateObject(o), [], `${o.kind}/${o.metadata.name} is valid`);
      assertAllValid(objects, 'ci/backup-values.yaml');
      for (const o of backup) assert.equal(o.metadata.namespace, 'monitoring');
    });

    it('one CronJob per type on the default schedules, concurrencyPolicy Forbid, running backup create --type <type> --config.file', () => {
      for (const t of TYPES) {
        const cj = get(objects, 'CronJob', `slurm-exporter-backup-${t}`) as Obj;
        assert.equal(cj.spec.schedule, BACKUP_DEFAULT_SCHEDULES[t].cron, `${t}: the default schedule`);
        assert.equal(cj.spec.concurrencyPolicy, 'Forbid');
        assert.equal(cj.spec.timeZone, 'Etc/UTC');
        assert.equal(backupPod(cj).restartPolicy, 'Never');
        assert.deepEqual(backupContainer(cj).args, ['backup', 'create', '--type', t, '--config.file=/etc/slurm-exporter-backup/config.yaml']);
      }
      const v = get(objects, 'CronJob', 'slurm-exporter-backup-verify') as Obj;
      assert.equal(v.spec.concurrencyPolicy, 'Forbid');
      assert.deepEqual(backupContainer(v).args, ['backup', 'verify', '--config.file=/etc/slurm-exporter-backup/config.yaml']);
      assert.equal(cronJobs.length, TYPES.length + 1);
    });

    it('the defaults: backup off renders no backup object; on, monitoring and logs stay off until configured', async () => {
      const off = await render('default values (backup off)', {});
      assert.deepEqual(off.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'backup' || o.kind === 'CronJob' || o.kind === 'PersistentVolumeClaim'), []);
      const on = await render('--set backup.enabled=true', { set: { 'backup.enabled': true } });
      assertAllValid(on, '--set backup.enabled=true');
      const names = on.filter((o) => o.kind === 'CronJob').map((o) => o.metadata.name).sort();
      assert.deepEqual(names, ['slurm-exporter-backup-certificates', 'slurm-exporter-backup-configuration', 'slurm-exporter-backup-deployment', 'slurm-exporter-backup-verify']);
      for (const t of ['certificates', 'configuration', 'deployment'] as const) assert.equal((get(on, 'CronJob', `slurm-exporter-backup-${t}`) as Obj).spec.schedule, BACKUP_DEFAULT_SCHEDULES[t].cron);
      // Without an existingSecret no key is mounted and the config names no key file.
      for (const cj of on.filter((o) => o.kind === 'CronJob') as Obj[]) assert.ok(!(backupPod(cj).volumes as Obj[]).some((v) => v.secret), `${cj.metadata.name}: no Secret volume`);
    });

    it('the backup ConfigMap loads with the exporter\'s config loader: types, schedules, destinations, the key as a file in the mounted Secret', () => {
      const cj = get(objects, 'CronJob', 'slurm-exporter-backup-configuration') as Obj;
      const c = backupContainer(cj);
      const file = (c.args as string[]).find((a) => a.startsWith('--config.file='))!.slice('--config.file='.length);
      const mount = (c.volumeMounts as Obj[]).find((m) => file.startsWith(`${m.mountPath}/`));
      assert.ok(mount, `${file} is in a mounted volume`);
      const vol = (backupPod(cj).volumes as Obj[]).find((v) => v.name === mount.name);
      const cm = get(objects, 'ConfigMap', vol?.configMap?.name) as Obj;
      const env = { POD_NAME: 'slurm-exporter-backup-configuration-29000000-abcde', POD_NAMESPACE: 'monitoring' };
      const loaded = parseConfigText(cm.data[path.basename(file)] as string, env, `config ${file}`);
      assert.deepEqual(loaded.warnings, []);
      const cfg = resolveFromData(loaded.data, [], env, `config ${file}`, () => 'localhost') as unknown as { backup: Obj };
      for (const t of TYPES) {
        assert.equal(cfg.backup.types[t].enabled, true, `${t} enabled`);
        assert.equal(cfg.backup.types[t].schedule, BACKUP_DEFAULT_SCHEDULES[t].cron, `${t}: the RPO verify checks is the CronJob's schedule`);
      }
      assert.equal(cfg.backup.primary.kind, 'local');
      assert.equal(cfg.backup.primary.path, '/var/lib/slurm-exporter-backup');
      assert.equal(cfg.backup.secondary.kind, 's3');
      assert.equal(cfg.backup.secondary.bucket, 'slurm-backups');
      // The primary's directory is the PVC; the key files are in the read-only Secret volume.
      const data = (c.volumeMounts as Obj[]).find((m) => m.mountPath === cfg.backup.primary.path);
      assert.equal((backupPod(cj).volumes as Obj[]).find((v) => v.name === data?.name)?.persistentVolumeClaim?.claimName, 'slurm-exporter-backup');
      const keyMount = (c.volumeMounts as Obj[]).find((m) => cfg.backup.encryption.keyFile.startsWith(`${m.mountPath}/`));
      assert.ok(keyMount, 'the key file is in a mounted volume');
      assert.equal(keyMount.readOnly, true);
      const keyVol = (backupPod(cj).volumes as Obj[]).find((v) => v.name === keyMount.name) as Obj;
      assert.equal(keyVol.secret.secretName, 'slurm-exporter-backup-key');
      assert.equal(keyVol.secret.defaultMode, 0o440);
      assert.deepEqual(keyVol.secret.items, [
        { key: 'backup.key', path: path.basename(cfg.backup.encryption.keyFile) },
        { key: 'backup-2025.key', path: 'backup-2025.key' },
      ]);
      assert.deepEqual(cfg.backup.encryption.oldKeyFiles, [`${keyMount.mountPath}/backup-2025.key`]);
      // The exporter's configuration, which the configuration backup reads, is mounted where paths.configFile says.
      assert.equal(cfg.backup.paths.configFile, '/etc/slurm-exporter/config.yaml');
      const exp = (c.volumeMounts as Obj[]).find((m) => m.mountPath === '/etc/slurm-exporter');
      assert.equal((backupPod(cj).volumes as Obj[]).find((v) => v.name === exp?.name)?.configMap?.name, 'slurm-exporter');
    });

    it('no key in the environment: no Secret-sourced variable, no envFrom, no key flag, in any backup pod', () => {
      for (const cj of cronJobs) {
        const c = backupContainer(cj);
        assert.equal(c.envFrom, undefined, `${cj.metadata.name}: no envFrom`);
        for (const e of (c.env ?? []) as Obj[]) {
          assert.notEqual(e.name, 'SLURM_EXPORTER_BACKUP_KEY', `${cj.metadata.name}: the key is not a variable`);
          assert.equal(e.valueFrom?.secretKeyRef, undefined, `${cj.metadata.name}: env ${e.name} does not come from a Secret`);
        }
        assert.ok(!(c.args as string[]).some((a) => /key/i.test(a)), `${cj.metadata.name}: no key flag`);
      }
    });

    it('hardened pods: the Deployment\'s pod and container security contexts, limits, no automounted token (a projected one for the deployment backup only)', () => {
      const dep = workload(objects).spec.template.spec as Obj;
      const depC = container(objects);
      for (const cj of cronJobs) {
        const pod = backupPod(cj);
        const c = backupContainer(cj);
        assert.deepEqual(pod.securityContext, dep.securityContext, `${cj.metadata.name}: pod securityContext`);
        assert.deepEqual(c.securityContext, depC.securityContext, `${cj.metadata.name}: container securityContext`);
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.equal(c.securityContext.privileged, false);
        assert.equal(c.securityContext.runAsNonRoot, true);
        assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
        assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
        assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.cpu && c.resources.limits.memory, 'requests and limits');
        assert.equal(pod.automountServiceAccountToken, false);
        assert.equal(pod.serviceAccountName, 'slurm-exporter-backup');
        const token = (c.volumeMounts as Obj[]).find((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount');
        assert.equal(Boolean(token), cj.metadata.name === 'slurm-exporter-backup-deployment', `${cj.metadata.name}: API token only for the deployment backup`);
        // Writable: only /tmp (emptyDir) and the backup volume.
        const writable = (c.volumeMounts as Obj[]).filter((m) => !m.readOnly).map((m) => m.mountPath).sort();
        assert.deepEqual(writable, ['/tmp', '/var/lib/slurm-exporter-backup']);
        // Not selected by the exporter's Services, PodDisruptionBudget or NetworkPolicy.
        const labels = cj.spec.jobTemplate.spec.template.metadata.labels as Record<string, string>;
        const sel = (get(objects, 'Deployment') as Obj).spec.selector.matchLabels as Record<string, string>;
        assert.ok(!Object.entries(sel).every(([k, v]) => labels[k] === v), `${cj.metadata.name}: pods outside the exporter's selector`);
      }
      assert.equal((get(objects, 'ServiceAccount', 'slurm-exporter-backup') as Obj).automountServiceAccountToken, false);
    });

    it('Role: exactly get and list on the kinds the deployment backup reads, each in its API group, bound to the backup ServiceAccount', () => {
      const role = get(objects, 'Role', 'slurm-exporter-backup') as Obj;
      const grants = (role.rules as Obj[]).flatMap((r) => (r.apiGroups as string[]).flatMap((g) => (r.resources as string[]).map((res) => `${g}/${res}:${[...(r.verbs as string[])].sort().join(',')}`))).sort();
      assert.deepEqual(grants, [
        '/configmaps:get,list',
        '/secrets:get,list',
        '/services:get,list',
        'apps/deployments:get,list',
        'monitoring.coreos.com/prometheusrules:get,list',
        'monitoring.coreos.com/servicemonitors:get,list',
        'networking.k8s.io/networkpolicies:get,list',
      ]);
      for (const r of role.rules as Obj[]) {
        assert.equal(r.resourceNames, undefined);
        assert.ok(!(r.verbs as string[]).includes('*') && !(r.resources as string[]).includes('*'));
      }
      const rb = get(objects, 'RoleBinding', 'slurm-exporter-backup') as Obj;
      assert.deepEqual(rb.roleRef, { kind: 'Role', name: 'slurm-exporter-backup', apiGroup: 'rbac.authorization.k8s.io' });
      assert.deepEqual(rb.subjects, [{ kind: 'ServiceAccount', name: 'slurm-exporter-backup', namespace: 'monitoring' }]);
      // The exporter's own Role is unchanged.
      assert.deepEqual(((get(objects, 'Role', 'slurm-exporter-leader-election') as Obj).rules[0].verbs as string[]).sort(), ['create', 'get', 'update']);
    });

    it('PersistentVolumeClaim: size and storageClass from the values, kept on uninstall; an existingClaim replaces it', async () => {
      const pvc = get(objects, 'PersistentVolumeClaim', 'slurm-exporter-backup') as Obj;
      assert.deepEqual(pvc.spec, { accessModes: ['ReadWriteOnce'], storageClassName: 'standard', resources: { requests: { storage: '20Gi' } } });
      assert.equal(pvc.metadata.annotations['helm.sh/resource-policy'], 'keep');
      const existing = await render('backup with existingClaim', { valuesFiles: ['ci/backup-values.yaml'], set: { 'backup.persistence.existingClaim': 'backups' } });
      assert.equal(find(existing, 'PersistentVolumeClaim'), undefined);
      for (const cj of existing.filter((o) => o.kind === 'CronJob') as Obj[]) {
        assert.equal((backupPod(cj).volumes as Obj[]).find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim.claimName, 'backups');
      }
    });
  });
});

describe('backup.mode schedule (ci/backup-schedule-values.yaml): one `backup schedule` Deployment, its metrics Service and ServiceMonitor', () => {
  let objects: K8sObject[];
  const ARGS = ['backup', 'schedule', '--verify-schedule=30 4 * * *', '--run-now', '--config.file=/etc/slurm-exporter-backup/config.yaml'];
  const isBackup = (o: K8sObject) => o.metadata.labels?.['app.kubernetes.io/component'] === 'backup';
  const backupDeployment = (objs: K8sObject[]) => objs.find((o) => o.kind === 'Deployment' && isBackup(o)) as Obj | undefined;
  const selects = (selector: Record<string, string>, labels: Record<string, string> | undefined) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);
  const backupContainer = (d: Obj): Obj => {
    const c = (d.spec.template.spec.containers as Obj[]).find((x) => x.name === 'backup');
    assert.ok(c, 'a container named backup');
    return c;
  };
  before(async () => {
    objects = await render('ci/backup-schedule-values.yaml', { valuesFiles: ['ci/backup-schedule-values.yaml'] });
  });

  it('renders the Deployment, Service and ServiceMonitor in place of the CronJobs, each valid against its schema', () => {
    assert.deepEqual(
      objects.filter(isBackup).map((o) => `${o.apiVersion}/${o.kind}/${o.metadata.name}`).sort(),
      [
        'apps/v1/Deployment/slurm-exporter-backup',
        'monitoring.coreos.com/v1/ServiceMonitor/slurm-exporter-backup',
        'rbac.authorization.k8s.io/v1/Role/slurm-exporter-backup',
        'rbac.authorization.k8s.io/v1/RoleBinding/slurm-exporter-backup',
        'v1/ConfigMap/slurm-exporter-backup',
        'v1/PersistentVolumeClaim/slurm-exporter-backup',
        'v1/Service/slurm-exporter-backup',
        'v1/ServiceAccount/slurm-exporter-backup',
      ],
    );
    assert.equal(find(objects, 'CronJob'), undefined, 'no CronJob: the validation runs in the Deployment too');
    for (const o of objects.filter(isBackup)) {
      assert.deepEqual(validateObject(o), [], `${o.kind}/${o.metadata.name} is valid`);
      assert.equal(o.metadata.namespace, 'monitoring');
    }
    assertAllValid(objects, 'ci/backup-schedule-values.yaml');
    // The exporter's own Deployment is still there and still the exporter.
    assert.equal(container(objects).name, 'slurm-exporter');
  });

  it('Deployment: one replica, Recreate, `backup schedule --verify-schedule <validation.schedule> --run-now`, /health probes on the metrics port, TZ from backup.timeZone', () => {
    const d = backupDeployment(objects) as Obj;
    assert.equal(d.spec.replicas, 1);
    assert.deepEqual(d.spec.strategy, { type: 'Recreate' }, 'never two processes on the volume');
    const pod = d.spec.template.spec as Obj;
    assert.ok(selects(d.spec.selector.matchLabels, d.spec.template.metadata.labels), 'the selector selects its pods');
    assert.equal(pod.restartPolicy, 'Always');
    const c = backupContainer(d);
    assert.deepEqual(c.args, ARGS);
    assert.equal(parseCron((c.args as string[])[2]!.slice('--verify-schedule='.length)).text, '30 4 * * *', 'a schedule the process accepts');
    assert.deepEqual(c.ports, [{ name: 'backup-metrics', containerPort: 9343, protocol: 'TCP' }]);
    for (const p of [c.livenessProbe, c.readinessProbe]) assert.deepEqual(p.httpGet, { path: '/health', port: 'backup-metrics' });
    assert.deepEqual((c.env as Obj[]).find((e) => e.name === 'TZ'), { name: 'TZ', value: 'Europe/Berlin' });
    assert.ok(d.spec.template.metadata.annotations['checksum/backup-config'], 'rolls when the backup configuration changes');
  });

  it('the Deployment is the hardened backup pod: security contexts as the exporter\'s, the API token (the deployment type is on), the key as a file, writable only /tmp and the backup volume, never the key in the environment', () => {
    const d = backupDeployment(objects) as Obj;
    const pod = d.spec.template.spec as Obj;
    const c = backupContainer(d);
    assert.deepEqual(pod.securityContext, workload(objects).spec.template.spec.securityContext);
    assert.deepEqual(c.securityContext, container(objects).securityContext);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.serviceAccountName, 'slurm-exporter-backup');
    assert.ok((c.volumeMounts as Obj[]).some((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount'), 'a projected token for the deployment backup');
    assert.deepEqual((c.volumeMounts as Obj[]).filter((m) => !m.readOnly).map((m) => m.mountPath).sort(), ['/tmp', '/var/lib/slurm-exporter-backup']);
    assert.equal((pod.volumes as Obj[]).find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim.claimName, 'slurm-exporter-backup');
    assert.equal((pod.volumes as Obj[]).find((v) => v.secret)?.secret.secretName, 'slurm-exporter-backup-key');
    for (const e of c.env as Obj[]) assert.notEqual(e.name, 'SLURM_EXPORTER_BACKUP_KEY');
    assert.ok(!(c.args as string[]).some((a) => /key/i.test(a)), 'no key flag');
    // Not one of the exporter's pods: its Services, PodDisruptionBudget and NetworkPolicy do not select it.
    const labels = d.spec.template.metadata.labels as Record<string, string>;
    for (const svc of objects.filter((o) => o.kind === 'Service' && !isBackup(o)) as Obj[]) assert.ok(!selects(svc.spec.selector, labels), `Service ${svc.metadata.name} does not select the backup pod`);
    assert.ok(!selects((get(objects, 'PodDisruptionBudget') as Obj).spec.selector.matchLabels, labels));
    assert.ok(!selects((get(objects, 'NetworkPolicy') as Obj).spec.podSelector.matchLabels, labels));
  });

  it('the backup ConfigMap loads with the exporter\'s config loader, and backup.listenAddress is the container port', () => {
    const cm = get(objects, 'ConfigMap', 'slurm-exporter-backup') as Obj;
    const env = { POD_NAME: 'slurm-exporter-backup-6c9d7f-abcde', POD_NAMESPACE: 'monitoring' };
    const loaded = parseConfigText(cm.data['config.yaml'] as string, env, 'backup config');
    assert.deepEqual(loaded.warnings, []);
    const cfg = resolveFromData(loaded.data, [], env, 'backup config', () => 'localhost') as unknown as { backup: Obj };
    assert.equal(cfg.backup.listenAddress, ':9343');
    for (const t of ['configuration', 'deployment', 'certificates', 'logs'] as const) assert.equal(cfg.backup.types[t].enabled, true, `${t} runs in the Deployment`);
    assert.equal(cfg.backup.types.logs.schedule, BACKUP_DEFAULT_SCHEDULES.logs.cron);
    assert.equal(cfg.backup.secondary.kind, 's3');
  });

  it('Service and ServiceMonitor: the backup pod\'s metrics port, scraped on /metrics, and neither mixed with the exporter\'s', () => {
    const d = backupDeployment(objects) as Obj;
    const svc = get(objects, 'Service', 'slurm-exporter-backup') as Obj;
    assert.equal(svc.spec.type, 'ClusterIP');
    assert.deepEqual(svc.spec.ports, [{ name: 'backup-metrics', port: 9343, targetPort: 'backup-metrics', protocol: 'TCP' }]);
    assert.ok(selects(svc.spec.selector, d.spec.template.metadata.labels), 'the Service selects the backup pod');
    assert.ok(!selects(svc.spec.selector, workload(objects).spec.template.metadata.labels), 'and not the exporter\'s');
    const sm = get(objects, 'ServiceMonitor', 'slurm-exporter-backup') as Obj;
    assert.deepEqual(sm.spec.namespaceSelector, { matchNames: ['monitoring'] });
    assert.equal(sm.metadata.labels.release, 'kube-prometheus-stack', 'serviceMonitor.labels, for the Prometheus\' selector');
    const services = objects.filter((o) => o.kind === 'Service') as Obj[];
    assert.deepEqual(services.filter((x) => selects(sm.spec.selector.matchLabels, x.metadata.labels)).map((x) => x.metadata.name), ['slurm-exporter-backup'], 'it selects the backup Service only');
    const exporterSm = get(objects, 'ServiceMonitor', 'slurm-exporter') as Obj;
    assert.deepEqual(services.filter((x) => selects(exporterSm.spec.selector.matchLabels, x.metadata.labels)).map((x) => x.metadata.name), ['slurm-exporter-headless'], 'the exporter\'s ServiceMonitor still selects its headless Service only');
    assert.equal(sm.spec.endpoints.length, 1);
    const ep = sm.spec.endpoints[0] as Obj;
    assert.equal(ep.port, svc.spec.ports[0].name, 'the endpoint names the Service\'s port');
    assert.equal(ep.path, '/metrics');
    assert.equal(ep.scheme, 'http');
    assert.equal(ep.interval, '30s');
    assert.deepEqual(ep.relabelings, [{ action: 'replace', targetLabel: 'region', replacement: 'eu-west-1' }]);
  });

  it('the switches: serviceMonitor off keeps the Service only; validation off drops --verify-schedule; runOnStart off drops --run-now; mode cronjobs (the default) renders no backup Deployment or Service', async () => {
    const noSm = await render('backup schedule, serviceMonitor off', { valuesFiles: ['ci/backup-schedule-values.yaml'], set: { 'serviceMonitor.enabled': false } });
    assert.equal(find(noSm, 'ServiceMonitor'), undefined);
    assert.ok(find(noSm, 'Service', 'slurm-exporter-backup'));
    const plain = await render('backup schedule, validation and runOnStart off', { valuesFiles: ['ci/backup-schedule-values.yaml'], set: { 'backup.validation.enabled': false, 'backup.scheduler.runOnStart': false } });
    assertAllValid(plain, 'backup schedule, validation and runOnStart off');
    assert.deepEqual(backupContainer(backupDeployment(plain) as Obj).args, ['backup', 'schedule', '--config.file=/etc/slurm-exporter-backup/config.yaml']);
    assert.equal(find(plain, 'CronJob'), undefined, 'no validation CronJob either');
    const defaults = await render('--set backup.enabled=true,backup.mode=schedule', { set: { 'backup.enabled': true, 'backup.mode': 'schedule' } });
    const d = backupDeployment(defaults) as Obj;
    assert.deepEqual(backupContainer(d).ports, [{ name: 'backup-metrics', containerPort: 9342, protocol: 'TCP' }], 'port 9342, as the alert rules\' comment says');
    assert.equal((backupContainer(d).env as Obj[]).find((e) => e.name === 'TZ'), undefined, 'no TZ without backup.timeZone');
    assert.ok(find(defaults, 'ServiceMonitor', 'slurm-exporter-backup'));
    const cron = await render('ci/backup-values.yaml (mode cronjobs)', { valuesFiles: ['ci/backup-values.yaml'] });
    assert.equal(backupDeployment(cron), undefined);
    assert.equal(find(cron, 'Service', 'slurm-exporter-backup'), undefined);
    assert.equal(find(cron, 'ServiceMonitor', 'slurm-exporter-backup'), undefined);
    assert.ok(find(cron, 'CronJob', 'slurm-exporter-backup-verify'));
    const err = await helmTemplateFails({ set: { 'backup.enabled': true, 'backup.mode': 'daemon' } });
    assert.match(err, /backup\/mode/);
  });
});

describe('kustomize deploy/kubernetes', () => {
  const overlays = { 'active-passive': '/health', sharded: '/ready', 'active-active': '/ready' } as const;
  let helmDefault: K8sObject[];
  before(async () => {
    helmDefault = await render('default values (for comparison)', {});
  });

  for (const [overlay, readiness] of Object.entries(overlays) as [keyof typeof overlays, '/ready' | '/health'][]) {
    it(`overlays/${overlay}: renders with kubectl kustomize, every object valid, the same behaviours as the chart`, async () => {
      const r = await kustomize(path.join(KUSTOMIZE, 'overlays', overlay));
      timings.push({ what: `kubectl kustomize overlays/${overlay}`, ms: r.ms });
      const objects = r.objects;
      assertAllValid(objects, `overlays/${overlay}`);
      for (const o of objects) assert.equal(o.metadata.namespace, 'monitoring');
      const d = get(objects, 'Deployment') as Obj;
      assert.equal(d.spec.replicas, 3);
      assert.deepEqual(d.spec.strategy.rollingUpdate, { maxUnavailable: 1, maxSurge: 1 });
      assertAntiAffinity(objects);
      assertProbes(objects, readiness);
      assertPodSecurity(objects);
      const election = overlay !== 'active-active';
      assertApiToken(objects, election);
      const { cfg } = loadRenderedConfig(objects);
      assert.equal(cfg.server.leaderElection.mode, overlay);
      assert.equal(cfg.server.leaderElection.enabled, election);
      assertCredentialMountedAsFile(objects, 'slurm.tokenFile', cfg, 'slurm-exporter-auth', 'token');
      if (election) {
        assert.equal(cfg.server.leaderElection.identity, POD_NAME);
        assert.equal(cfg.server.leaderElection.namespace, 'monitoring');
        assert.deepEqual(roleVerbs(objects), documentedVerbs(overlay as 'active-passive' | 'sharded'));
        assert.deepEqual((get(objects, 'RoleBinding') as Obj).subjects, [{ kind: 'ServiceAccount', name: 'slurm-exporter', namespace: 'monitoring' }]);
        await exerciseRole((get(objects, 'Role') as Obj).rules, overlay as 'active-passive' | 'sharded');
      } else {
        assert.equal(find(objects, 'Role'), undefined);
      }
      assert.equal((get(objects, 'PodDisruptionBudget') as Obj).spec.minAvailable, 2);
      const np = get(objects, 'NetworkPolicy') as Obj;
      assert.deepEqual(np.spec.ingress[0].ports, [{ protocol: 'TCP', port: 9341 }]);
      assert.equal((np.spec.egress as Obj[]).some((e) => e.ports.some((p: Obj) => p.port === 6443)), election);
      assertMonitoring(objects, (id) => `slurm-exporter-dashboard-${id}`);
      // The config's ConfigMap name carries a content hash, so a change rolls the pods.
      assert.match(d.spec.template.spec.volumes.find((v: Obj) => v.name === 'config').configMap.name, /^slurm-exporter-config-[a-z0-9]{10}$/);
      // The same pod as the chart's in the same mode: security contexts, resources, probe timings.
      if (overlay === 'active-passive') {
        const hc = container(helmDefault);
        const kc = container(objects);
        for (const k of ['securityContext', 'resources', 'livenessProbe', 'readinessProbe', 'startupProbe', 'ports']) {
          const norm = (v: unknown) => JSON.parse(JSON.stringify(v, (key, x: unknown) => (key === 'scheme' ? undefined : x))) as unknown;
          assert.deepEqual(norm(kc[k]), norm(hc[k]), `container ${k} as in the chart`);
        }
        assert.deepEqual(workload(objects).spec.template.spec.securityContext, workload(helmDefault).spec.template.spec.securityContext);
      }
    });
  }
});
