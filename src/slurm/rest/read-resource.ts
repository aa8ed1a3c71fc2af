// Turns one slurmrestd answer body into the normalized model. Every kind has a reader in READERS (a mapped
// type over the kinds, so a kind without one does not compile): nodes and jobs are streamed element by element
// (a /jobs answer can exceed V8's string limit), the small answers are read whole. Slurm's own errors[] become
// SlurmFetchError kind 'slurm' with Slurm's text.
import type { Anomalies, ResourceData, ResourceKind } from '../model.ts';
import { type FetchResult, SlurmFetchError } from '../source.ts';
import type { ApiAdapter } from './adapters/common.ts';
import { isRecord, str } from './adapters/common.ts';
import { SHARE_FIELDS, shareEntry } from './adapters/shares.ts';
import { buildReservations } from './adapters/reservations.ts';
import { buildLicenses } from './adapters/licenses.ts';
import { buildDbdPing, buildDbdStats } from './adapters/slurmdbd.ts';
import { type StreamOptions, readJsonBody, streamTopLevelArray } from './json-stream.ts';
import { JOB_FIELDS, NODE_FIELDS } from './adapters/fields.ts';

type Rec = Record<string, unknown>;

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

function failIfSlurmError(kind: ResourceKind, origin: string, rest: Rec, hasData: boolean): void {
  const errors = rest.errors;
  if (hasData || !Array.isArray(errors) || errors.length === 0) return;
  const text = slurmErrorText(errors) || 'errors[] with no text';
  throw new SlurmFetchError('slurm', `${origin} answered ${kind} with an error: ${text}`);
}

/** An answer streamed one element of an array at a time; `key` is the array's member, or the path to it. */
interface StreamReader<K extends ResourceKind> {
  stream: { key: string | readonly string[]; pick: ReadonlySet<string>; convert(adapter: ApiAdapter, raw: unknown, a: Anomalies): ResourceData[K] extends (infer E)[] ? E | undefined : never };
}

/** An answer read whole: `shape` names the member that must be there, `has` says whether it holds data. */
interface WholeReader<K extends ResourceKind> {
  shape: string;
  has(doc: Rec): boolean;
  build(adapter: ApiAdapter, doc: Rec, a: Anomalies): ResourceData[K];
}

type Reader<K extends ResourceKind> = StreamReader<K> | WholeReader<K>;

const nonEmptyList = (key: string) => (doc: Rec) => Array.isArray(doc[key]) && doc[key].length > 0;
const isList = (key: string) => (doc: Rec) => Array.isArray(doc[key]);


const READERS: { [K in ResourceKind]: Reader<K> } = {
  nodes: { stream: { key: 'nodes', pick: NODE_FIELDS, convert: (ad, raw, a) => ad.node(raw, a) } },
  jobs: { stream: { key: 'jobs', pick: JOB_FIELDS, convert: (ad, raw, a) => ad.job(raw, a) } },
  partitions: { shape: '"partitions" array', has: isList('partitions'), build: (ad, doc, a) => ad.partitions(doc, a) },
  diag: { shape: '"statistics" object', has: (doc) => isRecord(doc.statistics), build: (ad, doc, a) => ad.diag(doc, a) },
  // A ping whose controllers are DOWN / not responding is data (the cluster collector reports it), not an error.
  cluster: { shape: '"pings" array', has: isList('pings'), build: (ad, doc, a) => ad.cluster(doc, a) },
  // {"shares": {"shares": [...], "total_shares": n}}: 5,000 users make a 40 MB answer, so it is streamed too.
  shares: { stream: { key: ['shares', 'shares'], pick: SHARE_FIELDS, convert: (_ad, raw, a) => shareEntry(raw, a) } },
  reservations: { shape: '"reservations" array', has: isList('reservations'), build: (_ad, doc, a) => buildReservations(doc, a) },
  licenses: { shape: '"licenses" array', has: isList('licenses'), build: (_ad, doc, a) => buildLicenses(doc, a) },
  dbdiag: { shape: '"statistics" object', has: (doc) => isRecord(doc.statistics), build: (_ad, doc, a) => buildDbdStats(doc, a) },
  dbping: { shape: '"pings" array', has: isList('pings'), build: (_ad, doc, a) => buildDbdPing(doc, a) },
  // slurmctld serves its own metrics (the native source); no slurmrestd path leads here (resourcePath is undefined).
  native: { shape: 'nothing', has: () => false, build: () => notServed() },
};

function notServed(): never {
  throw new SlurmFetchError('unsupported', "slurmrestd does not serve slurmctld's own metrics; the native source reads them");
}

/** Whether an answer carries data, for Slurm errors[] that come with an empty list (nothing to report is fine). */
const HAS_DATA: { [K in ResourceKind]?: (doc: Rec) => boolean } = {
  partitions: nonEmptyList('partitions'),
  cluster: nonEmptyList('pings'),
  dbping: nonEmptyList('pings'),
  reservations: nonEmptyList('reservations'),
  licenses: nonEmptyList('licenses'),
};

async function readStream<K extends ResourceKind>(kind: K, r: StreamReader<K>, adapter: ApiAdapter, body: AsyncIterable<Uint8Array>, opts: StreamOptions, anomalies: Anomalies, origin: string): Promise<FetchResult<K>> {
  const out: unknown[] = [];
  const { key, pick, convert } = r.stream;
  const res = await streamTopLevelArray(
    body,
    key,
    (value) => {
      const rec = convert(adapter, value, anomalies);
      if (rec !== undefined) out.push(rec);
    },
    { ...opts, pick },
  );
  // An empty array with errors[] is how slurmrestd reports failure (e.g. 25.x's 511 for a bad token).
  failIfSlurmError(kind, origin, res.rest, res.count > 0);
  if (!res.found) throw new SlurmFetchError('parse', `${origin} answer for ${kind} has no "${typeof key === 'string' ? key : key.join('.')}" array`);
  return { data: out as ResourceData[K], anomalies, bytes: res.bytes, requests: 1 };
}

/** `origin` names the answer's author in messages: slurmrestd by default, or the command that printed it. */
export async function readResource<K extends ResourceKind>(kind: K, adapter: ApiAdapter, body: AsyncIterable<Uint8Array>, opts: StreamOptions, origin = `slurmrestd ${adapter.version}`): Promise<FetchResult<K>> {
  const anomalies: Anomalies = { unknown: [] };
  const reader: Reader<K> = READERS[kind];
  if ('stream' in reader) return readStream(kind, reader, adapter, body, opts, anomalies, origin);
  const { value, bytes } = await readJsonBody(body, opts);
  if (!isRecord(value)) throw new SlurmFetchError('parse', `${origin} answer for ${kind} is not a JSON object`);
  failIfSlurmError(kind, origin, value, (HAS_DATA[kind] ?? reader.has)(value));
  if (!reader.has(value)) throw new SlurmFetchError('parse', `${origin} answer for ${kind} has no ${reader.shape}`);
  return { data: reader.build(adapter, value, anomalies), anomalies, bytes, requests: 1 };
}
