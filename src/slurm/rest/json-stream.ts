// Streaming reader for slurmrestd answers. A /jobs answer of 25.11 holds ~9.3 KB per job pretty-printed, so
// 100k jobs are ~930 MB: over V8's maximum string length, and a whole-body JSON.parse cannot work. This reader
// scans bytes only to find where each element of one top-level array starts and ends (tracking strings, escapes
// and nesting depth), and hands each element's bytes to JSON.parse alone (with opts.pick, only the members
// asked for). Memory stays at one element plus one chunk. The other, small top-level members (meta, errors,
// warnings, last_update) are parsed normally.
import { SlurmFetchError } from '../source.ts';

export interface StreamOptions {
  /** The reader stops and rejects with kind 'too_large' as soon as more bytes than this have arrived. */
  maxBytes: number;
  signal?: AbortSignal;
  /**
   * For streamed elements that are objects: keep only these members. In a pretty-printed answer (any
   * indentation) the others are skipped by an exact scan without being parsed (members the exporter never
   * reads are then not validated); otherwise, or on any doubt, the element is parsed whole and trimmed.
   */
  pick?: ReadonlySet<string>;
}

export interface StreamResult {
  /** Every top-level member except the streamed array. */
  rest: Record<string, unknown>;
  /** Bytes read. */
  bytes: number;
  /** Elements delivered to onElement. */
  count: number;
  /** Whether the array key was present (as an array) at the top level. */
  found: boolean;
  /** Elements whose picked members were taken by the exact member scan, without parsing the rest (opts.pick). */
  fastPicked: number;
  /** Elements parsed whole by JSON.parse (and then trimmed to opts.pick). */
  exactParsed: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const BOM = [0xef, 0xbb, 0xbf];

// Where the top-level parser stands between tokens.
const S_START = 0; // expect '{'
const S_FIRST_KEY = 1; // expect a key or '}'
const S_KEY = 2; // expect a key (after ',')
const S_COLON = 3; // expect ':'
const S_VALUE = 4; // expect a member value
const S_AFTER_MEMBER = 5; // expect ',' or '}'
const S_ARRAY_FIRST = 6; // inside the streamed array: expect an element or ']'
const S_ARRAY_NEXT = 7; // expect an element (after ',')
const S_ARRAY_AFTER = 8; // expect ',' or ']'
const S_DONE = 9; // only whitespace may follow

// What the value being scanned is for.
const T_KEY = 0;
const T_MEMBER = 1;
const T_ELEMENT = 2;

const EXPECTED: Record<number, string> = {
  [S_START]: "'{' opening the answer",
  [S_FIRST_KEY]: "a member name or '}'",
  [S_KEY]: 'a member name',
  [S_COLON]: "':' after a member name",
  [S_VALUE]: 'a member value',
  [S_AFTER_MEMBER]: "',' or '}' after a member",
  [S_ARRAY_FIRST]: "an array element or ']'",
  [S_ARRAY_NEXT]: 'an array element',
  [S_ARRAY_AFTER]: "',' or ']' after an array element",
  [S_DONE]: 'end of the answer',
};

// How far the pretty-print fast path looks for an element's closing line before falling back to exact scanning.
const FAST_WINDOW = 1 << 20;

/**
 * Picked keys by (length, first byte), as bytes, so member names are matched without decoding them; `quick` has a
 * 1 for every (length < 64, first byte) some picked key has, so most names are turned down by one array read.
 */
interface PickIndex {
  byCode: Map<number, Buffer[]>;
  quick: Uint8Array;
}
const QUICK_LEN = 64;
const pickIndexes = new WeakMap<ReadonlySet<string>, PickIndex>();
function pickIndex(pick: ReadonlySet<string>): PickIndex {
  let idx = pickIndexes.get(pick);
  if (idx === undefined) {
    idx = { byCode: new Map(), quick: new Uint8Array(QUICK_LEN * 256) };
    for (const k of pick) {
      const b = Buffer.from(k, 'utf8');
      const code = b.length * 256 + b[0]!;
      idx.byCode.set(code, [...(idx.byCode.get(code) ?? []), b]);
      if (b.length < QUICK_LEN) idx.quick[code] = 1;
    }
    pickIndexes.set(pick, idx);
  }
  return idx;
}

function sameBytes(buf: Buffer, at: number, want: Buffer): boolean {
  for (let i = 0; i < want.length; i++) if (buf[at + i] !== want[i]) return false;
  return true;
}

/** Whether the member name in buf[from, to) is one of the picked ones. */
function isPicked(buf: Buffer, from: number, to: number, idx: PickIndex): boolean {
  const code = (to - from) * 256 + (buf[from] as number);
  if (to - from < QUICK_LEN && idx.quick[code] === 0) return false;
  const candidates = idx.byCode.get(code);
  if (candidates === undefined) return false;
  // A plain loop, not some(): no closure is made per member name.
  for (let c = 0; c < candidates.length; c++) if (sameBytes(buf, from, candidates[c]!)) return true;
  return false;
}

// What a byte means when a value is skipped without being parsed.
const C_PLAIN = 0;
const C_QUOTE = 1;
const C_OPEN = 2;
const C_CLOSE = 3;
const C_BAD = 4; // cannot occur there in valid JSON
const CLASS = new Uint8Array(256);
CLASS[QUOTE] = C_QUOTE;
CLASS[OPEN_BRACE] = C_OPEN;
CLASS[OPEN_BRACKET] = C_OPEN;
CLASS[CLOSE_BRACE] = C_CLOSE;
CLASS[CLOSE_BRACKET] = C_CLOSE;
CLASS[BACKSLASH] = C_BAD;
const WHITESPACE = new Uint8Array(256);
for (const c of [0x20, 0x0a, 0x0d, 0x09]) WHITESPACE[c] = 1;
// Deeper nesting is left to the exact parse: the kinds of the open brackets are the bits of one small integer.
const MAX_SKIP_DEPTH = 30;

// What the member scan returns instead of an offset: the value runs past the bytes at hand, or it is not a
// value the scan can vouch for (the element is then parsed whole, which also reports malformed JSON exactly).
const INCOMPLETE = -1;
const DOUBT = -2;

function skipWhitespace(buf: Buffer, i: number, limit: number): number {
  while (i < limit && WHITESPACE[buf[i] as number] === 1) i++;
  return i;
}

/**
 * The end (after the closing quote) of the string whose opening quote is at buf[i]. Tight loops over runs of
 * plain bytes (no table, no per-byte call) measured fastest: the string bytes are a third of a /jobs answer.
 */
function skipString(buf: Buffer, i: number, limit: number): number {
  i++;
  for (;;) {
    while (i < limit && buf[i] !== QUOTE && buf[i] !== BACKSLASH) i++;
    if (i >= limit) return INCOMPLETE;
    if (buf[i++] === QUOTE) return i;
    i++; // the escaped byte, whatever it is, does not end the string
  }
}

/**
 * The end of the object or array opening at buf[i]. Strings are skipped with their escapes and every closing
 * bracket must match its opening one, so the end is exactly where JSON.parse finds it; the contents are not
 * otherwise validated. This walks most of the bytes of a record: runs of plain bytes go through one tight
 * loop, which measured ~1.5 times faster than one loop that dispatches on every byte.
 */
function skipContainer(buf: Buffer, i: number, limit: number): number {
  let open = 0; // one bit per level, 1 for '{'
  let depth = 0;
  for (;;) {
    while (i < limit && CLASS[buf[i] as number] === C_PLAIN) i++;
    if (i >= limit) return INCOMPLETE;
    const c = buf[i] as number;
    const t = CLASS[c];
    if (t === C_QUOTE) {
      i = skipString(buf, i, limit);
      if (i < 0) return i;
      continue;
    }
    i++;
    if (t === C_OPEN) {
      if (++depth > MAX_SKIP_DEPTH) return DOUBT;
      open = (open << 1) | (c === OPEN_BRACE ? 1 : 0);
    } else if (t === C_CLOSE) {
      if ((open & 1) !== (c === CLOSE_BRACE ? 1 : 0)) return DOUBT;
      open >>= 1;
      if (--depth === 0) return i;
    } else {
      return DOUBT;
    }
  }
}

/** The end of the number, true, false or null at buf[i] (its spelling is not checked). */
function skipLiteral(buf: Buffer, i: number, limit: number): number {
  const from = i;
  for (; i < limit; i++) {
    const c = buf[i] as number;
    if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || WHITESPACE[c] === 1) return i > from ? i : DOUBT;
    if (CLASS[c] !== C_PLAIN || c === COLON) return DOUBT;
  }
  return INCOMPLETE;
}

function skipValue(buf: Buffer, i: number, limit: number): number {
  const c = buf[i];
  if (c === QUOTE) return skipString(buf, i, limit);
  if (c === OPEN_BRACE || c === OPEN_BRACKET) return skipContainer(buf, i, limit);
  return skipLiteral(buf, i, limit);
}

// Where the member walk of an element stands between members (see MemberWalk).
const W_FIRST = 0; // after '{': a member name or '}'
const W_NEXT = 1; // after ',': a member name
const W_AFTER = 2; // after a member's value: ',' or '}'

/**
 * The member walk of the object element being read, kept across chunks: the members already walked are not
 * walked again when the next chunk comes, only the one cut by the chunk's end. Offsets count from the element's
 * '{', which stays in the buffer (and keeps its offset there relative to the element) until it is delivered.
 */
interface MemberWalk {
  at: number;
  phase: number;
  /** [from, to) of each picked `"name": value` text, in order. */
  parts: number[];
}

/**
 * The member `"name": value` whose opening quote is at buf[i]: pushes its text's bounds (relative to `start`)
 * onto parts when the name is picked, and returns where its value ends. A name written with escapes is a doubt:
 * its bytes are not its name.
 */
function walkMember(buf: Buffer, start: number, i: number, limit: number, idx: PickIndex, parts: number[]): number {
  let k = i + 1;
  while (k < limit && buf[k] !== QUOTE && buf[k] !== BACKSLASH) k++;
  if (k >= limit) return INCOMPLETE;
  if (buf[k] !== QUOTE) return DOUBT;
  let v = skipWhitespace(buf, k + 1, limit);
  if (v < limit && buf[v] !== COLON) return DOUBT;
  v = skipWhitespace(buf, v + 1, limit);
  if (v >= limit) return INCOMPLETE;
  const end = skipValue(buf, v, limit);
  if (end >= 0 && isPicked(buf, i + 1, k, idx)) parts.push(i - start, end - start);
  return end;
}

/**
 * Walks the members of the object element whose '{' is at buf[start] from where `w` stands, over the bytes
 * before limit; returns the end of the element, INCOMPLETE (w then says where to go on) or DOUBT. One byte scan
 * walks the object's own members as JSON.parse does (strings and their escapes, nesting, each bracket closed by
 * its own kind), so no layout, no member name inside a nested object or a string, can mislead it: the picked
 * texts are those JSON.parse would see. The other members are skipped, not validated.
 */
function walkMembers(buf: Buffer, start: number, limit: number, w: MemberWalk, idx: PickIndex): number {
  let i = start + w.at;
  let phase = w.phase;
  for (;;) {
    i = skipWhitespace(buf, i, limit);
    if (i >= limit) break;
    const c = buf[i] as number;
    if (phase === W_AFTER) {
      if (c === CLOSE_BRACE) return i + 1;
      if (c !== COMMA) return DOUBT;
      phase = W_NEXT;
      i++;
    } else if (c === QUOTE) {
      const end = walkMember(buf, start, i, limit, idx, w.parts);
      if (end === INCOMPLETE) break; // the member is walked again, whole, when more bytes have come
      if (end < 0) return end;
      phase = W_AFTER;
      i = end;
    } else {
      return c === CLOSE_BRACE && phase === W_FIRST ? i + 1 : DOUBT;
    }
  }
  w.at = i - start;
  w.phase = phase;
  return INCOMPLETE;
}

// The picked member texts of a record are copied here, between '{' and '}', for one JSON.parse per record (one
// string to decode and parse instead of a string per member joined into another).
let joined = Buffer.allocUnsafe(64 * 1024);

/**
 * JSON.parse of the picked members (the `parts` of the element at buf[start]) as one object: the values are
 * those JSON.parse of the whole element would give. DOUBT when a picked value is malformed (the exact parse of
 * the whole element then names it).
 */
function parsePicked(buf: Buffer, start: number, parts: readonly number[]): Record<string, unknown> | number {
  let size = 2 + parts.length / 2;
  for (let p = 0; p < parts.length; p += 2) size += parts[p + 1]! - parts[p]!;
  // Grown for records up to FAST_WINDOW and kept; a larger one gets a buffer of its own, not kept.
  const out = size <= joined.length ? joined : Buffer.allocUnsafe(Math.max(size, joined.length * 2));
  if (out.length <= FAST_WINDOW) joined = out;
  let n = 0;
  out[n++] = OPEN_BRACE;
  for (let p = 0; p < parts.length; p += 2) {
    if (p > 0) out[n++] = COMMA;
    n += buf.copy(out, n, start + parts[p]!, start + parts[p + 1]!); // native: as fast as a loop, one line
  }
  out[n++] = CLOSE_BRACE;
  try {
    return JSON.parse(out.toString('utf8', 0, n)) as Record<string, unknown>;
  } catch {
    return DOUBT; // a picked value is malformed: the exact parse names it
  }
}

function pickFrom(value: unknown, pick: ReadonlySet<string>): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const k of pick) if (k in value) out[k] = (value as Record<string, unknown>)[k];
  return out;
}

const needles = new Map<number, Buffer>();
/** A newline, `indent` times the byte `pad` (a space or a tab), and the closing bracket. */
function closingLine(indent: number, pad: number, close: number): Buffer {
  const k = indent * 4 + (pad === 0x09 ? 2 : 0) + (close === CLOSE_BRACE ? 0 : 1);
  let b = needles.get(k);
  if (b === undefined) {
    b = Buffer.alloc(indent + 2, pad);
    b[0] = 0x0a;
    b[indent + 1] = close;
    needles.set(k, b);
  }
  return b;
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function describeByte(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

function abortError(signal: AbortSignal): SlurmFetchError {
  const reason: unknown = signal.reason;
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'aborted';
  return new SlurmFetchError('aborted', `reading the answer was aborted: ${why}`, { cause: reason });
}

/** Next chunk of the body, or a rejection as soon as the signal aborts (a stalled body must not hold us). */
function nextChunk(
  it: AsyncIterator<Uint8Array>,
  signal: AbortSignal | undefined,
): Promise<IteratorResult<Uint8Array>> {
  if (signal === undefined) return it.next();
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    it.next().then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * Feeds `body` chunk by chunk (as Buffers) to onChunk, enforcing opts.maxBytes and opts.signal; returns the
 * byte count. A reader that stops early ends the body without waiting for it.
 */
async function eachChunk(body: AsyncIterable<Uint8Array>, opts: StreamOptions, onChunk: (chunk: Buffer) => void): Promise<number> {
  let total = 0;
  const it = body[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      const r = await nextChunk(it, opts.signal);
      if (r.done === true) {
        finished = true;
        return total;
      }
      const chunk = r.value;
      if (chunk.length === 0) continue;
      total += chunk.length;
      if (total > opts.maxBytes) {
        throw new SlurmFetchError('too_large', `answer is larger than the limit of ${opts.maxBytes} bytes (stopped reading after ${total} bytes)`);
      }
      onChunk(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    }
  } finally {
    // Not awaited: a body suspended in an await (a stalled socket) would never settle the return.
    if (!finished) void it.return?.().catch(() => undefined);
  }
}

/**
 * Reads a JSON object from `body`, calls `onElement` for each element of its top-level array `arrayKey`, one at a
 * time, and returns the other top-level members. Rejects with SlurmFetchError kind 'parse' (malformed or truncated,
 * naming the byte offset and what was expected), 'too_large' (over opts.maxBytes) or 'aborted'.
 */
export async function streamTopLevelArray(
  body: AsyncIterable<Uint8Array>,
  arrayPath: string | readonly string[],
  onElement: (value: unknown, index: number) => void,
  opts: StreamOptions,
): Promise<StreamResult> {
  // The array may sit in nested objects: ['shares', 'shares'] streams {"shares": {"shares": [...]}}. At each
  // level the member named by the path is entered (an object) or streamed (an array, at any level, so the
  // older flat {"shares": [...]} reads too); other nested members land in rest as "outer.inner".
  const path = typeof arrayPath === 'string' ? [arrayPath] : arrayPath;
  const arrayKey = path.join('.');
  let level = 0;
  const rest: Record<string, unknown> = {};
  let count = 0;
  let found = false;
  let total = 0; // bytes received
  let base = 0; // absolute offset of buf[0]
  let buf: Buffer = Buffer.alloc(0);
  let work: Buffer = Buffer.allocUnsafe(256 * 1024);
  let inWork = false; // buf is the start of work
  let pos = 0; // next byte of buf to look at
  let state = S_START;

  // The value being scanned; its bytes from `vStart` on stay in buf until it is complete.
  let scanning = false;
  let vStart = 0;
  let vDepth = 0;
  let vInString = false;
  let vKind = 0; // 0 container, 1 string, 2 literal (number, true, false, null)
  let vTarget = T_MEMBER;
  let key = '';
  // Fast path for pretty-printed answers (see fastElement): the element's closing line and where to search for it.
  let fastEnabled = true;
  let vNeedle: Buffer | undefined;
  // With opts.pick, an object element is read by walkMembers whatever its layout (see pickElement).
  let vPick = false;
  const pickIdx = opts.pick ? pickIndex(opts.pick) : undefined;
  const walk: MemberWalk = { at: 0, phase: W_FIRST, parts: [] };
  let vSearch = 0;
  // Whitespace seen since the last token: did it contain a newline, and how many spaces (or tabs: `pad`) follow
  // the last one. Mixed indentation is not a line start.
  let lineStart = false;
  let indent = 0;
  let pad = 0x20;
  // Elements whose picked members the fast path took without parsing the rest / elements parsed whole.
  let fastPicked = 0;
  let exactParsed = 0;

  // A '}' ends a nested level (back to its parent's members) or the answer.
  const closeLevel = (): number => {
    if (level === 0) return S_DONE;
    level--;
    return S_AFTER_MEMBER;
  };

  const parseError = (offset: number, what: string): SlurmFetchError =>
    new SlurmFetchError('parse', `malformed JSON answer at byte offset ${offset}: ${what}`);

  // Hands a complete element (ending at buf[end]) to onElement.
  const deliver = (value: unknown, end: number): void => {
    scanning = false;
    pos = end;
    onElement(value, count);
    count++;
    state = S_ARRAY_AFTER;
  };

  const finishValue = (end: number): void => {
    const text = buf.toString('utf8', vStart, end);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      const what =
        vTarget === T_ELEMENT ? `element ${count} of "${arrayKey}"` : vTarget === T_KEY ? 'a member name' : `member "${key}"`;
      throw new SlurmFetchError(
        'parse',
        `malformed JSON answer in ${what} starting at byte offset ${base + vStart}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    scanning = false;
    if (vTarget === T_KEY) {
      key = value as string;
      state = S_COLON;
    } else if (vTarget === T_MEMBER) {
      rest[level === 0 ? key : `${path.slice(0, level).join('.')}.${key}`] = value;
      state = S_AFTER_MEMBER;
    } else {
      exactParsed++;
      deliver(opts.pick ? pickFrom(value, opts.pick) : value, end);
    }
  };

  const startValue = (c: number, target: number): void => {
    scanning = true;
    vStart = pos;
    vTarget = target;
    vDepth = 0;
    vInString = false;
    vNeedle = undefined;
    vPick = false;
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      vKind = 0;
      vDepth = 1;
      if (target === T_ELEMENT && fastEnabled && pickIdx !== undefined && c === OPEN_BRACE) {
        vPick = true;
        walk.at = 1;
        walk.phase = W_FIRST;
        walk.parts.length = 0;
      } else if (target === T_ELEMENT && fastEnabled && lineStart) {
        vNeedle = closingLine(indent, pad, c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET);
        vSearch = pos + 1;
      }
      pos++;
    } else if (c === QUOTE) {
      vKind = 1;
      vInString = true;
      pos++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e) {
      vKind = 2;
    } else {
      throw parseError(base + pos, `unexpected ${describeByte(c)}, expected ${EXPECTED[state] ?? 'a value'}`);
    }
  };

  // The fast path without opts.pick, for an element that opens at the start of a line indented by k spaces (or
  // tabs): in a pretty-printed answer it closes at the first later line made of k spaces and the closing bracket
  // (a raw newline cannot occur inside a JSON string, so that line is outside strings). That line is only a
  // guess, proved by JSON.parse of the guessed slice: a slice that parses is a complete value starting where the
  // element starts, and JSON values are prefix-free, so it is exactly the element.
  // Returns true when the element was delivered, false when more bytes are needed, undefined when the exact
  // byte scanner must take over (no such line within FAST_WINDOW bytes, or a doubt): it then does for this and
  // every later element, so memory stays bounded and errors stay exact.
  const fastElement = (needle: Buffer): boolean | undefined => {
    const n = buf.length;
    const idx = buf.indexOf(needle, vSearch);
    if (idx < 0) {
      vSearch = Math.max(vStart + 1, n - needle.length + 1);
      pos = n;
      return n - vStart <= FAST_WINDOW ? false : undefined;
    }
    return parseGuess(idx + needle.length);
  };

  // Delivers the element as buf[vStart, end) if that parses (see fastElement); undefined if not.
  const parseGuess = (end: number): true | undefined => {
    let value: unknown;
    try {
      value = JSON.parse(buf.toString('utf8', vStart, end));
    } catch {
      return undefined;
    }
    exactParsed++;
    deliver(opts.pick ? pickFrom(value, opts.pick) : value, end);
    return true;
  };

  // An object element with opts.pick: walkMembers walks it exactly over the bytes at hand, so no layout (any
  // indentation, one line, reordered members) can mislead it and no indentation needs to be guessed first; the
  // walk goes on where it stopped when the next chunk comes.
  // True when delivered, false when more bytes are needed, undefined when the exact scanner must take over.
  const pickElement = (): boolean | undefined => {
    const n = buf.length;
    const end = walkMembers(buf, vStart, n, walk, pickIdx!);
    if (end >= 0) {
      const value = parsePicked(buf, vStart, walk.parts);
      if (typeof value !== 'object') return undefined;
      fastPicked++;
      deliver(value, end);
      return true;
    }
    if (end === DOUBT || n - vStart > FAST_WINDOW) return undefined;
    pos = n;
    return false;
  };

  // Advances the current value; returns true when it completed within buf.
  const scanValue = (): boolean => {
    const n = buf.length;
    if (vPick) {
      const done = pickElement();
      if (done !== undefined) return done;
      fastEnabled = false;
      vPick = false;
      pos = vStart + 1;
    }
    if (vNeedle !== undefined) {
      const done = fastElement(vNeedle);
      if (done !== undefined) return done;
      fastEnabled = false;
      vNeedle = undefined;
      pos = vStart + 1;
    }
    let i = pos;
    if (vKind === 2) {
      while (i < n) {
        const c = buf[i] as number;
        if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isWhitespace(c)) {
          pos = i;
          finishValue(i);
          return true;
        }
        i++;
      }
      pos = n;
      return false;
    }
    let depth = vDepth;
    let inString = vInString;
    while (i < n) {
      if (inString) {
        const q = buf.indexOf(QUOTE, i);
        if (q < 0) {
          i = n;
          break;
        }
        // A quote preceded by an odd run of backslashes is escaped. The run cannot reach before the string's
        // opening quote, and the whole value is kept in buf, so the look-back is always within the value.
        let b = q - 1;
        while (buf[b] === BACKSLASH) b--;
        i = q + 1;
        if ((q - 1 - b) % 2 === 0) {
          inString = false;
          if (vKind === 1) {
            pos = i;
            finishValue(i);
            return true;
          }
        }
        continue;
      }
      const c = buf[i++] as number;
      if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--depth === 0) {
          pos = i;
          finishValue(i);
          return true;
        }
      }
    }
    vDepth = depth;
    vInString = inString;
    pos = n;
    return false;
  };

  // Runs the top-level parser over buf from pos; returns when buf is exhausted.
  const run = (): void => {
    const n = buf.length;
    while (pos < n) {
      if (scanning) {
        if (!scanValue()) return;
        continue;
      }
      const c = buf[pos] as number;
      if (c === 0x20 || c === 0x09) {
        if (indent === 0) pad = c;
        else if (c !== pad) lineStart = false;
        indent++;
        pos++;
        continue;
      }
      if (c === 0x0a) {
        lineStart = true;
        indent = 0;
        pos++;
        continue;
      }
      if (c === 0x0d) {
        lineStart = false;
        pos++;
        continue;
      }
      const atLineStart = lineStart;
      lineStart = false;
      switch (state) {
        case S_START:
          // A UTF-8 byte order mark may lead the answer.
          if (base + pos < 3 && c === BOM[base + pos]) {
            pos++;
            break;
          }
          if (c !== OPEN_BRACE) throw parseError(base + pos, `unexpected ${describeByte(c)}, expected ${EXPECTED[state]}`);
          pos++;
          state = S_FIRST_KEY;
          break;
        case S_FIRST_KEY:
        case S_KEY:
          if (c === CLOSE_BRACE && state === S_FIRST_KEY) {
            pos++;
            state = closeLevel();
          } else if (c === QUOTE) startValue(c, T_KEY);
          else throw parseError(base + pos, `unexpected ${describeByte(c)}, expected ${EXPECTED[state]}`);
          break;
        case S_COLON:
          if (c !== COLON) throw parseError(base + pos, `unexpected ${describeByte(c)}, expected ${EXPECTED[state]}`);
          pos++;
          state = S_VALUE;
          break;
        case S_VALUE:
          if (key === path[level] && c === OPEN_BRACKET) {
            found = true;
            pos++;
            state = S_ARRAY_FIRST;
          } else if (key === path[level] && level < path.length - 1 && c === OPEN_BRACE) {
            level++;
            pos++;
            state = S_FIRST_KEY;
          } else startValue(c, T_MEMBER);
          break;
        case S_AFTER_MEMBER:
          if (c === COMMA) state = S_KEY;
          else if (c === CLOSE_BRACE) state = closeLevel();
          else throw parseError(base + pos, `unexpected ${describeByte(c)}, expected ${EXPECTED[state]}`);
          pos++;
          break;
        case S_ARRAY_FIRST:
        case S_ARRAY_NEXT:
          if (c === CLOSE_BRACKET && state === S_ARRAY_FIRST) {
            pos++;
            state = S_AFTER_MEMBER;
          } else if (c === CLOSE_BRACKET || c === COMMA || c === CLOSE_BRACE || c === COLON) {
            throw parseError(base + pos, `unexpected ${describeByte(c)}, expected ${EXPECTED[state]}`);
          } else {
            lineStart = atLineStart;
            startValue(c, T_ELEMENT);
            lineStart = false;
          }
          break;
        case S_ARRAY_AFTER:
          if (c === COMMA) state = S_ARRAY_NEXT;
          else if (c === CLOSE_BRACKET) state = S_AFTER_MEMBER;
          else throw parseError(base + pos, `unexpected ${describeByte(c)}, expected ${EXPECTED[state]}`);
          pos++;
          break;
        default:
          throw parseError(base + pos, `unexpected ${describeByte(c)} after the end of the answer`);
      }
    }
  };

  total = await eachChunk(body, opts, (bytes) => {
    // Keep only the unfinished value (or nothing) from the previous chunk.
    const keep = scanning ? vStart : pos;
    if (keep >= buf.length) {
      base += buf.length;
      buf = bytes;
      inWork = false;
      pos = 0;
      vStart = 0;
    } else {
      base += keep;
      // The unfinished value and the new chunk go into one reused work buffer: a fresh Buffer per chunk would
      // leave ~1 GB of short-lived off-heap garbage behind a large /jobs answer and inflate the RSS.
      const left = buf.length - keep;
      const need = left + bytes.length;
      if (inWork && need <= work.length) {
        work.copyWithin(0, keep, buf.length);
      } else {
        const next = need <= work.length ? work : Buffer.allocUnsafe(Math.max(need, work.length * 2));
        buf.copy(next, 0, keep, buf.length);
        work = next;
      }
      bytes.copy(work, left);
      buf = work.subarray(0, need);
      inWork = true;
      pos -= keep;
      vStart -= keep;
      vSearch -= keep;
    }
    run();
  });
  // A literal (number, true, ...) ends only at the next byte; none can legally be the last thing in an object.
  if (state !== S_DONE || scanning) {
    const where = scanning
      ? vTarget === T_ELEMENT
        ? `inside element ${count} of "${arrayKey}" that started at byte offset ${base + vStart}`
        : vTarget === T_KEY
          ? `inside a member name that started at byte offset ${base + vStart}`
          : `inside member "${key}" that started at byte offset ${base + vStart}`
      : `where ${EXPECTED[state] ?? 'more'} was expected`;
    throw new SlurmFetchError('parse', `truncated JSON answer: it ends at byte offset ${total} ${where}`);
  }
  return { rest, bytes: total, count, found, fastPicked, exactParsed };
}

/** Reads a whole (small) answer, obeying maxBytes and the signal, and parses it. */
export async function readJsonBody(body: AsyncIterable<Uint8Array>, opts: StreamOptions): Promise<{ value: unknown; bytes: number }> {
  const parts: Buffer[] = [];
  const total = await eachChunk(body, opts, (chunk) => parts.push(chunk));
  const text = Buffer.concat(parts, total).toString('utf8');
  try {
    return { value: JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text), bytes: total };
  } catch (e) {
    const what = total === 0 ? 'the answer is empty' : (e as Error).message;
    throw new SlurmFetchError('parse', `malformed JSON answer (${total} bytes): ${what}`, { cause: e });
  }
}
