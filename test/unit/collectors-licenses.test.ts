// The licenses collector on every captured /licenses answer (v0.0.38..v0.0.44), checked against
// scontrol show licenses of the same capture.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { licensesCollector } from '../../src/collectors/licenses.ts';
import type { Anomalies, SlurmLicense } from '../../src/slurm/model.ts';
import { buildLicenses } from '../../src/slurm/rest/adapters/licenses.ts';
import { type TestCtx, ctx as baseCtx, seriesOf } from './collectors-helpers.ts';

const FIX = new URL('../fixtures/', import.meta.url);
const read = (rel: string): string => readFileSync(new URL(rel, FIX), 'utf8');
type Rec = Record<string, unknown>;

function ctx(licenses: SlurmLicense[]): TestCtx {
  return baseCtx({ licenses }, { cluster: 'lab', now: 1795504216 });
}


interface Capture {
  file: string;
  /** scontrol show licenses: 22.05 as `-o` text, 25.x as --json. */
  cli: string;
}

const CAPTURES: Capture[] = [
  { file: 'slurm-22.05/slurm_v0.0.38_licenses.json', cli: 'slurm-22.05/cli/scontrol_show_licenses_o.txt' },
  ...['slurm-25.05.8', 'slurm-25.11.7'].flatMap((dir) =>
    readdirSync(new URL(`${dir}/`, FIX))
      .filter((f) => /^rest_v0\.0\.\d+_slurm_licenses\.json$/.test(f))
      .map((f) => ({ file: `${dir}/${f}`, cli: `${dir}/cli_scontrol_show_licenses.json` })),
  ),
];

/** scontrol's view as {name: [total, used, free, reserved, remote]}. */
function scontrol(c: Capture): Record<string, [number, number, number, number, boolean]> {
  const out: Record<string, [number, number, number, number, boolean]> = {};
  if (c.cli.endsWith('.txt')) {
    for (const line of read(c.cli).split('\n').filter((l) => l.trim() !== '')) {
      const kv = Object.fromEntries(line.split(' ').map((p) => p.split('=') as [string, string]));
      out[kv.LicenseName!] = [Number(kv.Total), Number(kv.Used), Number(kv.Free), Number(kv.Reserved), kv.Remote === 'yes'];
    }
    return out;
  }
  for (const l of (JSON.parse(read(c.cli)) as Rec).licenses as Rec[]) {
    out[l.LicenseName as string] = [l.Total as number, l.Used as number, l.Free as number, l.Reserved as number, l.Remote as boolean];
  }
  return out;
}

describe('licenses collector on every captured answer, against scontrol show licenses', () => {
  assert.equal(CAPTURES.length, 9);
  for (const cap of CAPTURES) {
    it(`${cap.file}: total, used, free, reserved, remote match`, () => {
      const a: Anomalies = { unknown: [] };
      const c = ctx(buildLicenses(JSON.parse(read(cap.file)) as Rec, a));
      const out = licensesCollector.collect(c);
      assert.deepEqual(a.unknown, []);
      assert.deepEqual(c.anomalies, []);
      const want = scontrol(cap);
      const got: Record<string, [number, number, number, number, boolean]> = {};
      const info = seriesOf(out, 'slurm_license_info');
      for (const name of Object.keys(seriesOf(out, 'slurm_license_configured'))) {
        const remote = info[`${name}/true`] === 1;
        assert.equal(info[`${name}/${String(!remote)}`], undefined, `${name}: one info series`);
        got[name] = [
          seriesOf(out, 'slurm_license_configured')[name]!,
          seriesOf(out, 'slurm_license_used')[name]!,
          seriesOf(out, 'slurm_license_free')[name]!,
          seriesOf(out, 'slurm_license_reserved')[name]!,
          remote,
        ];
      }
      assert.deepEqual(got, want);
    });
  }

  it('22.05 lab: fluent all in use, matlab one of four; 25.x lab2: matlab 2 of 5 in use, comsol free', () => {
    const v38 = licensesCollector.collect(ctx(buildLicenses(JSON.parse(read(CAPTURES[0]!.file)) as Rec, { unknown: [] })));
    assert.deepEqual(seriesOf(v38, 'slurm_license_free'), { fluent: 0, matlab: 3 });
    assert.deepEqual(seriesOf(v38, 'slurm_license_info'), { 'fluent/false': 1, 'matlab/false': 1 });
    const v44 = licensesCollector.collect(ctx(buildLicenses(JSON.parse(read('slurm-25.11.7/rest_v0.0.44_slurm_licenses.json')) as Rec, { unknown: [] })));
    assert.deepEqual(seriesOf(v44, 'slurm_license_used'), { matlab: 2, comsol: 0 });
    assert.deepEqual(seriesOf(v44, 'slurm_license_configured'), { matlab: 5, comsol: 2 });
  });
});

describe('licenses on unusual answers', () => {
  it('no licenses configured: empty families, no anomaly', () => {
    const a: Anomalies = { unknown: [] };
    const out = licensesCollector.collect(ctx(buildLicenses({ licenses: [] }, a)));
    assert.deepEqual(a.unknown, []);
    assert.ok(out.every((f) => f.samples.length === 0));
  });

  it('a remote license from slurmdbd, snake_case keys, a missing Free, and records it cannot use', () => {
    const a: Anomalies = { unknown: [] };
    const l = buildLicenses(
      {
        licenses: [
          { LicenseName: 'ansys@flex', Total: 100, Used: 40, Reserved: 10, Remote: true, LastConsumed: 40, LastDeficit: 0 },
          { name: 'fluent', total: 3, used: 1, free: 2, reserved: 0, remote: false },
          { Total: 1 },
          { LicenseName: 'nototal' },
        ],
      },
      a,
    );
    assert.deepEqual(l, [
      { name: 'ansys@flex', total: 100, used: 40, free: 60, reserved: 10, remote: true },
      { name: 'fluent', total: 3, used: 1, free: 2, reserved: 0, remote: false },
      { name: 'nototal', total: 0, used: 0, free: 0, reserved: 0, remote: false },
    ]);
    assert.deepEqual(a.unknown, ['license record without a name (skipped)', 'license nototal without a total']);
    const c = ctx([...l, l[1]!]);
    const out = licensesCollector.collect(c);
    assert.deepEqual(seriesOf(out, 'slurm_license_info'), { 'ansys@flex/true': 1, 'fluent/false': 1, 'nototal/false': 1 });
    assert.deepEqual(c.anomalies, ['license "fluent" listed twice']);
    assert.deepEqual(buildLicenses({ errors: [] }, a), []);
    assert.ok(a.unknown.includes('licenses answer without a licenses list'));
  });
});
