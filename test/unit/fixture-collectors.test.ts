// Every captured API version, end to end without the network: fixture bytes → stream reader and adapter →
// the real collectors → the text writer. The three checkable metrics are compared with figures counted from the
// raw fixture (and the scenario in the fixtures' READMEs); promtool (Debian's prometheus package) lints the page.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ALL_COLLECTORS } from '../../src/collectors/registry.ts';
import { renderFamilies } from '../../src/exposition/writer.ts';
import { CollectorRunner } from '../../src/poll/collector-runner.ts';
import { AnomalyLog } from '../../src/poll/anomalies.ts';
import { LIMITS } from './collectors-helpers.ts';
import { LabelledCounter } from '../../src/poll/counters.ts';
import { SnapshotStore } from '../../src/poll/snapshot-store.ts';
import type { ResourceKind } from '../../src/slurm/model.ts';
import { adapterFor } from '../../src/slurm/rest/adapters/index.ts';
import { readResource } from '../../src/slurm/rest/read-resource.ts';
import { sumBy } from '../support/exporter-process.ts';

const FIX = new URL('../fixtures/', import.meta.url);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface Case {
  version: string;
  file(kind: ResourceKind): string;
  cluster: string;
}
const v38: Case = {
  version: 'v0.0.38',
  file: (k) => `slurm-22.05/slurm_v0.0.38_${k === 'cluster' ? 'ping' : k}.json`,
  cluster: 'lab',
};
const later = (dir: string, version: string): Case => ({
  version,
  file: (k) => `${dir}/rest_${version}_slurm_${k === 'cluster' ? 'ping' : k}.json`,
  cluster: 'lab2',
});
const CASES: Case[] = [
  v38,
  ...['v0.0.40', 'v0.0.41', 'v0.0.42', 'v0.0.43'].map((v) => later('slurm-25.05.8', v)),
  ...['v0.0.41', 'v0.0.42', 'v0.0.43', 'v0.0.44'].map((v) => later('slurm-25.11.7', v)),
];

async function* chunks(buf: Buffer): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < buf.length; o += 8192) yield buf.subarray(o, o + 8192);
}

async function page(c: Case): Promise<{ text: string; raw: Record<string, Record<string, unknown>[]> }> {
  const adapter = adapterFor(c.version)!;
  const store = new SnapshotStore();
  const runner = new CollectorRunner(ALL_COLLECTORS, store, renderFamilies, {
    cluster: undefined,
    limits: { ...LIMITS, maxReasonLength: 128 },
    log: quiet,
    anomalies: new AnomalyLog(quiet),
    errors: new LabelledCounter(),
  });
  const raw: Record<string, Record<string, unknown>[]> = {};
  for (const kind of ['cluster', 'nodes', 'jobs', 'partitions', 'diag'] as const) {
    const buf = readFileSync(new URL(c.file(kind), FIX));
    const doc = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
    if (kind === 'nodes' || kind === 'jobs' || kind === 'partitions') raw[kind] = doc[kind] as Record<string, unknown>[];
    const r = await readResource(kind, adapter, chunks(buf), { maxBytes: buf.length });
    store.set(kind, r.data, Date.now());
  }
  return { text: runner.pieces('text').map((p) => p.raw.toString('utf8')).join(''), raw };
}

/** A node's base state as Slurm prints it: 22.05 has one word; later versions an array led by the base. */
function rawBase(n: Record<string, unknown>): string {
  const s = n.state;
  const words = (Array.isArray(s) ? s : [s]).map((w) => String(w).toLowerCase());
  return words.find((w) => ['idle', 'mixed', 'allocated', 'down', 'error', 'future', 'unknown'].includes(w)) ?? 'unknown';
}

function rawJobState(j: Record<string, unknown>): string {
  const s = j.job_state;
  return String(Array.isArray(s) ? s[0] : s).toLowerCase();
}

function count(list: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of list) m.set(x, (m.get(x) ?? 0) + 1);
  return new Map([...m].sort(([a], [b]) => a.localeCompare(b)));
}

function nonZero(m: Map<string, number>): Map<string, number> {
  return new Map([...m].filter(([, v]) => v > 0).sort(([a], [b]) => a.localeCompare(b)));
}

describe('fixture → adapter → collectors → text, on every captured API version', () => {
  for (const c of CASES) {
    it(`${c.version} (${c.file('nodes').split('/')[0]})`, async () => {
      const { text, raw } = await page(c);
      const nodes = nonZero(sumBy(text, 'slurm_nodes', 'state'));
      assert.deepEqual(nodes, count(raw.nodes!.map(rawBase)), 'slurm_nodes by state');
      const jobs = nonZero(sumBy(text, 'slurm_jobs', 'state'));
      assert.deepEqual(jobs, count(raw.jobs!.map(rawJobState)), 'slurm_jobs by state');
      for (const line of text.split('\n')) {
        if (line.startsWith('slurm_')) assert.match(line, new RegExp(`[{,]cluster="${c.cluster}"[,}]`), line);
      }
      execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    });
  }

  it('the scenarios themselves (fixture READMEs): 22.05 and 25.11', async () => {
    const old = await page(v38);
    assert.deepEqual(nonZero(sumBy(old.text, 'slurm_nodes', 'state')), new Map([['allocated', 1], ['down', 1], ['idle', 1], ['mixed', 3]]));
    const newest = await page(CASES.at(-1)!);
    assert.deepEqual(nonZero(sumBy(newest.text, 'slurm_nodes', 'state')), new Map([['allocated', 2], ['down', 1], ['idle', 2], ['mixed', 2]]));
    assert.deepEqual(
      nonZero(sumBy(newest.text, 'slurm_jobs', 'state')),
      new Map([['cancelled', 1], ['completed', 1], ['failed', 1], ['pending', 10], ['running', 8], ['timeout', 1]]),
    );
    // 25.11: debug n[1-4], gpu n[1-2], long n[3-7].
    const perPartition = sumBy(newest.text, 'slurm_partition_nodes', 'partition');
    assert.deepEqual(new Map([...perPartition].sort()), new Map([['debug', 4], ['gpu', 2], ['long', 5]]));
  });

  it('the default partition: named on 22.05 (flags DEFAULT), "unknown" from v0.0.40, where slurmrestd reports no partition flags', async () => {
    const old = sumBy((await page(v38)).text, 'slurm_partition_state_info', 'default');
    // 22.05 lab: debug is Default=YES, batch, gpu and maint are not.
    assert.deepEqual(new Map([...old].sort()), new Map([['false', 3], ['true', 1]]));
    for (const c of CASES.filter((x) => x.version !== 'v0.0.38')) {
      const d = sumBy((await page(c)).text, 'slurm_partition_state_info', 'default');
      assert.deepEqual([...d.keys()], ['unknown'], `${c.version}: never a guessed "false"`);
    }
  });
});
