// One renderer per served API version: each answer is produced as a sequence of string chunks (about
// CHUNK characters each) so the server can stream it with backpressure instead of building 1 GB strings.
import { type Cluster, type SimJob, type SimNode, type SimPartition, type SimShare, dbdStats, shareTree } from './cluster.ts';
import { compileJobRecord } from './render-jobs.ts';
import { compileNodeRecord, compilePartitionRecord } from './render-nodes.ts';
import { type DbdView, compileDbdDiag, compileShareRecord } from './render-shares.ts';
import { Template, bool, num, numField, pretty, str, type Envelope, type Render, type Slot, type Style } from './template.ts';
import { TEMPLATES_0_0_38 } from './templates/v0_0_38.ts';
import { TEMPLATES_0_0_40 } from './templates/v0_0_40.ts';
import { TEMPLATES_0_0_41 } from './templates/v0_0_41.ts';
import { TEMPLATES_0_0_42 } from './templates/v0_0_42.ts';
import { TEMPLATES_0_0_43 } from './templates/v0_0_43.ts';
import { TEMPLATES_0_0_44 } from './templates/v0_0_44.ts';
import { RESOURCES, RESOURCE_KINDS, resourcePath } from '../slurm/resources.ts';
import type { ResourceKind } from '../slurm/model.ts';

export const ALL_VERSIONS = ['v0.0.38', 'v0.0.39', 'v0.0.40', 'v0.0.41', 'v0.0.42', 'v0.0.43', 'v0.0.44'] as const;
export type ApiVersion = (typeof ALL_VERSIONS)[number];
/** What the simulator answers: every resource of the descriptor table (src/slurm/resources.ts), by its endpoint name. */
export type Endpoint = (typeof RESOURCES)[ResourceKind]['endpoint'];
export const ENDPOINTS: readonly Endpoint[] = RESOURCE_KINDS.map((k) => RESOURCES[k].endpoint);
const KIND_OF = new Map<Endpoint, ResourceKind>(RESOURCE_KINDS.map((k) => [RESOURCES[k].endpoint, k]));

// Older versions lack the newer endpoints' templates (22.05: no /shares; before v0.0.42: no slurmdbd ping).
type TemplateSet = Omit<typeof TEMPLATES_0_0_44, 'shares' | 'slurmdb_ping'> & { shares?: string; slurmdb_ping?: string };

const SOURCES: Record<ApiVersion, { set: TemplateSet; style: Style }> = {
  'v0.0.38': { set: TEMPLATES_0_0_38, style: { escapeSlash: false, inlineEmpty: true } },
  // No capture exists for v0.0.39 (Slurm 23.02): it is served with the v0.0.40 shapes.
  'v0.0.39': { set: TEMPLATES_0_0_40, style: { escapeSlash: true, inlineEmpty: false } },
  'v0.0.40': { set: TEMPLATES_0_0_40, style: { escapeSlash: true, inlineEmpty: false } },
  'v0.0.41': { set: TEMPLATES_0_0_41, style: { escapeSlash: true, inlineEmpty: false } },
  'v0.0.42': { set: TEMPLATES_0_0_42, style: { escapeSlash: true, inlineEmpty: false } },
  'v0.0.43': { set: TEMPLATES_0_0_43, style: { escapeSlash: true, inlineEmpty: false } },
  'v0.0.44': { set: TEMPLATES_0_0_44, style: { escapeSlash: true, inlineEmpty: false } },
};

export function isApiVersion(v: string): v is ApiVersion {
  return (ALL_VERSIONS as readonly string[]).includes(v);
}

/** A snapshot of the cluster taken when a request starts, so a tick during a long stream cannot tear it. */
export interface Answer {
  c: Cluster;
  jobs: SimJob[];
  nodes: SimNode[];
  now: number;
  /** A ping with a bad token: 25.x answers 200 with the controller reported DOWN. */
  authFailed?: boolean;
}

export interface SlurmError {
  description: string;
  error_number: number;
  error: string;
  source: string;
}

const CHUNK = 64 * 1024;

interface License {
  name: string;
  total: number;
  used: number;
}

export class VersionRenderer {
  readonly version: ApiVersion;
  private readonly t: Partial<Record<Endpoint, Template>>;
  private readonly jobRec: Render<SimJob>;
  private readonly nodeRec: Render<SimNode>;
  private readonly partRec: Render<SimPartition>;
  private readonly licRec: Render<License>;
  private readonly resvRec: Render<SimNode[]>;
  private readonly env: Record<'jobs' | 'nodes' | 'partitions' | 'licenses' | 'reservations', Envelope<Answer>>;
  private readonly diagR: Render<Answer>;
  private readonly pingR: Render<Answer>;
  private readonly shares: { env: Envelope<Answer>; rec: Render<SimShare> } | undefined;
  private readonly dbdR: Render<DbdView>;

  constructor(version: ApiVersion, c: Cluster) {
    this.version = version;
    const src = SOURCES[version];
    const sources: Partial<Record<Endpoint, string>> = src.set;
    this.t = Object.fromEntries(
      ENDPOINTS.flatMap((e) => {
        const text = sources[e];
        return text === undefined ? [] : [[e, new Template(`${version}/${e}`, text, src.style)]];
      }),
    );
    const jobsT = this.tpl('jobs');
    const meta: Slot<Answer>[] = [
      str('meta.slurm.cluster', (a) => a.c.name, true),
      ...optionalNum(jobsT, 'last_update', (a) => a.c.lastUpdate),
      ...optionalNum(jobsT, 'last_backfill', (a) => a.c.diag.lastBackfill),
    ];
    const envOf = (e: 'nodes' | 'partitions' | 'licenses' | 'reservations') => this.tpl(e).compileEnvelope(e, [...meta.slice(0, 1), ...optionalNum(this.tpl(e), 'last_update', (a) => a.c.lastUpdate)]);
    this.env = {
      jobs: jobsT.compileEnvelope('jobs', meta),
      nodes: envOf('nodes'),
      partitions: envOf('partitions'),
      licenses: envOf('licenses'),
      reservations: envOf('reservations'),
    };
    this.jobRec = compileJobRecord(jobsT, c);
    this.nodeRec = compileNodeRecord(this.tpl('nodes'), c);
    this.partRec = compilePartitionRecord(this.tpl('partitions'), c);
    const st = this.t.shares;
    this.shares = st && { env: st.compileEnvelope('shares.shares', meta.slice(0, 1)), rec: compileShareRecord(st, c) };
    this.dbdR = compileDbdDiag(this.tpl('slurmdb_diag'));
    this.licRec = this.tpl('licenses').compileValue<License>('licenses.0', [
      str('LicenseName', (l) => l.name),
      num('Total', (l) => l.total),
      num('Used', (l) => l.used),
      num('Free', (l) => l.total - l.used),
    ]);
    const rt = this.tpl('reservations');
    this.resvRec = rt.compileValue<SimNode[]>('reservations.0', [
      str('name', () => 'maint_window'),
      str('node_list', (ns) => c.nodeNames({ alloc: ns.map((n) => n.index) } as SimJob)),
      num('node_count', (ns) => ns.length),
      num('core_count', (ns) => ns.reduce((s, n) => s + n.cpus, 0)),
      ...numField<SimNode[]>(rt, 'reservations.0', 'start_time', () => c.diag.startTime),
      ...numField<SimNode[]>(rt, 'reservations.0', 'end_time', () => c.diag.startTime + 30 * 86400),
      str('tres', (ns) => `cpu=${ns.reduce((s, n) => s + n.cpus, 0)}`),
      str('users', () => 'root'),
    ]);
    this.diagR = this.compileDiag();
    const pt = this.tpl('ping');
    this.pingR = pt.compileText(0, pt.text.length, [
      str('meta.slurm.cluster', (a) => a.c.name, true),
      str('pings.0.pinged', (a) => (a.authFailed ? 'DOWN' : 'UP'), true),
      str('pings.0.ping', (a) => (a.authFailed ? 'DOWN' : 'UP'), true),
      bool('pings.0.responding', (a) => !a.authFailed, true),
    ]);
  }

  /** Whether this version serves the endpoint: as the descriptor says, and a captured answer to shape it on. */
  serves(e: Endpoint): boolean {
    return resourcePath(KIND_OF.get(e)!, this.version) !== undefined && this.t[e] !== undefined;
  }

  private tpl(e: Endpoint): Template {
    const t = this.t[e];
    if (!t) throw new Error(`simulator: ${this.version} does not serve ${e}`);
    return t;
  }

  private compileDiag(): Render<Answer> {
    const t = this.tpl('diag');
    const s = 'statistics';
    const nf = (path: string, get: (a: Answer) => number) => numField<Answer>(t, '', `${s}.${path}`, get, true);
    const count = (a: Answer, state: string) => {
      let n = 0;
      for (const j of a.jobs) if (j.state === state) n++;
      return n;
    };
    const d = (a: Answer) => a.c.diag;
    return t.compileText(0, t.text.length, [
      str('meta.slurm.cluster', (a) => a.c.name, true),
      ...nf('req_time', (a) => a.now),
      ...nf('req_time_start', (a) => d(a).startTime),
      ...nf('server_thread_count', (a) => d(a).serverThreadCount),
      ...nf('schedule_cycle_max', (a) => d(a).scheduleCycleMax),
      ...nf('schedule_cycle_last', (a) => d(a).scheduleCycleLast),
      ...nf('schedule_cycle_sum', (a) => d(a).scheduleCycleSum),
      ...nf('schedule_cycle_total', (a) => d(a).scheduleCycleTotal),
      ...nf('schedule_cycle_mean', (a) => Math.floor(d(a).scheduleCycleSum / Math.max(1, d(a).scheduleCycleTotal))),
      ...nf('jobs_submitted', (a) => d(a).jobsSubmitted),
      ...nf('jobs_started', (a) => d(a).jobsStarted),
      ...nf('jobs_completed', (a) => d(a).jobsCompleted),
      ...nf('jobs_canceled', (a) => d(a).jobsCanceled),
      ...nf('jobs_failed', (a) => d(a).jobsFailed),
      ...nf('jobs_pending', (a) => count(a, 'PENDING')),
      ...nf('jobs_running', (a) => count(a, 'RUNNING')),
      ...nf('job_states_ts', (a) => a.c.lastUpdate),
      ...nf('bf_backfilled_jobs', (a) => d(a).bfBackfilledJobs),
      ...nf('bf_cycle_counter', (a) => d(a).bfCycleCounter),
      ...nf('bf_cycle_mean', (a) => Math.floor(d(a).bfCycleSum / Math.max(1, d(a).bfCycleCounter))),
      ...nf('bf_cycle_sum', (a) => d(a).bfCycleSum),
      ...nf('bf_cycle_last', (a) => d(a).bfCycleLast),
      ...nf('bf_cycle_max', (a) => d(a).bfCycleMax),
      ...nf('bf_depth_sum', (a) => d(a).bfDepthSum),
      ...nf('bf_when_last_cycle', (a) => d(a).lastBackfill),
    ]);
  }

  /** The answer of an endpoint as chunks. */
  *render(endpoint: Endpoint, a: Answer): Generator<string> {
    switch (endpoint) {
      case 'ping':
        yield this.pingR(a);
        return;
      case 'diag':
        yield this.diagR(a);
        return;
      case 'jobs':
        yield* this.list(this.env.jobs, a, a.jobs, this.jobRec);
        return;
      case 'nodes':
        yield* this.list(this.env.nodes, a, a.nodes, this.nodeRec);
        return;
      case 'partitions':
        yield* this.list(this.env.partitions, a, a.c.partitions, this.partRec);
        return;
      case 'licenses':
        yield* this.list(this.env.licenses, a, a.c.licenses, this.licRec);
        return;
      case 'reservations': {
        const maint = a.nodes.filter((n) => n.maint);
        yield* this.list(this.env.reservations, a, maint.length ? [maint] : [], this.resvRec);
        return;
      }
      case 'shares': {
        const s = this.shares;
        if (!s) throw new Error(`simulator: ${this.version} does not serve shares`);
        yield* this.list(s.env, a, shareTree(a.c), s.rec);
        return;
      }
      case 'slurmdb_diag':
        yield this.dbdR({ cluster: a.c.name, stats: dbdStats(a.c) });
        return;
      case 'slurmdb_ping':
        yield this.tpl('slurmdb_ping').text;
        return;
      case 'native':
        // slurmctld's own metrics are not a slurmrestd answer (serves() is false for every version).
        throw new Error('simulator: slurmrestd does not serve native metrics');
      default: {
        // A resource added to src/slurm/resources.ts without an answer here does not compile.
        const unanswered: never = endpoint;
        throw new Error(`simulator: no answer for ${String(unanswered)}`);
      }
    }
  }

  /** GET /slurm/<v>/job/<id>, /node/<name>, /partition/<name>: the list answer holding one record. */
  one(kind: 'job' | 'node' | 'partition', a: Answer, item: SimJob | SimNode | SimPartition): string {
    if (kind === 'job') return [...this.list(this.env.jobs, a, [item as SimJob], this.jobRec)].join('');
    if (kind === 'node') return [...this.list(this.env.nodes, a, [item as SimNode], this.nodeRec)].join('');
    return [...this.list(this.env.partitions, a, [item as SimPartition], this.partRec)].join('');
  }

  private *list<T>(env: Envelope<Answer>, a: Answer, items: readonly T[], rec: Render<T>): Generator<string> {
    if (items.length === 0) {
      yield env.empty(a);
      return;
    }
    let buf = env.head(a) + rec(items[0]!);
    const sep = env.separator;
    for (let k = 1; k < items.length; k++) {
      buf += sep + rec(items[k]!);
      if (buf.length >= CHUNK) {
        yield buf;
        buf = '';
      }
    }
    yield buf + env.tail(a);
  }

  /**
   * The answer slurmrestd 25.x gives with a wrong token (HTTP 511): the endpoint's empty answer with one
   * error (rest_error_bad_token_*.json).
   */
  errorAnswer(endpoint: Endpoint, a: Answer, err: SlurmError): string {
    const t = this.tpl(endpoint);
    const meta = t.valueAt('meta') as Record<string, unknown>;
    const slurm = meta.slurm as Record<string, unknown> | undefined;
    if (slurm && 'cluster' in slurm) slurm.cluster = a.c.name;
    const body: Record<string, unknown> = {};
    const listKey = endpoint === 'ping' || endpoint === 'slurmdb_ping' ? 'pings' : endpoint === 'diag' || endpoint === 'slurmdb_diag' ? undefined : endpoint;
    if (listKey === 'shares') body.shares = { shares: [], total_shares: 0 };
    else if (listKey) body[listKey] = [];
    if (endpoint === 'jobs' && t.has('last_backfill')) {
      body.last_backfill = { set: true, infinite: false, number: 0 };
      body.last_update = { set: true, infinite: false, number: 0 };
    }
    if (endpoint === 'diag' || endpoint === 'slurmdb_diag') {
      body.errors = [err];
      body.warnings = [];
      body.meta = meta;
    } else {
      body.meta = meta;
      body.errors = [err];
      if (t.has('warnings')) body.warnings = [];
    }
    return pretty(body, '', t.style);
  }
}

function optionalNum(t: Template, path: string, get: (a: Answer) => number): Slot<Answer>[] {
  return t.has(path) ? numField<Answer>(t, '', path, get) : [];
}
