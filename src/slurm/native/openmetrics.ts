// A reader of the Prometheus text format and of OpenMetrics text, for what slurmctld's metrics/openmetrics
// plugin serves (Slurm 25.11+): `# HELP`, `# TYPE`, `# UNIT`, samples with escaped label values, an optional
// timestamp, NaN and ±Inf, and `# EOF`, which OpenMetrics requires and slurmctld leaves out. Our own code, not a
// dependency: slurmctld's answer is small and its shape is the whole contract. Errors name the endpoint and line.

export interface ParsedSample {
  /** The sample's own name: the family's, or the family's with a suffix (`_total`, `_bucket`, ...). */
  name: string;
  labels: Record<string, string>;
  value: number;
  /** As written (seconds in OpenMetrics, milliseconds in the Prometheus text format); undefined when absent. */
  timestamp: number | undefined;
}

export interface ParsedFamily {
  name: string;
  help: string;
  /** As `# TYPE` says; `unknown` when there is no TYPE line. */
  type: string;
  /** As `# UNIT` says; '' when none. */
  unit: string;
  samples: ParsedSample[];
}

export class OpenMetricsParseError extends Error {
  readonly endpoint: string;
  readonly line: number;
  constructor(endpoint: string, line: number, what: string) {
    super(`${endpoint}: line ${line}: ${what}`);
    this.name = 'OpenMetricsParseError';
    this.endpoint = endpoint;
    this.line = line;
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'untyped', 'unknown']);
/** The sample-name suffixes a family of a type may carry. */
const SUFFIXES: Record<string, readonly string[]> = {
  counter: ['_total', '_created'],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  gaugehistogram: ['_bucket', '_gcount', '_gsum'],
  summary: ['_count', '_sum', '_created'],
  info: ['_info'],
};

/** A number as the formats write it: decimal floats, NaN, +Inf/-Inf (also `Inf`, any case). Undefined otherwise. */
export function parseNumber(text: string): number | undefined {
  const t = text.toLowerCase();
  if (t === 'nan') return NaN;
  if (t === '+inf' || t === 'inf') return Infinity;
  if (t === '-inf') return -Infinity;
  return FLOAT.test(text) ? Number(text) : undefined;
}

class Reader {
  readonly families = new Map<string, ParsedFamily>();
  private current: ParsedFamily | undefined;
  private lineNo = 0;
  private readonly endpoint: string;

  constructor(endpoint: string) {
    this.endpoint = endpoint;
  }

  fail(what: string): never {
    throw new OpenMetricsParseError(this.endpoint, this.lineNo, what);
  }

  read(text: string): ParsedFamily[] {
    const lines = text.split('\n');
    let eof = false;
    for (const raw of lines) {
      this.lineNo++;
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (eof) {
        if (line !== '') this.fail('text after # EOF');
        continue;
      }
      if (line === '# EOF') eof = true;
      else if (line.trim() === '') continue;
      else if (line.startsWith('#')) this.comment(line);
      else this.sample(line);
    }
    return [...this.families.values()];
  }

  private family(name: string): ParsedFamily {
    let f = this.families.get(name);
    if (!f) this.families.set(name, (f = { name, help: '', type: 'unknown', unit: '', samples: [] }));
    return f;
  }

  /** `# HELP name text`, `# TYPE name type`, `# UNIT name unit`; any other comment is ignored, as Prometheus does. */
  private comment(line: string): void {
    const m = /^#\s+(HELP|TYPE|UNIT)\s+(\S+)(?:\s(.*))?$/.exec(line);
    if (!m) return;
    const [, keyword, name, rest = ''] = m as unknown as [string, string, string, string | undefined];
    if (!METRIC_NAME.test(name)) this.fail(`invalid metric name "${name}" in # ${keyword}`);
    const f = this.family(name);
    this.current = f;
    if (keyword === 'HELP') return this.help(f, rest);
    if (keyword === 'TYPE') return this.type(f, rest.trim());
    f.unit = rest.trim();
  }

  private help(f: ParsedFamily, text: string): void {
    if (f.help !== '') this.fail(`second # HELP for ${f.name}`);
    f.help = unescape(text, false) ?? this.fail(`bad escape in # HELP for ${f.name}`);
  }

  private type(f: ParsedFamily, type: string): void {
    if (!TYPES.has(type)) this.fail(`unknown type "${type}" for ${f.name}`);
    if (f.type !== 'unknown' || f.samples.length > 0) this.fail(`# TYPE for ${f.name} after its samples or a second time`);
    f.type = type;
  }

  /** `name{a="x",b="y"} value [timestamp] [# exemplar]`. */
  private sample(line: string): void {
    const nameEnd = line.search(/[{\s]/);
    const name = nameEnd < 0 ? line : line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) this.fail(`invalid metric name "${name}"`);
    let rest = nameEnd < 0 ? '' : line.slice(nameEnd);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) [labels, rest] = this.labels(rest);
    const [valueText, tsText, ...more] = rest.split('#')[0]!.trim().split(/\s+/);
    if (valueText === undefined || valueText === '') this.fail(`${name}: no value`);
    if (more.length > 0) this.fail(`${name}: unexpected "${more.join(' ')}" after the timestamp`);
    const value = parseNumber(valueText) ?? this.fail(`${name}: value "${valueText}" is not a number`);
    const timestamp = tsText === undefined ? undefined : (parseNumber(tsText) ?? this.fail(`${name}: timestamp "${tsText}" is not a number`));
    this.owner(name).samples.push({ name, labels, value, timestamp });
  }

  /** The family a sample belongs to: the one just declared when the name matches it with its type's suffixes, else its own. */
  private owner(name: string): ParsedFamily {
    const matches = (f: ParsedFamily) => name === f.name || (SUFFIXES[f.type] ?? []).some((s) => name === f.name + s);
    if (this.current && matches(this.current)) return this.current;
    for (const f of this.families.values()) if (matches(f)) return (this.current = f);
    return (this.current = this.family(name));
  }

  /** `{a="x",b="y"}` and what follows it. */
  private labels(text: string): [Record<string, string>, string] {
    const out: Record<string, string> = {};
    let i = 1;
    for (;;) {
      while (text[i] === ' ') i++;
      if (text[i] === '}') return [out, text.slice(i + 1)];
      const eq = text.indexOf('=', i);
      const key = eq < 0 ? '' : text.slice(i, eq).trim();
      if (!LABEL_NAME.test(key)) this.fail(`invalid label name "${key || text.slice(i)}"`);
      if (key in out) this.fail(`label "${key}" given twice`);
      let q = eq + 1;
      while (text[q] === ' ') q++;
      if (text[q] !== '"') this.fail(`label "${key}": value must be in double quotes`);
      const end = closingQuote(text, q + 1);
      if (end < 0) this.fail(`label "${key}": unterminated value`);
      out[key] = unescape(text.slice(q + 1, end), true) ?? this.fail(`label "${key}": bad escape`);
      i = end + 1;
      while (text[i] === ' ') i++;
      if (text[i] === ',') i++;
      else if (text[i] !== '}') this.fail(`expected "," or "}" after label "${key}"`);
    }
  }
}

/** Index of the `"` that ends a label value starting at `from`, skipping escaped ones; -1 when none. */
function closingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

/** `\\`, `\n` and (in label values) `\"`; undefined on any other escape. HELP keeps an unknown escape as written, as Prometheus does. */
function unescape(text: string, label: boolean): string | undefined {
  if (!text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = text[++i];
    if (n === '\\') out += '\\';
    else if (n === 'n') out += '\n';
    else if (n === '"' && label) out += '"';
    else if (!label && n !== undefined) out += '\\' + n;
    else return undefined;
  }
  return out;
}

/** Families in order of first appearance. Throws OpenMetricsParseError naming `endpoint` and the line. */
export function parseOpenMetrics(text: string, endpoint: string): ParsedFamily[] {
  return new Reader(endpoint).read(text);
}
