import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readJsonBody, streamTopLevelArray } from '../../src/slurm/rest/json-stream.ts';
import { SlurmFetchError } from '../../src/slurm/source.ts';
import { JOB_FIELDS, NODE_FIELDS } from '../../src/slurm/rest/adapters/fields.ts';

const FIX = new URL('../fixtures/', import.meta.url);
const fixture = (p: string): Buffer => readFileSync(new URL(p, FIX));

async function* chunked(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < buf.length; o += size) yield buf.subarray(o, Math.min(o + size, buf.length));
}

async function* splitAt(buf: Buffer, cuts: number[]): AsyncGenerator<Uint8Array> {
  let prev = 0;
  for (const c of [...cuts, buf.length]) {
    yield new Uint8Array(buf.subarray(prev, c)); // a plain Uint8Array, as some streams give
    prev = c;
  }
}

// Deterministic pseudo-random numbers so a failure can be replayed.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function collect(body: AsyncIterable<Uint8Array>, key: string, maxBytes = 1e9) {
  const items: unknown[] = [];
  const indexes: number[] = [];
  const r = await streamTopLevelArray(
    body,
    key,
    (v, i) => {
      items.push(v);
      indexes.push(i);
    },
    { maxBytes },
  );
  return { items, indexes, ...r };
}

function expected(buf: Buffer, key: string) {
  const doc = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
  const { [key]: items, ...rest } = doc;
  return { items: items as unknown[], rest };
}

async function rejectsWith(p: Promise<unknown>, kind: string, re: RegExp): Promise<SlurmFetchError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SlurmFetchError, `expected SlurmFetchError, got ${String(e)}`);
    assert.equal(e.kind, kind);
    assert.match(e.message, re);
    return e;
  }
  assert.fail('expected a rejection');
}

test('streams the real 25.11 v0.0.44 /jobs answer identically at every chunk size 1..64', async () => {
  const buf = fixture('slurm-25.11.7/rest_v0.0.44_slurm_jobs.json');
  const want = expected(buf, 'jobs');
  assert.equal(want.items.length, 22);
  for (let size = 1; size <= 64; size++) {
    const got = await collect(chunked(buf, size), 'jobs');
    assert.deepEqual(got.items, want.items, `chunk size ${size}`);
    assert.deepEqual(got.rest, want.rest, `chunk size ${size}`);
    assert.deepEqual(got.indexes, [...want.items.keys()]);
    assert.equal(got.count, 22);
    assert.equal(got.bytes, buf.length);
    assert.equal(got.found, true);
  }
});

test('streams every captured nodes/jobs answer identically under random splits', async () => {
  const files = [
    'slurm-22.05/slurm_v0.0.38_nodes.json',
    'slurm-22.05/slurm_v0.0.38_jobs.json',
    'slurm-25.05.8/rest_v0.0.40_slurm_jobs.json',
    'slurm-25.05.8/rest_v0.0.43_slurm_nodes.json',
    'slurm-25.11.7/rest_v0.0.41_slurm_nodes.json',
    'slurm-25.11.7/rest_v0.0.44_slurm_nodes.json',
  ];
  const rand = rng(42);
  for (const f of files) {
    const buf = fixture(f);
    const key = f.includes('nodes') ? 'nodes' : 'jobs';
    const want = expected(buf, key);
    for (let round = 0; round < 20; round++) {
      const cuts = new Set<number>();
      const n = 1 + Math.floor(rand() * 60);
      for (let i = 0; i < n; i++) cuts.add(Math.floor(rand() * buf.length));
      const sorted = [...cuts].sort((a, b) => a - b);
      const got = await collect(splitAt(buf, sorted), key);
      assert.deepEqual(got.items, want.items, `${f} cuts ${sorted.join(',')}`);
      assert.deepEqual(got.rest, want.rest);
    }
  }
});

test('compact (not pretty-printed) JSON takes the exact scanner and gives the same result at small chunk sizes', async () => {
  const doc = JSON.parse(fixture('slurm-22.05/slurm_v0.0.38_jobs.json').toString('utf8')) as Record<string, unknown>;
  const buf = Buffer.from(JSON.stringify(doc));
  const want = expected(buf, 'jobs');
  for (const size of [1, 2, 3, 7, 13, 64, 4096]) {
    const got = await collect(chunked(buf, size), 'jobs');
    assert.deepEqual(got.items, want.items, `chunk size ${size}`);
    assert.deepEqual(got.rest, want.rest);
  }
});

test('a nested object closing at the element indentation does not fool the pretty-print fast path', async () => {
  const text = '{\n  "jobs": [\n  {"a": {\n  },\n "b": "}\\n  }"\n  },\n  {"c": [3,\n  {}]\n  }\n  ],\n  "errors": []\n}';
  const buf = Buffer.from(text);
  const want = expected(buf, 'jobs');
  for (let size = 1; size <= 16; size++) {
    const got = await collect(chunked(buf, size), 'jobs');
    assert.deepEqual(got.items, want.items, `chunk size ${size}`);
    assert.deepEqual(got.rest, { errors: [] });
  }
});

test('escapes: \\" and \\\\ before a quote, key-like text inside strings', async () => {
  const tricky = ['a\\', 'b\\"', '\\\\', '"', '\\"}]', 'x"jobs":[', '{', '', 'tab\there\nnew'];
  const doc = {
    note: 'the "jobs": [ key in a string',
    jobs: tricky.map((s, i) => ({ s, i, nested: { s: [s, s] } })),
    warnings: ['w\\'],
  };
  for (const buf of [Buffer.from(JSON.stringify(doc)), Buffer.from(JSON.stringify(doc, null, 2))]) {
    const want = expected(buf, 'jobs');
    for (let size = 1; size <= 12; size++) {
      const got = await collect(chunked(buf, size), 'jobs');
      assert.deepEqual(got.items, want.items, `chunk size ${size}`);
      assert.deepEqual(got.rest, want.rest);
    }
  }
});

test('multibyte UTF-8 split across chunks', async () => {
  const doc = { nodes: [{ name: 'nœud-ü', reason: 'Wartung 🔧 geplant — 温度' }, 'é', 42, null, true, -1.5e3], meta: { x: '日本' } };
  const buf = Buffer.from(JSON.stringify(doc, null, 2));
  for (let size = 1; size <= 9; size++) {
    const got = await collect(chunked(buf, size), 'nodes');
    assert.deepEqual(got.items, doc.nodes, `chunk size ${size}`);
    assert.deepEqual(got.rest, { meta: doc.meta });
  }
});

test('empty array, missing key, nested key of the same name, BOM, literals as members', async () => {
  let r = await collect(chunked(Buffer.from('{"jobs":[],"errors":[]}'), 3), 'jobs');
  assert.equal(r.count, 0);
  assert.equal(r.found, true);
  assert.deepEqual(r.rest, { errors: [] });

  r = await collect(chunked(Buffer.from('{"errors":[{"error":"x"}],"last_update":17}'), 5), 'jobs');
  assert.equal(r.found, false);
  assert.deepEqual(r.rest, { errors: [{ error: 'x' }], last_update: 17 });

  const nested = '{"meta":{"jobs":[1,2,3],"x":{"jobs":[4]}},"jobs":[{"job_id":9}],"ok":true,"n":null,"v":-12.5e-1}';
  r = await collect(chunked(Buffer.from(nested), 4), 'jobs');
  assert.deepEqual(r.items, [{ job_id: 9 }]);
  assert.deepEqual(r.rest, { meta: { jobs: [1, 2, 3], x: { jobs: [4] } }, ok: true, n: null, v: -1.25 });

  r = await collect(chunked(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"jobs":[1]}')]), 1), 'jobs');
  assert.deepEqual(r.items, [1]);

  r = await collect(chunked(Buffer.from('{}'), 1), 'jobs');
  assert.equal(r.found, false);
});

test('truncated answers reject with kind parse, naming the offset', async () => {
  const buf = fixture('slurm-22.05/slurm_v0.0.38_nodes.json');
  // Every cut of the real answer (past its closing brace nothing is left to cut) must be noticed.
  const end = buf.lastIndexOf('}');
  for (let cut = 0; cut < end; cut += 97) {
    await rejectsWith(collect(chunked(buf.subarray(0, cut), 50), 'nodes'), 'parse', /truncated JSON answer: it ends at byte offset \d+/);
  }
  const e = await rejectsWith(
    collect(chunked(buf.subarray(0, 3000), 64), 'nodes'),
    'parse',
    /inside element \d+ of "nodes" that started at byte offset \d+/,
  );
  assert.match(e.message, /byte offset 3000/);
  await rejectsWith(collect(chunked(Buffer.from('{"jobs":[1,2'), 64), 'jobs'), 'parse', /truncated/);
  await rejectsWith(collect(chunked(Buffer.alloc(0), 64), 'jobs'), 'parse', /ends at byte offset 0/);
});

test('malformed answers reject with kind parse and say what was expected where', async () => {
  const cases: [string, RegExp][] = [
    ['{"jobs":[{"a":1} {"b":2}]}', /byte offset 17: unexpected '\{', expected ',' or '\]' after an array element/],
    ['{"jobs":[{"a":1},]}', /byte offset 17: unexpected '\]', expected an array element/],
    ['{"jobs":[{"a":tru}]}', /element 0 of "jobs" starting at byte offset 9/],
    ['{"jobs":[{"a":1}]} x', /unexpected 'x' after the end of the answer/],
    ['[1,2]', /byte offset 0: unexpected '\[', expected '\{' opening the answer/],
    ['{"jobs" [1]}', /expected ':' after a member name/],
    ['{"meta":{"a":}, "jobs":[]}', /member "meta" starting at byte offset 8/],
    ['{"a":1 "jobs":[]}', /expected ',' or '\}' after a member/],
    ['<html>502 Bad Gateway</html>', /byte offset 0: unexpected '<'/],
  ];
  for (const [text, re] of cases) {
    for (const size of [1, 64]) await rejectsWith(collect(chunked(Buffer.from(text), size), 'jobs'), 'parse', re);
  }
});

test('over maxBytes: rejects with too_large and stops reading at once', async () => {
  let pulled = 0;
  let closed = false;
  async function* endless(): AsyncGenerator<Uint8Array> {
    try {
      yield Buffer.from('{"jobs":[');
      for (;;) {
        pulled++;
        yield Buffer.from('{"job_id":1,"pad":"' + 'x'.repeat(80) + '"},');
      }
    } finally {
      closed = true;
    }
  }
  const e = await rejectsWith(
    streamTopLevelArray(endless(), 'jobs', () => undefined, { maxBytes: 1000 }),
    'too_large',
    /larger than the limit of 1000 bytes/,
  );
  assert.ok(pulled <= 11, `read ${pulled} chunks after the limit`);
  assert.ok(closed, 'the body was closed');
  assert.doesNotMatch(e.message, /pad/);
  // Exactly at the limit is fine.
  const buf = Buffer.from('{"jobs":[1,2,3]}');
  const ok = await collect(chunked(buf, 4), 'jobs', buf.length);
  assert.equal(ok.count, 3);
});

test('an aborted signal rejects with kind aborted, even while the body stalls', async () => {
  const ac = new AbortController();
  let closed = false;
  async function* stalls(): AsyncGenerator<Uint8Array> {
    try {
      yield Buffer.from('{"jobs":[{"a":1},');
      await new Promise(() => undefined);
    } finally {
      closed = true;
    }
  }
  const seen: unknown[] = [];
  const p = streamTopLevelArray(stalls(), 'jobs', (v) => seen.push(v), { maxBytes: 1e6, signal: ac.signal });
  setTimeout(() => ac.abort(new Error('leadership lost')), 10);
  await rejectsWith(p, 'aborted', /aborted: leadership lost/);
  assert.deepEqual(seen, [{ a: 1 }]);
  // A generator suspended in an await cannot be closed from outside; the reader still returned at once.
  assert.equal(closed, false);

  const pre = new AbortController();
  pre.abort();
  await rejectsWith(
    streamTopLevelArray(chunked(Buffer.from('{"jobs":[]}'), 2), 'jobs', () => undefined, { maxBytes: 100, signal: pre.signal }),
    'aborted',
    /aborted/,
  );
});

test('readJsonBody: whole small answers, with the same limits', async () => {
  const buf = fixture('slurm-25.11.7/rest_v0.0.44_slurm_ping.json');
  const r = await readJsonBody(chunked(buf, 7), { maxBytes: buf.length });
  assert.deepEqual(r.value, JSON.parse(buf.toString('utf8')));
  assert.equal(r.bytes, buf.length);
  await rejectsWith(readJsonBody(chunked(buf, 7), { maxBytes: buf.length - 1 }), 'too_large', /limit of/);
  await rejectsWith(readJsonBody(chunked(Buffer.from('{"a":'), 2), { maxBytes: 100 }), 'parse', /malformed JSON answer \(5 bytes\)/);
  await rejectsWith(readJsonBody(chunked(Buffer.alloc(0), 2), { maxBytes: 100 }), 'parse', /empty/);
});

// ---- member picking (opts.pick): the fast path must give exactly what JSON.parse and then picking gives ----

const JOBS_44 = 'slurm-25.11.7/rest_v0.0.44_slurm_jobs.json';
const NODES_38 = 'slurm-22.05/slurm_v0.0.38_nodes.json';

function picked(value: unknown, pick: ReadonlySet<string>): unknown {
  const out: Record<string, unknown> = {};
  for (const k of pick) if (k in (value as object)) out[k] = (value as Record<string, unknown>)[k];
  return out;
}

async function streamPicked(text: string, key: string, pick: ReadonlySet<string>, chunk: number) {
  const items: unknown[] = [];
  const r = await streamTopLevelArray(chunked(Buffer.from(text), chunk), key, (v) => items.push(v), { maxBytes: 1e9, pick });
  return { items, ...r };
}

/** Streams `text` at several chunk sizes; asserts the elements equal JSON.parse + pick and which path took them. */
async function assertPicks(text: string, key: string, pick: ReadonlySet<string>, path: 'fast' | 'exact', what: string) {
  const want = (JSON.parse(text) as Record<string, unknown[]>)[key]!.map((e) => picked(e, pick));
  for (const chunk of [text.length, 4096, 97]) {
    const got = await streamPicked(text, key, pick, chunk);
    assert.deepEqual(got.items, want, `${what}, chunks of ${chunk}`);
    const n = want.length;
    assert.deepEqual([got.fastPicked, got.exactParsed], path === 'fast' ? [n, 0] : [0, n], `${what}, chunks of ${chunk}: path`);
  }
}

// Leading whitespace of a line is never inside a string (a JSON string holds no raw newline): safe to rewrite.
const LAYOUTS: [string, (doc: unknown) => string, 'fast' | 'exact'][] = [
  ['0-space indentation', (d) => JSON.stringify(d, null, 2).replace(/^ +/gm, ''), 'fast'],
  ['1-space indentation', (d) => JSON.stringify(d, null, 1), 'fast'],
  ['2-space indentation (slurmrestd)', (d) => JSON.stringify(d, null, 2), 'fast'],
  ['4-space indentation', (d) => JSON.stringify(d, null, 4), 'fast'],
  ['tab indentation', (d) => JSON.stringify(d, null, '\t'), 'fast'],
  ['CRLF line ends', (d) => JSON.stringify(d, null, 2).replace(/\n/g, '\r\n'), 'fast'],
  // The member walk needs no line structure: one line is read on the fast path too.
  ['single line', (d) => JSON.stringify(d), 'fast'],
];

for (const [name, print, path] of LAYOUTS) {
  test(`pick, ${name}: real jobs and nodes records give what JSON.parse + pick gives (${path} path)`, async () => {
    const jobs = JSON.parse(fixture(JOBS_44).toString('utf8')) as unknown;
    const nodes = JSON.parse(fixture(NODES_38).toString('utf8')) as unknown;
    await assertPicks(print(jobs), 'jobs', JOB_FIELDS, path, `${JOBS_44} ${name}`);
    await assertPicks(print(nodes), 'nodes', NODE_FIELDS, path, `${NODES_38} ${name}`);
  });
}

function realJobs(): Record<string, unknown>[] {
  return (JSON.parse(fixture(JOBS_44).toString('utf8')) as { jobs: Record<string, unknown>[] }).jobs;
}

test('pick: members in another order than slurmrestd prints them', async () => {
  const jobs = realJobs().map((j) => Object.fromEntries(Object.entries(j).reverse()));
  await assertPicks(JSON.stringify({ jobs }, null, 2), 'jobs', JOB_FIELDS, 'fast', 'reversed members');
});

test('pick: string values with escapes, quotes, braces and fake newlines, picked and not', async () => {
  const jobs = realJobs().map((j, i) => ({
    ...j,
    name: `say "hi" {not: an object} [nor] \\ a\\"b\\\\ "${i}`,
    comment: '\n      "job_id": 666,\n      "name": "evil"\n    },\n    {\n      "job_id": 667',
    admin_comment: '}\n]\n}',
    account: 'tab\there \u2028 ünïcødé \u0000 end',
    partition: '\\',
  }));
  await assertPicks(JSON.stringify({ jobs }, null, 2), 'jobs', JOB_FIELDS, 'fast', 'tricky strings');
});

test('pick: a picked member name inside a nested object is not the record\'s own', async () => {
  const jobs = realJobs().map((j) => ({
    decoy: { job_id: 999, name: 'nested', deeper: { job_id: { set: true, infinite: false, number: 5 }, partition: 'x' } },
    ...j,
    list: [{ job_id: 1 }, [{ name: 'n' }]],
  }));
  await assertPicks(JSON.stringify({ jobs }, null, 2), 'jobs', JOB_FIELDS, 'fast', 'nested names');
});

test('pick: a nested object printed at the members\' own indentation does not pass for members', async () => {
  // Valid JSON whose indentation lies: the decoy's own members are on lines indented like the record's.
  const job = JSON.stringify(realJobs()[0], null, 2);
  const decoy = ',\n  "decoy": {"a": 1,\n  "job_id": 7,\n  "name": "decoy",\n  "c": 2}';
  const element = `${job.slice(0, job.lastIndexOf('\n}'))}${decoy}\n}`.replace(/\n/g, '\n    ');
  const text = `{\n  "jobs": [\n    ${element}\n  ],\n  "errors": []\n}`;
  await assertPicks(text, 'jobs', JOB_FIELDS, 'fast', 'lying indentation');
  const got = await streamPicked(text, 'jobs', JOB_FIELDS, text.length);
  assert.equal((got.items[0] as { job_id: unknown }).job_id, realJobs()[0]!.job_id);
});

test('pick: a member name written with escapes is a doubt, and the exact parse takes the element', async () => {
  const text = JSON.stringify({ jobs: realJobs() }, null, 2).replace(/"job_id":/g, '"job\\u005fid":');
  await assertPicks(text, 'jobs', JOB_FIELDS, 'exact', 'escaped names');
});

test('pick: a malformed picked value is reported exactly; members not picked are not validated', async () => {
  const job = JSON.stringify({ jobs: [realJobs()[0]] }, null, 2);
  const badPicked = job.replace(/"cluster": "[^"]*"/, '"cluster": tru');
  await rejectsWith(streamPicked(badPicked, 'jobs', JOB_FIELDS, 4096), 'parse', /element 0 of "jobs" starting at byte offset 18: .*tru/);
  const badOther = job.replace(/"comment": "[^"]*"/, '"comment": tru');
  const got = await streamPicked(badOther, 'jobs', JOB_FIELDS, 4096);
  assert.deepEqual([got.fastPicked, got.exactParsed], [1, 0]);
  assert.deepEqual(got.items, [picked(realJobs()[0], JOB_FIELDS)]);
});

test('without pick, every element is parsed whole', async () => {
  const buf = fixture(JOBS_44);
  const got = await collect(chunked(buf, 4096), 'jobs');
  assert.deepEqual([got.fastPicked, got.exactParsed], [0, 22]);
});

test('pick under random splits: every captured nodes/jobs answer, as captured and with 0-space indentation', async () => {
  const files = [
    'slurm-22.05/slurm_v0.0.38_nodes.json',
    'slurm-22.05/slurm_v0.0.38_jobs.json',
    'slurm-25.05.8/rest_v0.0.40_slurm_jobs.json',
    'slurm-25.05.8/rest_v0.0.43_slurm_nodes.json',
    'slurm-25.11.7/rest_v0.0.41_slurm_nodes.json',
    JOBS_44,
  ];
  const rand = rng(7);
  for (const f of files) {
    const key = f.includes('nodes') ? 'nodes' : 'jobs';
    const pick = key === 'nodes' ? NODE_FIELDS : JOB_FIELDS;
    const captured = fixture(f);
    const flat = Buffer.from(captured.toString('utf8').replace(/^ +/gm, ''));
    for (const buf of [captured, flat]) {
      const want = (JSON.parse(buf.toString('utf8')) as Record<string, unknown[]>)[key]!.map((e) => picked(e, pick));
      for (let round = 0; round < 10; round++) {
        const cuts = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 80) }, () => Math.floor(rand() * buf.length)))].sort((a, b) => a - b);
        const items: unknown[] = [];
        const r = await streamTopLevelArray(splitAt(buf, cuts), key, (v) => items.push(v), { maxBytes: 1e9, pick });
        assert.deepEqual(items, want, `${f} cuts ${cuts.join(',')}`);
        assert.deepEqual([r.fastPicked, r.exactParsed], [want.length, 0], `${f} cuts ${cuts.join(',')}`);
      }
    }
  }
});

// ---- the member walk of opts.pick resumes where a chunk ended: a cut anywhere must give the same values ----

// Picked and skipped members with escapes (\" \\ \/ \u, a surrogate pair), raw multi-byte UTF-8, exponents,
// nested containers in skipped and picked members, empty objects, a repeated picked name (JSON.parse keeps the
// last), a picked name inside a skipped member, and every kind of whitespace between tokens.
const SMALL_DOC = String.raw`{"meta": {"x": [1, {"jobs": []}]},
 "jobs": [
{"id": 1, "skip": {"a": [1, {"b": "}]\"\\"}], "c": "x"}, "name": "ä\"\\\u00e9😀", "n": -1.5e-3, "tags": ["a", {"z": null}], "e": {}},
	{ "skip" : "\\\"" ,"u":"\ud83d\ude00 \u0001 \/ \\u0022","id":2E+2,"deep":{"x":[[[]]],"y":"q"},"zz":[true,false,null]} ,
  {},
  {	
  },
{"id":3,"id":4,"name":"","skip":[{"id":9}],"tags":[],"n":0.5E-10}
],
"errors": []}`;
const SMALL_PICK: ReadonlySet<string> = new Set(['id', 'name', 'tags', 'deep', 'n', 'u', 'e']);

function smallLayouts(): [string, Buffer][] {
  const doc = JSON.parse(SMALL_DOC) as unknown;
  return [
    ['mixed whitespace', Buffer.from(SMALL_DOC)],
    ['single line, no spaces', Buffer.from(JSON.stringify(doc))],
    ['tab indentation', Buffer.from(JSON.stringify(doc, null, '\t'))],
    ['escaped non-ASCII', Buffer.from(JSON.stringify(doc).replace(/[^ -~\t\n\r]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))],
  ];
}

async function streamSmall(body: AsyncIterable<Uint8Array>) {
  const items: unknown[] = [];
  const r = await streamTopLevelArray(body, 'jobs', (v) => items.push(v), { maxBytes: 1e6, pick: SMALL_PICK });
  return { items, ...r };
}

test('pick: a chunk boundary at every byte offset (inside names, escapes, UTF-8, numbers) gives what JSON.parse gives', async () => {
  for (const [name, buf] of smallLayouts()) {
    const want = (JSON.parse(buf.toString('utf8')) as { jobs: unknown[] }).jobs.map((e) => picked(e, SMALL_PICK));
    assert.equal((want[0] as { name: string }).name, 'ä"\\é😀');
    for (let cut = 0; cut <= buf.length; cut++) {
      const got = await streamSmall(splitAt(buf, [cut]));
      assert.deepEqual(got.items, want, `${name}, cut at ${cut}`);
      assert.deepEqual([got.fastPicked, got.exactParsed], [5, 0], `${name}, cut at ${cut}: path`);
    }
    const bytewise = await streamSmall(chunked(buf, 1));
    assert.deepEqual(bytewise.items, want, `${name}, one byte per chunk`);
    assert.equal(bytewise.fastPicked, 5);
  }
});

test('pick: two chunk boundaries anywhere give what JSON.parse gives', async () => {
  const buf = Buffer.from(SMALL_DOC);
  const want = (JSON.parse(SMALL_DOC) as { jobs: unknown[] }).jobs.map((e) => picked(e, SMALL_PICK));
  for (let a = 1; a < buf.length; a += 13) {
    for (let b = a + 1; b < buf.length; b++) {
      const got = await streamSmall(splitAt(buf, [a, b]));
      assert.deepEqual(got.items, want, `cuts at ${a}, ${b}`);
      assert.equal(got.fastPicked, 5, `cuts at ${a}, ${b}: path`);
    }
  }
});

test('pick: picked and skipped members larger than the buffers, cut into many chunks', async () => {
  const jobs = [
    { id: 1, skip: 'y\\"'.repeat(100_000), name: `é${'x'.repeat(150_000)}\\"`, tags: Array.from({ length: 5000 }, (_, i) => ({ i, s: '"]}' })) },
    { id: 2, skip: [{ deep: [['}']] }], name: 'small' },
  ];
  const text = JSON.stringify({ jobs }, null, 1);
  const want = jobs.map((e) => picked(e, SMALL_PICK));
  for (const chunk of [1000, 4096, 65536, text.length]) {
    const got = await streamPicked(text, 'jobs', SMALL_PICK, chunk);
    assert.deepEqual(got.items, want, `chunks of ${chunk}`);
    assert.deepEqual([got.fastPicked, got.exactParsed], [2, 0], `chunks of ${chunk}: path`);
  }
});

test('pick: malformed elements reject with kind parse at any chunk boundary', async () => {
  const cases: [string, RegExp][] = [
    ['{"jobs":[{"id":1 "name":2}]}', /malformed JSON answer in element 0 of "jobs" starting at byte offset 9/],
    ['{"jobs":[{"id":1,}]}', /malformed JSON answer in element 0 of "jobs"/],
    ['{"jobs":[{,"id":1}]}', /malformed JSON answer in element 0 of "jobs"/],
    ['{"jobs":[{"id"1}]}', /malformed JSON answer in element 0 of "jobs"/],
    ['{"jobs":[{"id":[1}]}', /malformed JSON answer in element 0 of "jobs"/],
    ['{"jobs":[{"tags":[1,{"a":2]}]}]}', /malformed JSON answer in element 0 of "jobs"/],
    // A skipped member closed by the wrong kind of bracket: counting depth alone would accept these.
    ['{"jobs":[{"skip":[1},"id":1}]}', /malformed JSON answer in element 0 of "jobs"/],
    ['{"jobs":[{"skip":{"a":[1}],"id":1}]}', /malformed JSON answer in element 0 of "jobs"/],
    ['{"jobs":[{"id":1},{"id":01}]}', /malformed JSON answer in element 1 of "jobs" starting at byte offset 18/],
    ['{"jobs":[{"name":"a\\x"}]}', /malformed JSON answer in element 0 of "jobs"/],
    ['{"jobs":[{"id":1}', /truncated JSON answer: it ends at byte offset 17/],
    ['{"jobs":[{"id":1,"name":"abc}]}', /truncated JSON answer: .*inside element 0 of "jobs"/],
  ];
  for (const [text, re] of cases) {
    const buf = Buffer.from(text);
    for (let cut = 0; cut <= buf.length; cut++) {
      const p = streamTopLevelArray(splitAt(buf, [cut]), 'jobs', () => undefined, { maxBytes: 1e6, pick: SMALL_PICK });
      await rejectsWith(p, 'parse', re);
    }
  }
});
