// Several clusters' pieces of one collector merged into one piece: each family once, with every cluster's
// samples, in both formats, as the writer renders them; promtool reads the result.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { MergeCache, mergeRendered } from '../../src/exposition/merge.ts';
import { PreparedPiece } from '../../src/exposition/prepared.ts';
import { renderFamilies } from '../../src/exposition/writer.ts';
import type { MetricFamily } from '../../src/exposition/types.ts';

const fam = (cluster: string, n: number): MetricFamily[] => [
  { desc: { name: 'slurm_nodes', type: 'gauge', help: 'Nodes by state (a "# HELP " inside help text stays put).', labels: ['cluster', 'state'], source: 't' }, samples: [{ values: [cluster, 'idle'], value: n }, { values: [cluster, 'mixed'], value: n + 1 }] },
  { desc: { name: 'slurm_jobs_finished_total', type: 'counter', help: 'Jobs that ended.', labels: ['cluster', 'reason'], source: 't' }, samples: [{ values: [cluster, 'line\n# HELP fake'], value: 2 * n }] },
];

for (const format of ['text', 'openmetrics'] as const) {
  it(`${format}: each family once, every cluster's samples under it, in cluster order`, () => {
    const a = Buffer.from(renderFamilies(fam('a', 1), format));
    const b = Buffer.from(renderFamilies(fam('b', 10), format));
    const merged = mergeRendered([a, b]).toString('utf8');
    const lines = merged.split('\n');
    assert.equal(lines.filter((l) => l.startsWith('# HELP slurm_nodes ')).length, 1);
    assert.equal(lines.filter((l) => l.startsWith('# TYPE slurm_jobs_finished')).length, 1);
    const nodes = lines.filter((l) => l.startsWith('slurm_nodes{'));
    assert.deepEqual(nodes.map((l) => /cluster="(\w)"/.exec(l)![1]), ['a', 'a', 'b', 'b']);
    // promtool reads the text format (OpenMetrics escapes a quote in HELP, which it refuses).
    if (format === 'text') execFileSync('promtool', ['check', 'metrics'], { input: merged, encoding: 'utf8' });
    else assert.match(merged, /^slurm_jobs_finished_total\{cluster="b",reason="line\\n# HELP fake"\} 20$/m);
    const headerBytes = (t: string) => t.split('\n').filter((l) => l.startsWith('#')).reduce((n, l) => n + l.length + 1, 0);
    assert.equal(Buffer.byteLength(merged), a.length + b.length - headerBytes(b.toString()), 'nothing lost but the second piece\'s headers');
  });
}

it('a piece that does not start with a family is refused, naming what it found', () => {
  assert.throws(() => mergeRendered([Buffer.from('slurm_up 1\n')]), /a line other than # HELP starts a family: slurm_up 1/);
});

it('the cache hands back the same piece while its inputs are the same objects', () => {
  const cache = new MergeCache();
  const a = new PreparedPiece(renderFamilies(fam('a', 1), 'text'));
  const b = new PreparedPiece(renderFamilies(fam('b', 2), 'text'));
  const m1 = cache.merged('k', [a, b]);
  assert.equal(cache.merged('k', [a, b]), m1);
  const b2 = new PreparedPiece(renderFamilies(fam('b', 3), 'text'));
  assert.notEqual(cache.merged('k', [a, b2]), m1);
  assert.equal(cache.merged('one', [a]), a, 'one cluster: its piece as it is');
});
