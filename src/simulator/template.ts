// Turns a real captured slurmrestd answer into fast renderers: the raw text is kept byte for byte and only
// the values we vary are spliced in, so every field, key order, float spelling ("4.0") and escape style
// ("\/" in 25.x, "[]" vs "[\n  ]") stays exactly what the real slurmrestd printed.

/** Where one JSON value sits in the text. */
export interface Span {
  /** First character of the value. */
  start: number;
  /** One past the last character of the value. */
  end: number;
  /** For an object member: one past the end of the previous member's value, or one past '{' for the first. */
  memberStart: number;
  first: boolean;
}

/** Indexes every value of a JSON text by its dotted path (`jobs.0.job_state`, array items by index). */
export function indexSpans(text: string): Map<string, Span> {
  const spans = new Map<string, Span>();
  let i = 0;
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
  };
  const fail = (what: string): never => {
    throw new Error(`template JSON: ${what} at offset ${i}`);
  };
  const str = (): string => {
    const s = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(s, i)) as string;
  };
  const value = (path: string, memberStart: number, first: boolean): void => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      let firstMember = true;
      let prevEnd = i;
      if (text[i] === '}') i++;
      else
        for (;;) {
          ws();
          if (text[i] !== '"') fail('expected a key');
          const key = str();
          ws();
          if (text[i] !== ':') fail('expected ":"');
          i++;
          value(path ? `${path}.${key}` : key, prevEnd, firstMember);
          firstMember = false;
          prevEnd = i;
          ws();
          if (text[i] === ',') i++;
          else if (text[i] === '}') {
            i++;
            break;
          } else fail('expected "," or "}"');
        }
    } else if (c === '[') {
      i++;
      ws();
      let n = 0;
      if (text[i] === ']') i++;
      else
        for (;;) {
          value(`${path}.${n}`, i, n === 0);
          n++;
          ws();
          if (text[i] === ',') i++;
          else if (text[i] === ']') {
            i++;
            break;
          } else fail('expected "," or "]"');
        }
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !',}] \n\r\t'.includes(text[i]!)) i++;
      if (i === start) fail('expected a value');
    }
    spans.set(path, { start, end: i, memberStart, first });
  };
  value('', 0, true);
  return spans;
}

/** How a slurmrestd release prints JSON. */
export interface Style {
  /** 25.x escapes '/' as '\/'. */
  escapeSlash: boolean;
  /** 22.05 prints an empty array as `[]`; 25.x as `[` newline indent `]`. */
  inlineEmpty: boolean;
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON must escape
const NEEDS_ESCAPE = /["\\\u0000-\u001f/]/;

export function jsonString(s: string, style: Style): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  const j = JSON.stringify(s);
  return style.escapeSlash ? j.replaceAll('/', '\\/') : j;
}

/** Pretty-prints a plain value the way slurmrestd does, starting at the given indent (for small objects only). */
export function pretty(v: unknown, indent: string, style: Style): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return jsonString(v, style);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return style.inlineEmpty ? '[]' : `[\n${indent}]`;
    return `[\n${v.map((x) => inner + pretty(x, inner, style)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return style.inlineEmpty ? '{}' : `{\n${indent}}`;
  return `{\n${entries.map(([k, x]) => `${inner}${jsonString(k, style)}: ${pretty(x, inner, style)}`).join(',\n')}\n${indent}}`;
}

/** The indentation of the line holding offset `at`. */
export function indentAt(text: string, at: number): string {
  const s = text.lastIndexOf('\n', at - 1) + 1;
  let e = s;
  while (text[e] === ' ') e++;
  return text.slice(s, e);
}

export type Render<T> = (r: T) => string;

/** Context a slot's renderer is built with. */
export interface SlotContext {
  /** Indentation of the line where the value starts (the key's line). */
  indent: string;
  style: Style;
  /** The template's value at that place, parsed (decides e.g. string vs array state fields). */
  original: unknown;
  /** For member slots: the text `,\n<indent>"key": ` before the value. */
  memberPrefix: string;
}

export interface Slot<T> {
  /** Path relative to the compiled range. */
  path: string;
  /** Absent in this version's template: skip instead of failing. */
  optional?: boolean;
  /** Replace the whole member (separator, key and value) so the renderer may omit it by returning ''. */
  member?: boolean;
  build: (ctx: SlotContext) => Render<T>;
}

/** A parsed template: its text, the spans of every value, its print style. */
export class Template {
  readonly text: string;
  readonly spans: Map<string, Span>;
  readonly style: Style;
  readonly name: string;
  constructor(name: string, text: string, style: Style) {
    this.name = name;
    this.text = text;
    this.style = style;
    this.spans = indexSpans(text);
  }

  span(path: string): Span {
    const s = this.spans.get(path);
    if (!s) throw new Error(`template ${this.name}: no value at "${path}"`);
    return s;
  }

  has(path: string): boolean {
    return this.spans.has(path);
  }

  valueAt(path: string): unknown {
    const s = this.span(path);
    return JSON.parse(this.text.slice(s.start, s.end).replaceAll('\\/', '/'));
  }

  /** Compiles the text in [from, to) with slots (absolute paths) into a renderer. */
  compileText<T>(from: number, to: number, slots: Slot<T>[], base = ''): Render<T> {
    const placed: { start: number; end: number; fn: Render<T> }[] = [];
    for (const slot of slots) {
      const path = base ? (slot.path ? `${base}.${slot.path}` : base) : slot.path;
      const span = this.spans.get(path);
      if (!span) {
        if (slot.optional) continue;
        throw new Error(`template ${this.name}: slot "${path}" has no value in the captured answer`);
      }
      if (slot.member && span.first) throw new Error(`template ${this.name}: member slot "${path}" must not be the first member`);
      const start = slot.member ? span.memberStart : span.start;
      if (start < from || span.end > to) throw new Error(`template ${this.name}: slot "${path}" outside the compiled range`);
      const fn = slot.build({
        indent: indentAt(this.text, span.start),
        style: this.style,
        original: JSON.parse(this.text.slice(span.start, span.end).replaceAll('\\/', '/')),
        memberPrefix: this.text.slice(span.memberStart, span.start),
      });
      placed.push({ start, end: span.end, fn });
    }
    placed.sort((a, b) => a.start - b.start);
    const pieces: string[] = [];
    const fns: Render<T>[] = [];
    let at = from;
    for (const p of placed) {
      if (p.start < at) throw new Error(`template ${this.name}: overlapping slots near offset ${p.start}`);
      pieces.push(this.text.slice(at, p.start));
      fns.push(p.fn);
      at = p.end;
    }
    const last = this.text.slice(at, to);
    const n = fns.length;
    if (n === 0) return () => pieces.join('') + last;
    return (r: T) => {
      let s = '';
      for (let k = 0; k < n; k++) s += pieces[k]! + fns[k]!(r);
      return s + last;
    };
  }

  /** Compiles the value at `path`. */
  compileValue<T>(path: string, slots: Slot<T>[]): Render<T> {
    const s = this.span(path);
    return this.compileText(s.start, s.end, slots, path);
  }

  /**
   * Splits an answer around its record list `arrayPath` (holding at least one record in the template):
   * head (up to the first record), separator, tail (after the last record), and the answer with no record.
   */
  compileEnvelope<T>(arrayPath: string, slots: Slot<T>[]): Envelope<T> {
    const arr = this.span(arrayPath);
    const first = this.span(`${arrayPath}.0`);
    let n = 0;
    while (this.spans.has(`${arrayPath}.${n}`)) n++;
    const lastRec = this.span(`${arrayPath}.${n - 1}`);
    const itemIndent = indentAt(this.text, first.start);
    const arrIndent = indentAt(this.text, arr.start);
    const present = slots.filter((s) => this.spans.has(s.path) || !s.optional);
    const inHead = present.filter((s) => this.span(s.path).end <= first.start);
    const inTail = present.filter((s) => this.span(s.path).start >= lastRec.end);
    const head = this.compileText(0, first.start, inHead);
    const tail = this.compileText(lastRec.end, this.text.length, inTail);
    const emptyHead = this.compileText(0, arr.start, inHead);
    const emptyTail = this.compileText(arr.end, this.text.length, inTail);
    const emptyArray = this.style.inlineEmpty ? '[]' : `[\n${arrIndent}]`;
    return {
      head,
      tail,
      separator: `,\n${itemIndent}`,
      empty: (r: T) => emptyHead(r) + emptyArray + emptyTail(r),
    };
  }
}

export interface Envelope<T> {
  head: Render<T>;
  tail: Render<T>;
  separator: string;
  empty: Render<T>;
}

// Slot builders. `get` receives the record; values are printed in the template's style.

export function str<T>(path: string, get: (r: T) => string, optional = false): Slot<T> {
  return { path, optional, build: ({ style }) => (r) => jsonString(get(r), style) };
}

export function num<T>(path: string, get: (r: T) => number, optional = false): Slot<T> {
  return { path, optional, build: () => (r) => String(get(r)) };
}

export function bool<T>(path: string, get: (r: T) => boolean, optional = false): Slot<T> {
  return { path, optional, build: () => (r) => (get(r) ? 'true' : 'false') };
}

/** A nullable string: `null` in 22.05 places that print null for unset strings. */
export function strOrNull<T>(path: string, get: (r: T) => string | null, optional = false): Slot<T> {
  return { path, optional, build: ({ style }) => (r) => {
    const v = get(r);
    return v === null ? 'null' : jsonString(v, style);
  } };
}

export function strArray<T>(path: string, get: (r: T) => readonly string[], optional = false): Slot<T> {
  return {
    path,
    optional,
    build: ({ indent, style }) => {
      const inner = `,\n${indent}  `;
      const empty = style.inlineEmpty ? '[]' : `[\n${indent}]`;
      return (r) => {
        const a = get(r);
        if (a.length === 0) return empty;
        let s = `[\n${indent}  ${jsonString(a[0]!, style)}`;
        for (let k = 1; k < a.length; k++) s += inner + jsonString(a[k]!, style);
        return `${s}\n${indent}]`;
      };
    },
  };
}

/**
 * A number that is a plain number in one version and a {set, infinite, number} object in another: the
 * slot lands on `.number` when the template has the object form. `unset` values render set=false.
 */
export function numField<T>(t: Template, base: string, path: string, get: (r: T) => number | null, optional = false): Slot<T>[] {
  const full = base ? `${base}.${path}` : path;
  if (!t.has(full)) {
    if (optional) return [];
    throw new Error(`template ${t.name}: no value at "${full}"`);
  }
  if (t.has(`${full}.number`)) {
    return [
      bool(`${path}.set`, (r) => get(r) !== null),
      num(`${path}.number`, (r) => get(r) ?? 0),
    ];
  }
  return [{ path, build: () => (r) => {
    const v = get(r);
    return v === null ? 'null' : String(v);
  } }];
}

export function raw<T>(path: string, build: (ctx: SlotContext) => Render<T>, opts: { optional?: boolean; member?: boolean } = {}): Slot<T> {
  return { path, build, ...opts };
}
