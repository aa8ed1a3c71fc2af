// Shared by the tests of the job-event collectors (queue_wait, finished, job): a context with every limit,
// the captured jobs answers of each API version read through the real adapter, and the real promtool on the
// rendered page (`check metrics` for the format and lint, `test rules` to evaluate PromQL over it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CardinalityLimits, CollectContext } from '../../src/collectors/collector.ts';
import type { SlurmJob } from '../../src/slurm/model.ts';
import { adapterFor } from '../../src/slurm/rest/adapters/index.ts';
import { readResource } from '../../src/slurm/rest/read-resource.ts';

export const LIMITS: CardinalityLimits = {
  perNode: true,
  maxReasonLength: 100,
  perUser: true,
  perAccount: true,
  perQos: true,
  maxUsers: 200,
  maxAccounts: 200,
  jobs: true,
  maxJobs: 1000,
};

export function jobsCtx(jobs: SlurmJob[], o: { limits?: Partial<CardinalityLimits>; cluster?: string; now?: number } = {}): CollectContext & { anomalies: string[] } {
  const anomalies: string[] = [];
  return {
    cluster: o.cluster ?? 'lab2',
    data: { jobs },
    now: o.now ?? 1795504000,
    limits: { ...LIMITS, ...o.limits },
    anomalies,
    anomaly: (what) => anomalies.push(what),
  };
}

export interface FixtureCase {
  version: string;
  /** Path under test/fixtures/. */
  file: string;
  cluster: string;
}

export const FIXTURE_CASES: FixtureCase[] = [
  { version: 'v0.0.38', file: 'slurm-22.05/slurm_v0.0.38_jobs.json', cluster: 'lab' },
  ...['v0.0.40', 'v0.0.41', 'v0.0.42', 'v0.0.43'].map((v) => ({ version: v, file: `slurm-25.05.8/rest_${v}_slurm_jobs.json`, cluster: 'lab2' })),
  ...['v0.0.41', 'v0.0.42', 'v0.0.43', 'v0.0.44'].map((v) => ({ version: v, file: `slurm-25.11.7/rest_${v}_slurm_jobs.json`, cluster: 'lab2' })),
];

const FIX = new URL('../fixtures/', import.meta.url);

async function* once(buf: Buffer): AsyncGenerator<Uint8Array> {
  yield buf;
}

/** The fixture's jobs as the exporter reads them: raw bytes through the version's adapter. */
export async function fixtureJobs(c: FixtureCase): Promise<SlurmJob[]> {
  const buf = readFileSync(new URL(c.file, FIX));
  const r = await readResource('jobs', adapterFor(c.version)!, once(buf), { maxBytes: buf.length });
  return r.data;
}

export interface RawJob {
  id: number;
  state: string;
  partition: string;
  account: string;
  submit: number;
  eligible: number;
  start: number;
  end: number;
  /** Nodes allocated; '' for a job that never ran (the adapter does not read this, so it is an independent witness). */
  nodes: string;
}

function raw(v: unknown): number {
  if (typeof v === 'number') return v;
  const n = v as { set?: boolean; number?: number } | undefined;
  return n?.set === false ? 0 : (n?.number ?? 0);
}

/** The fixture's jobs straight from its JSON, for figures counted without the exporter's code. */
export function rawJobs(c: FixtureCase): RawJob[] {
  const doc = JSON.parse(readFileSync(new URL(c.file, FIX), 'utf8')) as { jobs: Record<string, unknown>[] };
  return doc.jobs.map((j) => {
    const st = j.job_state;
    return {
      id: Number(j.job_id),
      state: String(Array.isArray(st) ? st[0] : st).toLowerCase(),
      partition: String(j.partition),
      account: String(j.account),
      submit: raw(j.submit_time),
      eligible: raw(j.eligible_time),
      start: raw(j.start_time),
      end: raw(j.end_time),
      nodes: String(j.nodes ?? ''),
    };
  });
}

const INSTALL = 'install it with "apt-get update && apt-get install -y --no-install-recommends prometheus"';

function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { input, encoding: 'utf8' });
  if (r.error) assert.fail(`promtool is missing (${r.error.message}): ${INSTALL}`);
  return { status: r.status, output: (r.stdout + r.stderr).trim() };
}

/** promtool check metrics: the text page parses and passes the lint without a single warning. */
export function promtoolCheck(page: string): void {
  const r = promtool(['check', 'metrics'], page);
  assert.equal(r.status, 0, `promtool check metrics: ${r.output}\n--- page ---\n${page}`);
  assert.equal(r.output, '', `promtool warnings: ${r.output}`);
}

/** A text page's samples as promtool input series, one point each. */
function inputSeries(page: string): string[] {
  const out: string[] = [];
  for (const line of page.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.push(`      - series: '${line.slice(0, sp).replace(/'/g, "''")}'`, `        values: '${line.slice(sp + 1)}'`);
  }
  return out;
}

/** Evaluates `expr` with Prometheus' engine (promtool test rules) over the page and asserts its one result. */
export function promqlExpect(page: string, expr: string, value: number, labels = '{}'): void {
  const yaml = [
    'rule_files: []',
    'evaluation_interval: 1m',
    'tests:',
    '  - interval: 1m',
    '    input_series:',
    ...inputSeries(page),
    '    promql_expr_test:',
    `      - expr: '${expr.replace(/'/g, "''")}'`,
    '        eval_time: 0m',
    '        exp_samples:',
    `          - labels: '${labels}'`,
    `            value: ${value}`,
    '',
  ].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'promql-'));
  try {
    const file = join(dir, 'test.yml');
    writeFileSync(file, yaml);
    const r = promtool(['test', 'rules', file]);
    assert.equal(r.status, 0, `promtool test rules: ${r.output}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
