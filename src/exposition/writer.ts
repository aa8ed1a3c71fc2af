// Plain writers for Prometheus text format 0.0.4 and OpenMetrics 1.0.0. No client library: at 200k
// series prom-client cost ~8x the CPU of this loop, and the exporter renders pieces per collector anyway.
//
// Pieces and pages: renderFamilies() renders one collector's families into a piece; pieces are joined in
// any order and finishPage() closes the page (OpenMetrics needs a single `# EOF` as its last line, so a
// piece never carries it).
//
// Families without samples are omitted in both formats, as client_golang's registry does (its encoder
// refuses empty families). Text 0.0.4 parsers drop empty families anyway and some older OpenMetrics
// consumers reject a TYPE with no points; omitting them keeps both formats passing promtool and the
// reference OpenMetrics parser. The generated metric reference, not the page, lists every metric.

import type { MetricFamily } from './types.ts';

export type ExpositionFormat = 'text' | 'openmetrics';

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LABEL_ESCAPE_RE = /[\\"\n]/;
const LABEL_ESCAPE_RE_G = /[\\"\n]/g;
const TEXT_HELP_ESCAPE_RE_G = /[\\\n]/g;
const OM_HELP_ESCAPE_RE_G = /[\\"\n]/g;

function escapeChar(c: string): string {
  return c === '\n' ? '\\n' : '\\' + c;
}

/** Label value escaping shared by both formats: backslash, double quote, newline. */
export function escapeLabelValue(value: string): string {
  // Most values need nothing; test first so the common case allocates nothing.
  return LABEL_ESCAPE_RE.test(value) ? value.replace(LABEL_ESCAPE_RE_G, escapeChar) : value;
}

/** HELP escaping: text 0.0.4 escapes backslash and newline; OpenMetrics also the double quote. */
export function escapeHelp(help: string, format: ExpositionFormat): string {
  return help.replace(format === 'openmetrics' ? OM_HELP_ESCAPE_RE_G : TEXT_HELP_ESCAPE_RE_G, escapeChar);
}

/**
 * Go-compatible float text: `+Inf`, `-Inf`, `NaN`; integers as plain digits (up to 1e21, past which
 * JavaScript and Go both switch to an exponent); other values in the shortest round-trip form.
 */
export function formatValue(v: number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  // String(-0) is "0", which is what we want: no "-0" noise for a zero gauge.
  return String(v);
}

function familyError(name: string, problem: string): Error {
  return new Error(`metric family ${JSON.stringify(name)}: ${problem}`);
}

function checkFamily(f: MetricFamily): void {
  const { name, labels, type } = f.desc;
  if (!METRIC_NAME_RE.test(name)) throw familyError(name, 'invalid metric name');
  if (type !== 'counter' && type !== 'gauge') throw familyError(name, `unknown type ${String(type)}`);
  const seen = new Set<string>();
  for (const l of labels) {
    if (!LABEL_NAME_RE.test(l) || l.startsWith('__')) throw familyError(name, `invalid label name ${JSON.stringify(l)}`);
    if (seen.has(l)) throw familyError(name, `duplicate label name ${JSON.stringify(l)}`);
    seen.add(l);
  }
}

/** Name used on HELP/TYPE lines and the name every sample line carries. */
function names(f: MetricFamily, format: ExpositionFormat): { familyName: string; sampleName: string } {
  const name = f.desc.name;
  if (f.desc.type !== 'counter') return { familyName: name, sampleName: name };
  if (format === 'text') return { familyName: name, sampleName: name };
  // OpenMetrics: the family is named without `_total`, its samples with it.
  const base = name.endsWith('_total') ? name.slice(0, -6) : name;
  return { familyName: base, sampleName: base + '_total' };
}

/**
 * Render families into one piece of a page (no `# EOF`). Throws on an invalid metric or label name or a
 * sample whose label values do not match the family's label names: those are programming errors.
 */
export function renderFamilies(families: readonly MetricFamily[], format: ExpositionFormat): string {
  let out = '';
  for (const f of families) {
    const samples = f.samples;
    if (samples.length === 0) continue;
    checkFamily(f);
    const { familyName, sampleName } = names(f, format);
    out += `# HELP ${familyName} ${escapeHelp(f.desc.help, format)}\n# TYPE ${familyName} ${f.desc.type}\n`;
    const labels = f.desc.labels;
    const n = labels.length;
    if (n === 0) {
      for (const s of samples) {
        if (s.values.length !== 0) throw familyError(f.desc.name, `sample has ${s.values.length} label values, want 0`);
        out += sampleName + ' ' + formatValue(s.value) + '\n';
      }
      continue;
    }
    // Precomputed fragments: `name{l1="`, `",l2="`, ... so each sample is a handful of concatenations.
    const first = sampleName + '{' + labels[0] + '="';
    const mids: string[] = [];
    for (let i = 1; i < n; i++) mids.push('",' + labels[i] + '="');
    for (const s of samples) {
      const vals = s.values;
      if (vals.length !== n) throw familyError(f.desc.name, `sample has ${vals.length} label values, want ${n}`);
      out += first + escapeLabelValue(vals[0] as string);
      for (let i = 1; i < n; i++) out += (mids[i - 1] as string) + escapeLabelValue(vals[i] as string);
      out += '"} ' + formatValue(s.value) + '\n';
    }
  }
  return out;
}

/** Join rendered pieces into a complete page; OpenMetrics pages end with `# EOF`. */
export function finishPage(pieces: string | readonly string[], format: ExpositionFormat): string {
  const body = typeof pieces === 'string' ? pieces : pieces.join('');
  if (format !== 'openmetrics' || body.endsWith('# EOF\n')) return body;
  return body + '# EOF\n';
}

/** Render a whole page from families. */
export function renderPage(families: readonly MetricFamily[], format: ExpositionFormat): string {
  return finishPage(renderFamilies(families, format), format);
}
