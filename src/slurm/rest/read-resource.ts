// Turns one slurmrestd answer body into the normalized model: nodes and jobs are streamed element by element
// (a /jobs answer can exceed V8's string limit), the small answers are read whole. Slurm's own errors[] become
// SlurmFetchError kind 'slurm' with Slurm's text.
import type { Anomalies, ResourceData, ResourceKind, SlurmJob, SlurmNode } from '../model.ts';
import { type FetchResult, SlurmFetchError } from '../source.ts';
import type { ApiAdapter } from './adapters/common.ts';
import { isRecord, str } from './adapters/common.ts';
import { type StreamOptions, readJsonBody, streamTopLevelArray } from './json-stream.ts';
import { JOB_FIELDS, NODE_FIELDS } from './adapters/fields.ts';

/** Slurm's errors[] as one line: `Protocol authentication error: Unable to query jobs (slurm_load_jobs(), 1007)`. */
export function slurmErrorText(errors: unknown): string {
  if (!Array.isArray(errors)) return '';
  const parts: string[] = [];
  for (const e of errors) {
    if (!isRecord(e)) {
      if (typeof e === 'string' && e !== '') parts.push(e);
      continue;
    }
    const head = [str(e.error), str(e.description)].filter((x) => x !== '').join(': ');
    const where = [str(e.source), str(e.error_number ?? e.errno)].filter((x) => x !== '' && x !== '0').join(', ');
    const text = where === '' ? head : `${head} (${where})`;
    if (text !== '') parts.push(text);
  }
  return parts.join('; ');
}

function failIfSlurmError(kind: ResourceKind, rest: Record<string, unknown>, hasData: boolean): void {
  const errors = rest.errors;
  if (hasData || !Array.isArray(errors) || errors.length === 0) return;
  const text = slurmErrorText(errors) || 'errors[] with no text';
  throw new SlurmFetchError('slurm', `slurmrestd answered ${kind} with an error: ${text}`);
}

export async function readResource<K extends ResourceKind>(
  kind: K,
  adapter: ApiAdapter,
  body: AsyncIterable<Uint8Array>,
  opts: StreamOptions,
): Promise<FetchResult<K>> {
  const anomalies: Anomalies = { unknown: [] };
  if (kind === 'nodes' || kind === 'jobs') {
    const out: (SlurmNode | SlurmJob)[] = [];
    const key: string = kind;
    const convert = kind === 'nodes' ? adapter.node : adapter.job;
    const r = await streamTopLevelArray(
      body,
      key,
      (value) => {
        const rec = convert(value, anomalies);
        if (rec !== undefined) out.push(rec);
      },
      { ...opts, pick: kind === 'nodes' ? NODE_FIELDS : JOB_FIELDS },
    );
    // An empty array with errors[] is how slurmrestd reports failure (e.g. 25.x's 511 for a bad token).
    failIfSlurmError(kind, r.rest, r.count > 0);
    if (!r.found) {
      throw new SlurmFetchError('parse', `slurmrestd ${adapter.version} answer for ${kind} has no top-level "${key}" array`);
    }
    return { data: out as ResourceData[K], anomalies, bytes: r.bytes, requests: 1 };
  }
  const { value, bytes } = await readJsonBody(body, opts);
  if (!isRecord(value)) {
    throw new SlurmFetchError('parse', `slurmrestd ${adapter.version} answer for ${kind} is not a JSON object`);
  }
  let data: ResourceData[ResourceKind];
  if (kind === 'partitions') {
    failIfSlurmError(kind, value, Array.isArray(value.partitions) && value.partitions.length > 0);
    if (!Array.isArray(value.partitions)) {
      throw new SlurmFetchError('parse', `slurmrestd ${adapter.version} answer for partitions has no "partitions" array`);
    }
    data = adapter.partitions(value, anomalies);
  } else if (kind === 'diag') {
    failIfSlurmError(kind, value, isRecord(value.statistics));
    if (!isRecord(value.statistics)) {
      throw new SlurmFetchError('parse', `slurmrestd ${adapter.version} answer for diag has no "statistics" object`);
    }
    data = adapter.diag(value, anomalies);
  } else {
    // A ping whose controllers are DOWN / not responding is data (the cluster collector reports it), not an error.
    failIfSlurmError(kind, value, Array.isArray(value.pings) && value.pings.length > 0);
    if (!Array.isArray(value.pings)) {
      throw new SlurmFetchError('parse', `slurmrestd ${adapter.version} answer for ping has no "pings" array`);
    }
    data = adapter.cluster(value, anomalies);
  }
  return { data: data as ResourceData[K], anomalies, bytes, requests: 1 };
}
