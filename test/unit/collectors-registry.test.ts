import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_COLLECTORS, collectorByName } from '../../src/collectors/registry.ts';
import { EXPORTER_METRICS } from '../../src/collectors/exporter-metrics.ts';
import { renderFamilies } from '../../src/exposition/writer.ts';
import type { MetricDesc, MetricFamily } from '../../src/exposition/types.ts';
import type { ResourceData } from '../../src/slurm/model.ts';
import { buildShares } from '../../src/slurm/rest/adapters/shares.ts';
import { buildReservations } from '../../src/slurm/rest/adapters/reservations.ts';
import { buildLicenses } from '../../src/slurm/rest/adapters/licenses.ts';
import { buildDbdPing, buildDbdStats } from '../../src/slurm/rest/adapters/slurmdbd.ts';
import { LAB2_NOW, ctx, lab2Diag, lab2Jobs, lab2Native, lab2Nodes, lab2Partitions } from './collectors-helpers.ts';

function fullData(): ResourceData {
  return {
    cluster: {
      controllers: [{ hostname: 'vm', status: 'up', mode: 'primary', latencySeconds: 0.0013 }],
      slurmVersion: '25.11.7',
      apiVersion: 'v0.0.44',
      clusterName: 'lab2',
    },
    nodes: lab2Nodes(),
    jobs: lab2Jobs(),
    partitions: lab2Partitions(),
    diag: lab2Diag(),
    // The same capture's answers, through the adapters.
    shares: buildShares(capture('slurm_shares'), anomalies()),
    reservations: buildReservations(capture('slurm_reservations'), anomalies()),
    licenses: buildLicenses(capture('slurm_licenses'), anomalies()),
    dbdiag: buildDbdStats(capture('slurmdb_diag'), anomalies()),
    dbping: buildDbdPing(capture('slurmdb_ping'), anomalies()),
    native: lab2Native(true),
  };
}

function capture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/slurm-25.11.7/rest_v0.0.44_${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

const anomalies = () => ({ unknown: [] as string[] });

function collectAll(): { name: string; families: MetricFamily[] }[] {
  return ALL_COLLECTORS.map((c) => ({ name: c.name, families: c.collect(ctx(fullData(), { now: LAB2_NOW })) }));
}

const ALL_DESCS: MetricDesc[] = [...ALL_COLLECTORS.flatMap((c) => c.metrics), ...Object.values(EXPORTER_METRICS)];

describe('collector registry', () => {
  it('lists the collectors in a stable order under the config group names', () => {
    assert.deepEqual(ALL_COLLECTORS.map((c) => c.name), [
      'cluster', 'nodes', 'partitions', 'jobs', 'users', 'gpus', 'queue_wait', 'finished', 'job', 'scheduler', 'fairshare', 'reservations', 'licenses', 'slurmdbd', 'slurmdbd_ping', 'native',
    ]);
    assert.equal(collectorByName('jobs')?.name, 'jobs');
    assert.equal(collectorByName('nope'), undefined);
  });

  it('emits only declared metrics, with the declared labels, cluster first', () => {
    for (const { name, families } of collectAll()) {
      const declared = new Map((collectorByName(name)?.metrics ?? []).map((d) => [d.name, d]));
      for (const f of families) {
        const d = declared.get(f.desc.name);
        assert.ok(d, `${name} emits undeclared ${f.desc.name}`);
        assert.deepEqual(f.desc, d, `${f.desc.name}: emitted descriptor differs from the declared one`);
        assert.equal(f.desc.labels[0], 'cluster', `${f.desc.name}: cluster must be the first label`);
        for (const s of f.samples) {
          assert.equal(s.values.length, f.desc.labels.length, `${f.desc.name}: sample ${JSON.stringify(s.values)} has the wrong label count`);
          assert.equal(s.values[0], 'lab2', `${f.desc.name}: cluster label value`);
          assert.ok(Number.isFinite(s.value), `${f.desc.name}: value ${s.value}`);
        }
      }
    }
  });

  it('writes every declared metric for the full scenario and never a family twice', () => {
    for (const { name, families } of collectAll()) {
      const emitted = families.filter((f) => f.samples.length > 0).map((f) => f.desc.name);
      assert.equal(new Set(emitted).size, emitted.length, `${name}: a family appears twice`);
      const missing = (collectorByName(name)?.metrics ?? []).map((d) => d.name).filter((n) => !emitted.includes(n));
      assert.deepEqual(missing, [], `${name}: declared but not written for the full scenario`);
    }
  });

  it('declares unique names that follow the conventions', () => {
    const names = ALL_DESCS.map((d) => d.name);
    assert.equal(new Set(names).size, names.length, 'duplicate metric names');
    for (const d of ALL_DESCS) {
      // The standard process_* / nodejs_* names are the only ones without the slurm_ prefix.
      const standard = /^(process|nodejs)_[a-z0-9_]+$/.test(d.name);
      assert.match(d.name, d.name.startsWith('slurm_exporter_') || standard ? /^(slurm_exporter|process|nodejs)_[a-z0-9_]+$/ : /^slurm_[a-z0-9_]+$/);
      if (d.type === 'counter') assert.ok(d.name.endsWith('_total'), `counter ${d.name} must end in _total`);
      else assert.ok(!d.name.endsWith('_total'), `gauge ${d.name} must not end in _total`);
      assert.ok(!/_(sum|count|bucket)$/.test(d.name), `${d.name}: reserved suffix`);
      if (d.name.endsWith('_info')) assert.equal(d.type, 'gauge');
      assert.ok(d.help.length > 10 && d.source.length > 0, `${d.name}: help and source`);
      assert.ok(!/micro|millisec/i.test(d.name), `${d.name}: base units only`);
      if (!d.name.startsWith('slurm_exporter_') && !standard) assert.equal(d.labels[0], 'cluster', d.name);
    }
  });

  it('declares exactly the exporter metrics src/self-metrics.ts fills', () => {
    const byName = Object.fromEntries(Object.values(EXPORTER_METRICS).map((d) => [d.name, d.labels]));
    assert.deepEqual(byName['slurm_exporter_errors_total'], ['cluster', 'collector', 'kind']);
    assert.deepEqual(byName['slurm_exporter_api_errors_total'], ['cluster', 'endpoint', 'reason']);
    assert.deepEqual(byName['slurm_exporter_build_info'], ['version', 'node_version']);
    assert.deepEqual(byName['slurm_exporter_collector_staleness_seconds'], ['cluster', 'collector']);
    assert.deepEqual(byName['slurm_exporter_leader'], []);
    assert.deepEqual(byName['process_resident_memory_bytes'], []);
    assert.equal(Object.keys(byName).length, 28);
    assert.deepEqual(byName['slurm_exporter_collection_restarts_total'], ['cluster', 'reason']);
    assert.deepEqual(byName['slurm_exporter_collector_supported'], ['cluster', 'collector']);
  });
});

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
describe('promtool check metrics', { skip: promtool.status === 0 ? false : 'promtool not installed' }, () => {
  it('accepts the rendered output of every collector and the exporter metrics', () => {
    const families = collectAll().flatMap((x) => x.families);
    for (const d of Object.values(EXPORTER_METRICS)) families.push({ desc: d, samples: [{ values: d.labels.map(() => 'x'), value: 1 }] });
    const text = renderFamilies(families, 'text');
    const dir = mkdtempSync(join(tmpdir(), 'collectors-promtool-'));
    try {
      const file = join(dir, 'metrics.txt');
      writeFileSync(file, text);
      const r = spawnSync('sh', ['-c', `promtool check metrics < "${file}"`], { encoding: 'utf8' });
      assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
      assert.equal((r.stdout + r.stderr).trim(), '', `promtool warnings: ${r.stdout}${r.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
