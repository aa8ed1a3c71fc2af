// One request per resource kind the enabled collectors read, each under its group's timeout, one after the
// other (gentle on slurmctld): what it answered, or why not. A refused credential stops the round: every
// other request would be refused too.
import type { ExporterConfig } from '../config/types.ts';
import type { ResourceData, ResourceKind } from '../slurm/model.ts';
import { RESOURCE_KINDS, endpointOf, groupOf } from '../slurm/resources.ts';
import type { RestSource } from '../slurm/rest/client.ts';
import { type FetchResult, SlurmFetchError } from '../slurm/source.ts';
import { authFix, fetchFix } from './fixes.ts';
import { bytes, errText, ms, ms1 } from './format.ts';
import type { Report } from './report.ts';

export type Outcome = { state: 'ok'; takenAt: number } | { state: 'unsupported' | 'failing' | 'skipped'; reason: string };

export interface Fetched {
  data: Partial<ResourceData>;
  outcomes: Map<ResourceKind, Outcome>;
}

function toFetchError(err: unknown, signal: AbortSignal): SlurmFetchError {
  if (signal.aborted && signal.reason instanceof SlurmFetchError) return signal.reason;
  return err instanceof SlurmFetchError ? err : new SlurmFetchError('parse', errText(err));
}

async function fetchOne<K extends ResourceKind>(source: RestSource, kind: K, timeoutMs: number): Promise<FetchResult<K>> {
  const group = groupOf(kind);
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(new SlurmFetchError('timeout', `no complete answer within ${ms(timeoutMs)} (collectors.${group}.timeout)`)), timeoutMs);
  try {
    const res = await source.fetch(kind, ctrl.signal);
    if (ctrl.signal.aborted) throw ctrl.signal.reason;
    return res;
  } catch (err) {
    throw toFetchError(err, ctrl.signal);
  } finally {
    clearTimeout(timer);
  }
}

const NOUNS: Partial<Record<ResourceKind, [string, string]>> = {
  nodes: ['node', 'nodes'],
  jobs: ['job', 'jobs'],
  partitions: ['partition', 'partitions'],
  shares: ['share entry', 'share entries'],
  reservations: ['reservation', 'reservations'],
  licenses: ['license', 'licenses'],
  dbping: ['slurmdbd', 'slurmdbds'],
};

function summary(kind: ResourceKind, data: unknown): string {
  if (Array.isArray(data)) {
    const [one, many] = NOUNS[kind] ?? ['record', 'records'];
    return `${data.length} ${data.length === 1 ? one : many}`;
  }
  if (kind === 'cluster') {
    const c = data as ResourceData['cluster'];
    const up = c.controllers.filter((x) => x.status === 'up').length;
    return `Slurm ${c.slurmVersion || '?'}${c.clusterName ? `, cluster ${c.clusterName}` : ''}, ${up} of ${c.controllers.length} controller(s) up`;
  }
  return kind === 'diag' ? 'scheduler statistics' : 'slurmdbd statistics';
}

function controllersDown(report: Report, data: ResourceData['cluster']): void {
  for (const c of data.controllers.filter((x) => x.status !== 'up')) {
    report.add({ section: 'resources', check: 'ping', status: 'warn', message: `controller ${c.hostname} (${c.mode}) is ${c.status}`, fix: `check slurmctld on ${c.hostname} (systemctl status slurmctld; scontrol ping)` });
  }
}

function succeeded<K extends ResourceKind>(report: Report, out: Fetched, kind: K, res: FetchResult<K>, took: number, takenAt: number): void {
  out.data[kind] = res.data;
  out.outcomes.set(kind, { state: 'ok', takenAt });
  const odd = res.anomalies.unknown.length ? `; ${res.anomalies.unknown.length} value(s) this exporter does not know, passed through (${res.anomalies.unknown.slice(0, 3).join(', ')})` : '';
  const data = { ms: ms1(took), bytes: res.bytes, requests: res.requests };
  report.add({ section: 'resources', check: endpointOf(kind), status: 'ok', message: `${summary(kind, res.data)}, ${bytes(res.bytes)} in ${ms(took)}${odd}`, data });
  if (kind === 'cluster') controllersDown(report, res.data as ResourceData['cluster']);
}

function failedFetch(report: Report, cfg: ExporterConfig, out: Fetched, kind: ResourceKind, e: SlurmFetchError): void {
  const check = endpointOf(kind);
  if (e.kind === 'unsupported') {
    out.outcomes.set(kind, { state: 'unsupported', reason: e.message });
    report.add({ section: 'resources', check, status: 'skip', message: `not served here: ${e.message}` });
    return;
  }
  out.outcomes.set(kind, { state: 'failing', reason: `${e.kind}: ${e.message}` });
  if (e.kind === 'auth') {
    report.add({ section: 'credentials', check: 'auth', status: 'fail', message: e.message, fix: authFix(cfg.slurm) });
    return;
  }
  report.add({ section: 'resources', check, status: 'fail', message: `${e.kind}: ${e.message}`, fix: fetchFix(e, cfg, groupOf(kind)), data: { kind: e.kind, status: e.status } });
}

function summarise(report: Report, out: Fetched, stop: string | undefined, skipped: ResourceKind[]): void {
  if (stop && skipped.length) report.add({ section: 'resources', check: 'others', status: 'skip', message: `not fetched (${stop}): ${skipped.map(endpointOf).join(', ')}` });
  if (!stop && [...out.outcomes.values()].some((o) => o.state === 'ok')) {
    report.add({ section: 'credentials', check: 'auth', status: 'ok', message: 'slurmrestd accepted the credentials' });
  }
}

/** Fetches each kind once; data for the collectors and what became of each kind. */
export async function checkResources(report: Report, source: RestSource, cfg: ExporterConfig, kinds: readonly ResourceKind[]): Promise<Fetched> {
  const out: Fetched = { data: {}, outcomes: new Map() };
  let stop: string | undefined;
  const skipped: ResourceKind[] = [];
  for (const kind of RESOURCE_KINDS.filter((k) => kinds.includes(k))) {
    if (stop) {
      out.outcomes.set(kind, { state: 'skipped', reason: stop });
      skipped.push(kind);
      continue;
    }
    const takenAt = Date.now();
    const t0 = performance.now();
    try {
      const res = await fetchOne(source, kind, cfg.collectors[groupOf(kind)]?.timeoutMs ?? cfg.slurm.requestTimeoutMs);
      succeeded(report, out, kind, res, performance.now() - t0, takenAt);
    } catch (err) {
      const e = err as SlurmFetchError;
      failedFetch(report, cfg, out, kind, e);
      if (e.kind === 'auth' || e.kind === 'version') stop = e.kind === 'auth' ? 'the credentials were refused' : 'the API version is gone';
    }
  }
  summarise(report, out, stop, skipped);
  return out;
}
