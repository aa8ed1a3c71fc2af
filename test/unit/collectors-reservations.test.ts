// The reservations collector on every captured /reservations answer (v0.0.38..v0.0.44) joined with the nodes
// answer of the same version, checked against scontrol show reservation of the same capture.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { reservationsCollector } from '../../src/collectors/reservations.ts';
import type { Anomalies, SlurmNode, SlurmReservation } from '../../src/slurm/model.ts';
import { adapterFor } from '../../src/slurm/rest/adapters/index.ts';
import { buildReservations } from '../../src/slurm/rest/adapters/reservations.ts';
import { type TestCtx, ctx as baseCtx, seriesOf } from './collectors-helpers.ts';

const FIX = new URL('../fixtures/', import.meta.url);
const read = (rel: string): string => readFileSync(new URL(rel, FIX), 'utf8');
type Rec = Record<string, unknown>;

function ctx(reservations: SlurmReservation[], nodes: SlurmNode[], now: number): TestCtx {
  return baseCtx({ reservations, nodes }, { cluster: 'lab', now });
}


const nonZero = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== 0));

interface Capture {
  version: string;
  file: string;
  nodes: string;
  diag: string;
}

const CAPTURES: Capture[] = [
  { version: 'v0.0.38', file: 'slurm-22.05/slurm_v0.0.38_reservations.json', nodes: 'slurm-22.05/slurm_v0.0.38_nodes.json', diag: 'slurm-22.05/slurm_v0.0.38_diag.json' },
  ...['slurm-25.05.8', 'slurm-25.11.7'].flatMap((dir) =>
    readdirSync(new URL(`${dir}/`, FIX))
      .filter((f) => /^rest_v0\.0\.\d+_slurm_reservations\.json$/.test(f))
      .map((f) => {
        const version = f.split('_')[1] as string;
        return { version, file: `${dir}/${f}`, nodes: `${dir}/rest_${version}_slurm_nodes.json`, diag: `${dir}/rest_${version}_slurm_diag.json` };
      }),
  ),
];

/** The capture's clock: the diag answer's req_time, taken in the same minute. */
function captureTime(c: Capture): number {
  const t = ((JSON.parse(read(c.diag)) as Rec).statistics as Rec).req_time;
  return typeof t === 'number' ? t : ((t as Rec).number as number);
}

function load(c: Capture): { reservations: SlurmReservation[]; nodes: SlurmNode[]; a: Anomalies } {
  const a: Anomalies = { unknown: [] };
  const adapter = adapterFor(c.version)!;
  const nodes = ((JSON.parse(read(c.nodes)) as Rec).nodes as unknown[]).map((n) => adapter.node(n, a)!);
  return { reservations: buildReservations(JSON.parse(read(c.file)) as Rec, a), nodes, a };
}

/** What scontrol show reservation says, in the exporter's terms. */
interface Expected {
  nodeCount: number;
  cores: number;
  durationSeconds: number;
  flags: string;
  partition: string;
  /** scontrol's State (22.05 text only). */
  active: boolean | undefined;
  /** StartTime in unix seconds (the JSON views only; the text prints local time). */
  start: number | undefined;
}

// 22.05: `scontrol show reservations -o` text (StartTime is local time; Duration and State are checked instead).
function fromText(text: string): Map<string, Expected> {
  const out = new Map<string, Expected>();
  for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
    const kv = Object.fromEntries(line.split(' ').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
    const d = /^(?:(\d+)-)?(\d+):(\d+):(\d+)$/.exec(kv.Duration as string)!;
    const [days, h, m, s] = [Number(d[1] ?? 0), Number(d[2]), Number(d[3]), Number(d[4])];
    const none = (v: string | undefined) => (v === '(null)' || v === undefined ? '' : v);
    out.set(kv.ReservationName as string, {
      nodeCount: Number(kv.NodeCnt),
      cores: Number(kv.CoreCnt),
      durationSeconds: ((days * 24 + h) * 60 + m) * 60 + s,
      flags: (kv.Flags as string).toLowerCase().split(',').sort().join(','),
      partition: none(kv.PartitionName),
      active: kv.State === 'ACTIVE',
      start: undefined,
    });
  }
  return out;
}

// 25.x: `scontrol show reservations --json`.
function fromJson(doc: Rec): Map<string, Expected> {
  const n = (v: unknown) => (typeof v === 'number' ? v : ((v as Rec).number as number));
  return new Map(
    (doc.reservations as Rec[]).map((r) => [
      r.name as string,
      {
        nodeCount: r.node_count as number,
        cores: r.core_count as number,
        durationSeconds: n(r.end_time) - n(r.start_time),
        flags: (r.flags as string[]).map((f) => f.toLowerCase()).sort().join(','),
        partition: r.partition as string,
        active: undefined,
        start: n(r.start_time),
      },
    ]),
  );
}

function expected(c: Capture): Map<string, Expected> {
  if (c.version === 'v0.0.38') return fromText(read('slurm-22.05/cli/scontrol_show_reservations_o.txt'));
  return fromJson(JSON.parse(read(`${c.file.split('/')[0]}/cli_scontrol_show_reservations.json`)) as Rec);
}

describe('reservations collector on every captured answer, against scontrol show reservation', () => {
  assert.equal(CAPTURES.length, 9);
  for (const cap of CAPTURES) {
    it(`${cap.file}: sizes, flags, partition, times and activity match`, () => {
      const { reservations, nodes, a } = load(cap);
      assert.deepEqual(a.unknown.filter((w) => w.startsWith('reservation')), []);
      const c = ctx(reservations, nodes, captureTime(cap));
      const out = reservationsCollector.collect(c);
      assert.deepEqual(c.anomalies, []);
      const want = expected(cap);
      assert.deepEqual(Object.keys(seriesOf(out, 'slurm_reservation_nodes')).sort(), [...want.keys()].sort());
      const start = seriesOf(out, 'slurm_reservation_start_timestamp_seconds');
      const end = seriesOf(out, 'slurm_reservation_end_timestamp_seconds');
      const active = seriesOf(out, 'slurm_reservation_active');
      const info = seriesOf(out, 'slurm_reservation_info');
      for (const [name, w] of want) {
        assert.equal(seriesOf(out, 'slurm_reservation_nodes')[name], w.nodeCount, `${name} NodeCnt`);
        assert.equal(seriesOf(out, 'slurm_reservation_cores')[name], w.cores, `${name} CoreCnt`);
        assert.equal(end[name]! - start[name]!, w.durationSeconds, `${name} Duration`);
        assert.equal(info[`${name}/${w.flags}/${w.partition}`], 1, `${name} flags and partition`);
        if (w.active !== undefined) assert.equal(active[name], w.active ? 1 : 0, `${name} State`);
        if (w.start !== undefined) assert.equal(start[name], w.start, `${name} StartTime`);
      }
    });
  }

  it('22.05: lab-active is active on a drained idle node; lab-maint (maint) starts later on two busy nodes', () => {
    const cap = CAPTURES[0]!;
    const { reservations, nodes } = load(cap);
    const out = reservationsCollector.collect(ctx(reservations, nodes, captureTime(cap)));
    assert.deepEqual(seriesOf(out, 'slurm_reservation_active'), { 'lab-active': 1, 'lab-maint': 0 });
    assert.deepEqual(seriesOf(out, 'slurm_reservation_start_timestamp_seconds'), { 'lab-active': 1795504201, 'lab-maint': 1795590601 });
    assert.deepEqual(nonZero(seriesOf(out, 'slurm_reservation_nodes_by_state')), { 'lab-active/idle': 1, 'lab-maint/allocated': 1, 'lab-maint/mixed': 1 });
    assert.equal(seriesOf(out, 'slurm_reservation_nodes_by_state')['lab-maint/down'], 0, 'every base state is there');
    assert.deepEqual(seriesOf(out, 'slurm_reservation_nodes_in_use'), { 'lab-active': 0, 'lab-maint': 2 });
    assert.deepEqual(seriesOf(out, 'slurm_reservation_info'), { 'lab-active/ignore_jobs,spec_nodes/': 1, 'lab-maint/ignore_jobs,maint,spec_nodes/': 1 });
  });

  it('25.11: maint_window (future) covers the two allocated nodes n3, n4; physics_workshop the mixed n1 in gpu', () => {
    const cap = CAPTURES.find((x) => x.file === 'slurm-25.11.7/rest_v0.0.44_slurm_reservations.json')!;
    const { reservations, nodes } = load(cap);
    const out = reservationsCollector.collect(ctx(reservations, nodes, captureTime(cap)));
    assert.deepEqual(seriesOf(out, 'slurm_reservation_active'), { maint_window: 0, physics_workshop: 0 });
    assert.deepEqual(seriesOf(out, 'slurm_reservation_start_timestamp_seconds'), { maint_window: 1795676628, physics_workshop: 1795590228 });
    assert.deepEqual(nonZero(seriesOf(out, 'slurm_reservation_nodes_by_state')), { 'maint_window/allocated': 2, 'physics_workshop/mixed': 1 });
    assert.deepEqual(seriesOf(out, 'slurm_reservation_nodes_in_use'), { maint_window: 2, physics_workshop: 1 });
    assert.deepEqual(seriesOf(out, 'slurm_reservation_info'), { 'maint_window/ignore_jobs,maint,spec_nodes/': 1, 'physics_workshop//gpu': 1 });
    // Once the window opens it is active, until its end.
    const during = reservationsCollector.collect(ctx(reservations, nodes, 1795676628));
    assert.equal(seriesOf(during, 'slurm_reservation_active').maint_window, 1);
    assert.equal(seriesOf(reservationsCollector.collect(ctx(reservations, nodes, 1795691028)), 'slurm_reservation_active').maint_window, 0);
  });
});

describe('reservations on unusual answers', () => {
  const now = 1_800_000_000;
  it('no reservations: empty families and no anomaly', () => {
    const a: Anomalies = { unknown: [] };
    const c = ctx(buildReservations({ reservations: [] }, a), [], now);
    const out = reservationsCollector.collect(c);
    assert.deepEqual(a.unknown, []);
    assert.ok(out.every((f) => f.samples.length === 0));
  });

  it('passes an unknown flag through lower case and reports it once', () => {
    const a: Anomalies = { unknown: [] };
    const r = buildReservations({ reservations: [{ name: 'r1', flags: ['MAINT', 'SHINY_NEW', 'SHINY_NEW'] }, { name: 'r2', flags: 'SHINY_NEW,DAILY' }] }, a);
    assert.deepEqual(r.map((x) => x.flags), [['maint', 'shiny_new'], ['shiny_new', 'daily']]);
    assert.deepEqual(a.unknown, ['reservation flag "shiny_new"']);
    assert.deepEqual(seriesOf(reservationsCollector.collect(ctx(r, [], now)), 'slurm_reservation_info'), { 'r1/maint,shiny_new/': 1, 'r2/daily,shiny_new/': 1 });
  });

  it('a record with missing fields: no node list, no times; bad records are skipped and reported', () => {
    const a: Anomalies = { unknown: [] };
    const r = buildReservations({ reservations: [{ name: 'bare' }, { node_list: 'n1' }, 'junk', { name: 'broken', node_list: 'n[1-' }] }, a);
    assert.deepEqual(r[0], { name: 'bare', nodes: [], nodeCount: 0, coreCount: 0, startTime: 0, endTime: 0, flags: [], partition: '', users: '', accounts: '' });
    assert.deepEqual(r[1]!.nodes, []);
    assert.deepEqual(a.unknown, ['reservation record without a name (skipped)', 'reservation broken node list: hostlist "n[1-": \'[\' is not closed']);
    const out = reservationsCollector.collect(ctx(r, [], now));
    assert.deepEqual(seriesOf(out, 'slurm_reservation_start_timestamp_seconds'), {});
    assert.deepEqual(seriesOf(out, 'slurm_reservation_active'), { bare: 1, broken: 1 }, 'no start and no end: in effect');
    assert.deepEqual(buildReservations({}, a), []);
    assert.ok(a.unknown.includes('reservations answer without a reservations list'));
  });

  it('counts only nodes the nodes answer lists, and a repeated reservation once', () => {
    const node = (name: string, state: string, allocCpus: number): SlurmNode => ({
      name, state, flags: [], partitions: [], cpus: 4, allocCpus, memoryBytes: 0, allocMemoryBytes: 0, freeMemoryBytes: undefined, cpuLoad: undefined,
      gres: [], gresUsed: [], reason: '', reasonChangedAt: 0, features: [],
    });
    const r = buildReservations({ reservations: [{ name: 'm', node_list: 'n[1-3],gone', node_count: 4, flags: ['MAINT'] }, { name: 'm' }] }, { unknown: [] });
    const c = ctx(r, [node('n1', 'mixed', 2), node('n2', 'idle', 0), node('n3', 'down', 0)], now);
    const out = reservationsCollector.collect(c);
    assert.deepEqual(nonZero(seriesOf(out, 'slurm_reservation_nodes_by_state')), { 'm/mixed': 1, 'm/idle': 1, 'm/down': 1 });
    assert.deepEqual(seriesOf(out, 'slurm_reservation_nodes_in_use'), { m: 1 });
    assert.deepEqual(seriesOf(out, 'slurm_reservation_nodes'), { m: 4 });
    assert.deepEqual(c.anomalies, ['reservation "m" listed twice']);
  });
});
