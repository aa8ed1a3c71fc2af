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
//
// Histograms are classic ones, the same in both formats: cumulative `_bucket{le=...}` lines ending with
// `le="+Inf"`, then `_sum` and `_count` (OpenMetrics gives them no `_total`). A series with no observation
// yet is still written, all zeros, so rate() sees its first observation.

import type { MetricFamily, Sample } from './types.ts';

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

const TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram']);

function checkFamily(f: MetricFamily): void {
  const { name, labels, type } = f.desc;
  if (!METRIC_NAME_RE.test(name)) throw familyError(name, 'invalid metric name');
  if (!TYPES.has(type)) throw familyError(name, `unknown type ${String(type)}`);
  const seen = new Set<string>();
  for (const l of labels) {
    if (!LABEL_NAME_RE.test(l) || l.startsWith('__')) throw familyError(name, `invalid label name ${JSON.stringify(l)}`);
    if (seen.has(l)) throw familyError(name, `duplicate label name ${JSON.stringify(l)}`);
    seen.add(l);
  }
  if (type === 'histogram') checkBuckets(f);
}

function checkBuckets(f: MetricFamily): void {
  const { name, labels, buckets } = f.desc;
  if (labels.includes('le')) throw familyError(name, 'a histogram cannot have a label named "le"');
  if (!buckets) throw familyError(name, 'histogram without buckets');
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i] as number;
    // +Inf is always written last; a bound of +Inf or NaN in the list would duplicate or break it.
    if (!Number.isFinite(b)) throw familyError(name, `bucket bound ${b} is not finite`);
    if (i > 0 && b <= (buckets[i - 1] as number)) throw familyError(name, 'bucket bounds must be strictly ascending');
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

function countError(f: MetricFamily, got: number): Error {
  return familyError(f.desc.name, `sample has ${got} label values, want ${f.desc.labels.length}`);
}

/** Sample lines of a counter or gauge. */
function scalarLines(f: MetricFamily, sampleName: string): string {
  const labels = f.desc.labels;
  const n = labels.length;
  let out = '';
  if (n === 0) {
    for (const s of f.samples) {
      if (s.values.length !== 0) throw countError(f, s.values.length);
      out += sampleName + ' ' + formatValue(s.value) + '\n';
    }
    return out;
  }
  // Precomputed fragments: `name{l1="`, `",l2="`, ... so each sample is a handful of concatenations.
  const first = sampleName + '{' + labels[0] + '="';
  const mids: string[] = [];
  for (let i = 1; i < n; i++) mids.push('",' + labels[i] + '="');
  for (const s of f.samples) {
    const vals = s.values;
    if (vals.length !== n) throw countError(f, vals.length);
    out += first + escapeLabelValue(vals[0] as string);
    for (let i = 1; i < n; i++) out += (mids[i - 1] as string) + escapeLabelValue(vals[i] as string);
    out += '"} ' + formatValue(s.value) + '\n';
  }
  return out;
}

/**
 * A bucket bound as the `le` value. Text 0.0.4 writes it like any value (`le="10"`); OpenMetrics wants the
 * canonical float form with a decimal point (`le="10.0"`), as client_golang and the Python client write it.
 */
export function formatBound(b: number, format: ExpositionFormat): string {
  const s = formatValue(b);
  return format === 'openmetrics' && Number.isInteger(b) && !s.includes('e') ? s + '.0' : s;
}

/** `l1="v1",l2="v2"` for one sample: the part of a histogram line before `le`. */
function labelPairs(f: MetricFamily, s: Sample): string {
  const labels = f.desc.labels;
  if (s.values.length !== labels.length) throw countError(f, s.values.length);
  let out = '';
  for (let i = 0; i < labels.length; i++) out += (i ? ',' : '') + labels[i] + '="' + escapeLabelValue(s.values[i] as string) + '"';
  return out;
}

/** `_bucket` lines (cumulative, `+Inf` last), `_sum` and `_count` of every series of a histogram. */
function histogramLines(f: MetricFamily, format: ExpositionFormat): string {
  const name = f.desc.name;
  const bounds = f.desc.buckets as readonly number[];
  const sep = f.desc.labels.length ? ',' : '';
  // The `,le="10"} ` tail of each bucket line is the same for every series of the family.
  const tails = bounds.map((b) => sep + 'le="' + formatBound(b, format) + '"} ');
  tails.push(sep + 'le="+Inf"} ');
  let out = '';
  for (const s of f.samples) {
    const h = s.histogram;
    if (!h || h.buckets.length !== bounds.length) throw familyError(name, `sample needs ${bounds.length} bucket counts`);
    const pairs = labelPairs(f, s);
    const open = name + '_bucket{' + pairs;
    let prev = 0;
    for (let i = 0; i < bounds.length; i++) {
      const c = h.buckets[i] as number;
      if (!(c >= prev)) throw familyError(name, 'bucket counts must be cumulative');
      out += open + (tails[i] as string) + formatValue(c) + '\n';
      prev = c;
    }
    if (!(s.value >= prev)) throw familyError(name, 'count is below the last bucket');
    const rest = pairs === '' ? ' ' : '{' + pairs + '} ';
    const count = formatValue(s.value);
    out += open + (tails[bounds.length] as string) + count + '\n' + name + '_sum' + rest + formatValue(h.sum) + '\n' + name + '_count' + rest + count + '\n';
  }
  return out;
}

/**
 * Render families into one piece of a page (no `# EOF`). Throws on an invalid metric or label name or a
 * sample whose label values do not match the family's label names: those are programming errors.
 */
export function renderFamilies(families: readonly MetricFamily[], format: ExpositionFormat): string {
  let out = '';
  for (const f of families) {
    if (f.samples.length === 0) continue;
    checkFamily(f);
    const { familyName, sampleName } = names(f, format);
    out += `# HELP ${familyName} ${escapeHelp(f.desc.help, format)}\n# TYPE ${familyName} ${f.desc.type}\n`;
    out += f.desc.type === 'histogram' ? histogramLines(f, format) : scalarLines(f, sampleName);
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
