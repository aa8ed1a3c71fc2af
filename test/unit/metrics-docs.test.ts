import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { METRICS_DOC_PATH, renderMetricsDocs } from '../../scripts/gen-metrics-docs.ts';
import { ALL_COLLECTORS } from '../../src/collectors/registry.ts';
import { EXPORTER_METRICS } from '../../src/collectors/exporter-metrics.ts';

describe('docs/metrics.md', () => {
  const doc = renderMetricsDocs();

  it('is up to date with the code (run: node scripts/gen-metrics-docs.ts)', () => {
    const onDisk = readFileSync(METRICS_DOC_PATH, 'utf8');
    assert.ok(onDisk === doc, 'docs/metrics.md differs from what scripts/gen-metrics-docs.ts generates; run: node scripts/gen-metrics-docs.ts');
  });

  it('has one row per declared metric with its type and labels, grouped by collector', () => {
    const rows = doc.split('\n').filter((l) => l.startsWith('| `'));
    const all = [...ALL_COLLECTORS.flatMap((c) => c.metrics), ...Object.values(EXPORTER_METRICS)];
    assert.equal(rows.length, all.length);
    for (const d of all) {
      const row = rows.find((r) => r.startsWith(`| \`${d.name}\` |`));
      assert.ok(row, `${d.name} missing`);
      assert.ok(row.includes(` | ${d.type} | `), `${d.name}: type`);
      for (const l of d.labels) assert.ok(row.includes('`' + l + '`'), `${d.name}: label ${l}`);
      if (d.note) assert.ok(row.includes('**Note:**'), `${d.name}: note`);
    }
    let last = -1;
    for (const c of ALL_COLLECTORS) {
      const at = doc.indexOf(`## Collector: ${c.name}\n`);
      assert.ok(at > last, `section of ${c.name} in registry order`);
      last = at;
      const next = doc.indexOf('\n## ', at + 1);
      for (const d of c.metrics) assert.ok(doc.slice(at, next).includes(`| \`${d.name}\` |`), `${d.name} under ${c.name}`);
    }
  });

  it('documents why slurm_nodes replaces the seed\'s slurm_cluster_nodes_total', () => {
    assert.match(doc, /`slurm_nodes` \|[^\n]*slurm_cluster_nodes_total/);
  });

  it('keeps table cells intact: no unescaped pipe, no raw angle bracket read as HTML', () => {
    const rows = doc.split('\n').filter((l) => l.startsWith('| `'));
    for (const r of rows) {
      assert.equal(r.split(/(?<!\\)\|/).length, 7, r);
      assert.ok(!/[<>]/.test(r), r);
    }
    assert.ok(doc.includes('gpu:&lt;model&gt;'));
  });
});
