import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { family, histogramCopy, histogramSample, observe, type MetricDesc, type MetricFamily } from '../../src/exposition/types.ts';
import {
  escapeHelp,
  escapeLabelValue,
  finishPage,
  formatBound,
  formatValue,
  renderFamilies,
  renderPage,
} from '../../src/exposition/writer.ts';
import {
  acceptsGzip,
  CONTENT_TYPE_OPENMETRICS,
  CONTENT_TYPE_TEXT,
  negotiateFormat,
} from '../../src/exposition/negotiate.ts';

const jobs = family(
  {
    name: 'slurm_jobs_submitted_total',
    type: 'counter',
    help: 'Jobs submitted.',
    labels: ['cluster', 'partition'],
    source: 'test',
  },
  [
    { values: ['c1', 'cpu'], value: 12 },
    { values: ['c1', 'gpu'], value: 0 },
  ],
);
const nodes = family(
  {
    name: 'slurm_node_cpus',
    type: 'gauge',
    help: 'CPUs per node.',
    labels: ['cluster', 'node'],
    source: 'test',
  },
  [{ values: ['c1', 'n1'], value: 64 }],
);

// Every character that needs escaping, in label values and in help text.
const tricky = family(
  {
    name: 'slurm_node_reason_info',
    type: 'gauge',
    help: 'Reason with a back\\slash, a "quote" and a\nnewline.',
    labels: ['cluster', 'reason'],
    source: 'test',
  },
  [
    { values: ['c1', 'disk "sda" failed\\replaced\nby admin'], value: 1 },
    { values: ['c1', 'plain ünïcode ✓'], value: 1 },
  ],
);
const floats = family(
  {
    name: 'slurm_test_values',
    type: 'gauge',
    help: 'Special values.',
    labels: ['case'],
    source: 'test',
  },
  [
    { values: ['pinf'], value: Infinity },
    { values: ['ninf'], value: -Infinity },
    { values: ['nan'], value: NaN },
    { values: ['million'], value: 1_000_000 },
    { values: ['big'], value: 123456789012345 },
    { values: ['negzero'], value: -0 },
    { values: ['frac'], value: 0.1 },
    { values: ['tiny'], value: 1.5e-7 },
    { values: ['neg'], value: -2.5 },
  ],
);
const unlabelled = family(
  { name: 'slurm_exporter_up', type: 'gauge', help: 'Always 1.', labels: [], source: 'test' },
  [{ values: [], value: 1 }],
);
const scrapes = family(
  { name: 'slurm_exporter_scrapes_total', type: 'counter', help: 'Scrapes served.', labels: [], source: 'test' },
  [{ values: [], value: 3 }],
);
const empty = family({ name: 'slurm_empty', type: 'gauge', help: 'Nothing yet.', labels: ['cluster'], source: 'test' });

// Histograms: one series with observations (one exactly on a bound), one without, a tricky label value.
const WAIT: MetricDesc = {
  name: 'slurm_test_wait_seconds',
  type: 'histogram',
  help: 'Waits.',
  labels: ['cluster', 'partition'],
  source: 'test',
  buckets: [1, 2.5, 10],
};
function waits(): MetricFamily {
  const cpu = histogramSample(WAIT, ['c1', 'cpu']);
  for (const v of [0.5, 2.5, 3, 50]) observe(cpu, WAIT.buckets!, v);
  const idle = histogramSample(WAIT, ['c1', 'say "hi"\\\n']);
  return family(WAIT, [cpu, idle]);
}
const UNLABELLED_HIST: MetricDesc = { name: 'slurm_test_render_seconds', type: 'histogram', help: 'Renders.', labels: [], source: 'test', buckets: [0.1] };
function renders(): MetricFamily {
  const s = histogramSample(UNLABELLED_HIST, []);
  observe(s, UNLABELLED_HIST.buckets!, 0.05);
  return family(UNLABELLED_HIST, [s]);
}

const representative: MetricFamily[] = [jobs, nodes, tricky, floats, unlabelled, scrapes, empty, waits(), renders()];

void describe('text format 0.0.4', () => {
  void it('renders counters with _total on TYPE and sample lines', () => {
    assert.equal(
      renderFamilies([jobs], 'text'),
      '# HELP slurm_jobs_submitted_total Jobs submitted.\n' +
        '# TYPE slurm_jobs_submitted_total counter\n' +
        'slurm_jobs_submitted_total{cluster="c1",partition="cpu"} 12\n' +
        'slurm_jobs_submitted_total{cluster="c1",partition="gpu"} 0\n',
    );
  });

  void it('renders gauges and unlabelled series', () => {
    assert.equal(
      renderFamilies([nodes, unlabelled], 'text'),
      '# HELP slurm_node_cpus CPUs per node.\n# TYPE slurm_node_cpus gauge\nslurm_node_cpus{cluster="c1",node="n1"} 64\n' +
        '# HELP slurm_exporter_up Always 1.\n# TYPE slurm_exporter_up gauge\nslurm_exporter_up 1\n',
    );
  });

  void it('escapes label values and help (help keeps double quotes as is)', () => {
    const out = renderFamilies([tricky], 'text');
    assert.equal(
      out.split('\n')[0],
      '# HELP slurm_node_reason_info Reason with a back\\\\slash, a "quote" and a\\nnewline.',
    );
    assert.ok(out.includes('reason="disk \\"sda\\" failed\\\\replaced\\nby admin"} 1\n'), out);
    assert.ok(out.includes('reason="plain ünïcode ✓"} 1\n'));
  });

  void it('omits families without samples and adds no # EOF', () => {
    const out = renderPage([empty, nodes], 'text');
    assert.ok(!out.includes('slurm_empty'));
    assert.ok(!out.includes('# EOF'));
    assert.equal(renderFamilies([empty], 'text'), '');
  });
});

void describe('OpenMetrics 1.0.0', () => {
  void it('names counter families without _total and samples with it', () => {
    assert.equal(
      renderFamilies([jobs, scrapes], 'openmetrics'),
      '# HELP slurm_jobs_submitted Jobs submitted.\n' +
        '# TYPE slurm_jobs_submitted counter\n' +
        'slurm_jobs_submitted_total{cluster="c1",partition="cpu"} 12\n' +
        'slurm_jobs_submitted_total{cluster="c1",partition="gpu"} 0\n' +
        '# HELP slurm_exporter_scrapes Scrapes served.\n# TYPE slurm_exporter_scrapes counter\nslurm_exporter_scrapes_total 3\n',
    );
  });

  void it('escapes double quotes in help too', () => {
    assert.equal(
      renderFamilies([tricky], 'openmetrics').split('\n')[0],
      '# HELP slurm_node_reason_info Reason with a back\\\\slash, a \\"quote\\" and a\\nnewline.',
    );
  });

  void it('ends a page with exactly one # EOF, after all pieces', () => {
    const page = finishPage([renderFamilies([jobs], 'openmetrics'), renderFamilies([nodes], 'openmetrics')], 'openmetrics');
    assert.ok(page.endsWith('slurm_node_cpus{cluster="c1",node="n1"} 64\n# EOF\n'), page);
    assert.equal(page.match(/# EOF/g)?.length, 1);
    assert.ok(!renderFamilies([jobs], 'openmetrics').includes('# EOF'));
    assert.equal(finishPage(page, 'openmetrics'), page, 'finishing a finished page adds no second # EOF');
    assert.equal(finishPage([], 'openmetrics'), '# EOF\n');
  });
});

void describe('histograms', () => {
  const cpuLines =
    'slurm_test_wait_seconds_bucket{cluster="c1",partition="cpu",le="1"} 1\n' +
    'slurm_test_wait_seconds_bucket{cluster="c1",partition="cpu",le="2.5"} 2\n' +
    'slurm_test_wait_seconds_bucket{cluster="c1",partition="cpu",le="10"} 3\n' +
    'slurm_test_wait_seconds_bucket{cluster="c1",partition="cpu",le="+Inf"} 4\n' +
    'slurm_test_wait_seconds_sum{cluster="c1",partition="cpu"} 56\n' +
    'slurm_test_wait_seconds_count{cluster="c1",partition="cpu"} 4\n';

  void it('text 0.0.4: cumulative _bucket lines ending in +Inf, then _sum and _count; empty series all zeros', () => {
    const out = renderFamilies([waits()], 'text');
    const idle = 'cluster="c1",partition="say \\"hi\\"\\\\\\n"';
    assert.equal(
      out,
      '# HELP slurm_test_wait_seconds Waits.\n# TYPE slurm_test_wait_seconds histogram\n' + cpuLines +
        `slurm_test_wait_seconds_bucket{${idle},le="1"} 0\n` +
        `slurm_test_wait_seconds_bucket{${idle},le="2.5"} 0\n` +
        `slurm_test_wait_seconds_bucket{${idle},le="10"} 0\n` +
        `slurm_test_wait_seconds_bucket{${idle},le="+Inf"} 0\n` +
        `slurm_test_wait_seconds_sum{${idle}} 0\n` +
        `slurm_test_wait_seconds_count{${idle}} 0\n`,
    );
  });

  void it('OpenMetrics: TYPE histogram, no _total, le in canonical float form', () => {
    const out = renderFamilies([waits()], 'openmetrics');
    assert.ok(out.startsWith('# HELP slurm_test_wait_seconds Waits.\n# TYPE slurm_test_wait_seconds histogram\n'), out);
    assert.ok(out.includes(cpuLines.replace('le="1"', 'le="1.0"').replace('le="10"', 'le="10.0"')), out);
    assert.ok(!out.includes('_total'));
  });

  void it('writes unlabelled histograms without empty braces on _sum and _count', () => {
    assert.equal(
      renderFamilies([renders()], 'text'),
      '# HELP slurm_test_render_seconds Renders.\n# TYPE slurm_test_render_seconds histogram\n' +
        'slurm_test_render_seconds_bucket{le="0.1"} 1\nslurm_test_render_seconds_bucket{le="+Inf"} 1\n' +
        'slurm_test_render_seconds_sum 0.05\nslurm_test_render_seconds_count 1\n',
    );
  });

  void it('observe() counts a value on a bound in that bucket (le is inclusive) and above it in +Inf only', () => {
    const s = histogramSample(WAIT, ['c1', 'x']);
    for (const v of [1, 10, 11, 0]) observe(s, WAIT.buckets!, v);
    assert.deepEqual(s.histogram.buckets, [2, 2, 3]);
    assert.equal(s.value, 4);
    const copy = histogramCopy(s, ['c2', 'x']);
    observe(s, WAIT.buckets!, 0);
    assert.deepEqual(copy, { values: ['c2', 'x'], value: 4, histogram: { buckets: [2, 2, 3], sum: 22 } });
  });

  void it('formats bounds per format', () => {
    assert.equal(formatBound(10, 'text'), '10');
    assert.equal(formatBound(10, 'openmetrics'), '10.0');
    assert.equal(formatBound(0.25, 'openmetrics'), '0.25');
    assert.equal(formatBound(604800, 'openmetrics'), '604800.0');
    assert.equal(formatBound(1e21, 'openmetrics'), '1e+21');
  });

  void it('refuses broken histograms, naming the family', () => {
    const withDesc = (d: Partial<MetricDesc>): MetricFamily => {
      const desc = { ...WAIT, ...d };
      return family(desc, [{ values: desc.labels.map(() => 'x'), value: 0, histogram: { buckets: (desc.buckets ?? []).map(() => 0), sum: 0 } }]);
    };
    assert.throws(() => renderFamilies([withDesc({ buckets: undefined })], 'text'), /"slurm_test_wait_seconds": histogram without buckets/);
    assert.throws(() => renderFamilies([withDesc({ buckets: [1, 1] })], 'text'), /strictly ascending/);
    assert.throws(() => renderFamilies([withDesc({ buckets: [1, Infinity] })], 'text'), /not finite/);
    assert.throws(() => renderFamilies([withDesc({ labels: ['cluster', 'le'] })], 'text'), /label named "le"/);
    const bad = (histogram: { buckets: number[]; sum: number } | undefined, value = 3): MetricFamily =>
      family(WAIT, [{ values: ['c1', 'cpu'], value, ...(histogram ? { histogram } : {}) }]);
    assert.throws(() => renderFamilies([bad(undefined)], 'text'), /sample needs 3 bucket counts/);
    assert.throws(() => renderFamilies([bad({ buckets: [1, 2], sum: 0 })], 'text'), /sample needs 3 bucket counts/);
    assert.throws(() => renderFamilies([bad({ buckets: [2, 1, 3], sum: 0 })], 'text'), /cumulative/);
    assert.throws(() => renderFamilies([bad({ buckets: [1, 2, 3], sum: 0 }, 2)], 'text'), /count is below the last bucket/);
    assert.throws(() => renderFamilies([family(WAIT, [{ values: ['c1'], value: 0, histogram: { buckets: [0, 0, 0], sum: 0 } }])], 'text'), /sample has 1 label values, want 2/);
  });
});

void describe('values and escaping helpers', () => {
  void it('formats special floats and integers like Go, without exponent noise', () => {
    assert.equal(formatValue(Infinity), '+Inf');
    assert.equal(formatValue(-Infinity), '-Inf');
    assert.equal(formatValue(NaN), 'NaN');
    assert.equal(formatValue(1_000_000), '1000000');
    assert.equal(formatValue(123456789012345), '123456789012345');
    assert.equal(formatValue(-0), '0');
    assert.equal(formatValue(0.1), '0.1');
    assert.equal(formatValue(-2.5), '-2.5');
    assert.equal(Number(formatValue(1.5e-7)), 1.5e-7);
  });

  void it('escapes only what each format requires', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    assert.equal(escapeLabelValue('plain'), 'plain');
    assert.equal(escapeHelp('a\\b"c\nd', 'text'), 'a\\\\b"c\\nd');
    assert.equal(escapeHelp('a\\b"c\nd', 'openmetrics'), 'a\\\\b\\"c\\nd');
  });

  void it('refuses invalid names and label value counts, naming the family', () => {
    const bad = (desc: Partial<MetricFamily['desc']>, values: string[] = ['x']): MetricFamily =>
      family({ name: 'slurm_ok', type: 'gauge', help: 'h', labels: ['a'], source: 't', ...desc }, [{ values, value: 1 }]);
    assert.throws(() => renderFamilies([bad({ name: 'slurm-bad' })], 'text'), /"slurm-bad": invalid metric name/);
    assert.throws(() => renderFamilies([bad({ labels: ['a-b'] })], 'text'), /invalid label name "a-b"/);
    assert.throws(() => renderFamilies([bad({ labels: ['a', 'a'] }, ['1', '2'])], 'text'), /duplicate label name "a"/);
    assert.throws(() => renderFamilies([bad({}, ['1', '2'])], 'openmetrics'), /"slurm_ok": sample has 2 label values, want 1/);
    assert.throws(() => renderFamilies([bad({ labels: [] }, ['1'])], 'text'), /sample has 1 label values, want 0/);
  });
});

// External validators: promtool (text format) and the reference OpenMetrics parser of the Python client.
// Missing tools fail the test: CI installs them (Debian: prometheus, python3-prometheus-client).
const PROMTOOL = '/usr/bin/promtool';
const PYTHON = '/usr/bin/python3';

function requirePromtool(): void {
  if (!existsSync(PROMTOOL)) {
    assert.fail(`${PROMTOOL} is missing: install it with "apt-get update && apt-get install -y --no-install-recommends prometheus"`);
  }
}

function requirePythonClient(): void {
  const r = spawnSync(PYTHON, ['-c', 'import prometheus_client.openmetrics.parser'], { encoding: 'utf8' });
  if (r.status !== 0) {
    assert.fail(`the Python prometheus_client parser is missing: install it with "apt-get install -y --no-install-recommends python3-prometheus-client" (${r.stderr || r.error?.message})`);
  }
}

// Parse a page with the Python client and return its samples as [name, labels, value-as-text].
const PY_DUMP = `
import sys, json
from prometheus_client.parser import text_string_to_metric_families as text_parse
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
parse = om_parse if sys.argv[1] == 'openmetrics' else text_parse
out = []
for f in parse(sys.stdin.read()):
    for s in f.samples:
        out.append([f.name, f.type, f.documentation, s.name, s.labels, repr(float(s.value))])
print(json.dumps(out))
`;

function pyParse(page: string, format: 'text' | 'openmetrics'): [string, string, string, string, Record<string, string>, string][] {
  const r = spawnSync(PYTHON, ['-c', PY_DUMP, format], { input: page, encoding: 'utf8' });
  assert.equal(r.status, 0, `python parser rejected the ${format} page: ${r.stderr}\n${page}`);
  return JSON.parse(r.stdout) as [string, string, string, string, Record<string, string>, string][];
}

void describe('pages pass real parsers', () => {
  void it('text page passes promtool check metrics', () => {
    requirePromtool();
    const page = renderPage(representative, 'text');
    const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: page, encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool check metrics failed:\n${r.stdout}${r.stderr}\n--- page ---\n${page}`);
  });

  void it('promtool would catch a broken page (the check is real)', () => {
    requirePromtool();
    const broken = '# HELP x_total c\n# TYPE x_total gauge\nx_total{a="b} 1\n';
    const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: broken, encoding: 'utf8' });
    assert.notEqual(r.status, 0);
  });

  for (const format of ['text', 'openmetrics'] as const) {
    void it(`${format} page round-trips through the Python client's parser`, () => {
      requirePythonClient();
      const samples = pyParse(renderPage(representative, format), format);
      const reason = samples.filter((s) => s[3] === 'slurm_node_reason_info').map((s) => s[4]['reason']);
      assert.deepEqual(reason, ['disk "sda" failed\\replaced\nby admin', 'plain ünïcode ✓']);
      const help = samples.find((s) => s[3] === 'slurm_node_reason_info')?.[2];
      assert.equal(help, 'Reason with a back\\slash, a "quote" and a\nnewline.');
      const values = Object.fromEntries(samples.filter((s) => s[3] === 'slurm_test_values').map((s) => [s[4]['case'], s[5]]));
      assert.deepEqual(values, {
        pinf: 'inf', ninf: '-inf', nan: 'nan', million: '1000000.0', big: '123456789012345.0',
        negzero: '0.0', frac: '0.1', tiny: '1.5e-07', neg: '-2.5',
      });
      const counter = samples.find((s) => s[3] === 'slurm_jobs_submitted_total');
      // Both parsers report the counter family by its base name and type counter.
      assert.equal(counter?.[0], 'slurm_jobs_submitted');
      assert.equal(counter?.[1], 'counter');
      assert.equal(samples.filter((s) => s[3] === 'slurm_jobs_submitted_total').length, 2);
      assert.ok(!samples.some((s) => s[0] === 'slurm_empty'));
    });
  }

  for (const format of ['text', 'openmetrics'] as const) {
    void it(`${format} histograms parse as histograms with cumulative buckets`, () => {
      requirePythonClient();
      const samples = pyParse(renderPage([waits()], format), format).filter((s) => s[4]['partition'] === 'cpu');
      assert.ok(samples.every((s) => s[0] === 'slurm_test_wait_seconds' && s[1] === 'histogram'));
      const buckets = samples.filter((s) => s[3] === 'slurm_test_wait_seconds_bucket').map((s) => [s[4]['le'], s[5]]);
      const le = format === 'text' ? ['1', '2.5', '10', '+Inf'] : ['1.0', '2.5', '10.0', '+Inf'];
      assert.deepEqual(buckets, le.map((l, i) => [l, ['1.0', '2.0', '3.0', '4.0'][i]]));
      assert.deepEqual(samples.filter((s) => !s[3].endsWith('_bucket')).map((s) => [s[3], s[5]]), [
        ['slurm_test_wait_seconds_sum', '56.0'],
        ['slurm_test_wait_seconds_count', '4.0'],
      ]);
    });
  }

  void it('the OpenMetrics parser would catch a missing # EOF (the check is real)', () => {
    requirePythonClient();
    const r = spawnSync(PYTHON, ['-c', PY_DUMP, 'openmetrics'], { input: renderFamilies([jobs], 'openmetrics'), encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /EOF/);
  });
});

void describe('content negotiation', () => {
  void it('picks OpenMetrics for Prometheus\' default Accept header', () => {
    const accept =
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    assert.deepEqual(negotiateFormat(accept), { format: 'openmetrics', contentType: CONTENT_TYPE_OPENMETRICS });
  });

  void it('falls back to text 0.0.4', () => {
    for (const accept of [undefined, '', '*/*', 'text/html', 'application/json', 'text/plain;version=0.0.5', 'application/openmetrics-text;version=2.0.0']) {
      assert.deepEqual(negotiateFormat(accept), { format: 'text', contentType: CONTENT_TYPE_TEXT }, String(accept));
    }
  });

  void it('respects q-values and order', () => {
    assert.equal(negotiateFormat('text/plain;version=0.0.4, application/openmetrics-text;q=0.5').format, 'text');
    assert.equal(negotiateFormat('text/plain;q=0.2, application/openmetrics-text;q=0.5').format, 'openmetrics');
    assert.equal(negotiateFormat('application/openmetrics-text;q=0').format, 'text');
    assert.equal(negotiateFormat('application/openmetrics-text; version="1.0.0"; charset=utf-8').format, 'openmetrics');
  });

  void it('answers 0.0.1 requests with the 0.0.1 content type', () => {
    const n = negotiateFormat('application/openmetrics-text;version=0.0.1');
    assert.equal(n.format, 'openmetrics');
    assert.equal(n.contentType, 'application/openmetrics-text; version=0.0.1; charset=utf-8');
  });

  void it('detects gzip in Accept-Encoding', () => {
    assert.equal(acceptsGzip('gzip'), true);
    assert.equal(acceptsGzip('deflate, gzip;q=0.5'), true);
    assert.equal(acceptsGzip('*'), true);
    assert.equal(acceptsGzip('identity'), false);
    assert.equal(acceptsGzip(undefined), false);
    assert.equal(acceptsGzip('gzip;q=0'), false);
    assert.equal(acceptsGzip('*, gzip;q=0'), false);
    assert.equal(acceptsGzip('*;q=0'), false);
  });
});
