// The stream reader parses only NODE_FIELDS / JOB_FIELDS of each record. On every captured API version this
// proves (1) the adapters read no member outside those sets, and (2) the picked, partly-skipped parse gives the
// same model as parsing every record whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { adapterFor } from '../../src/slurm/rest/adapters/index.ts';
import { JOB_FIELDS, NODE_FIELDS } from '../../src/slurm/rest/adapters/fields.ts';
import { readResource } from '../../src/slurm/rest/read-resource.ts';
import type { Anomalies } from '../../src/slurm/model.ts';

const FIX = new URL('../fixtures/', import.meta.url);
const CASES: { version: string; nodes: string; jobs: string }[] = [
  { version: 'v0.0.38', nodes: 'slurm-22.05/slurm_v0.0.38_nodes.json', jobs: 'slurm-22.05/slurm_v0.0.38_jobs.json' },
  ...['v0.0.40', 'v0.0.41', 'v0.0.42', 'v0.0.43'].map((v) => ({
    version: v,
    nodes: `slurm-25.05.8/rest_${v}_slurm_nodes.json`,
    jobs: `slurm-25.05.8/rest_${v}_slurm_jobs.json`,
  })),
  ...['v0.0.41', 'v0.0.42', 'v0.0.43', 'v0.0.44'].map((v) => ({
    version: v,
    nodes: `slurm-25.11.7/rest_${v}_slurm_nodes.json`,
    jobs: `slurm-25.11.7/rest_${v}_slurm_jobs.json`,
  })),
];

async function* chunks(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < buf.length; o += size) yield buf.subarray(o, o + size);
}

/** Wraps a record so every top-level member read is recorded. */
function recording(rec: Record<string, unknown>, seen: Set<string>): Record<string, unknown> {
  return new Proxy(rec, {
    get(t, k, r) {
      if (typeof k === 'string') seen.add(k);
      return Reflect.get(t, k, r) as unknown;
    },
    has(t, k) {
      if (typeof k === 'string') seen.add(k);
      return Reflect.has(t, k);
    },
  });
}

for (const c of CASES) {
  for (const kind of ['nodes', 'jobs'] as const) {
    test(`${c.version} ${kind}: adapters read only the picked fields, and the picked parse equals the whole parse`, async () => {
      const adapter = adapterFor(c.version)!;
      const buf = readFileSync(new URL(kind === 'nodes' ? c.nodes : c.jobs, FIX));
      const whole = (JSON.parse(buf.toString('utf8')) as Record<string, Record<string, unknown>[]>)[kind]!;
      assert.ok(whole.length > 0, 'fixture has records');
      const convert = kind === 'nodes' ? adapter.node : adapter.job;
      const fields = kind === 'nodes' ? NODE_FIELDS : JOB_FIELDS;
      const seen = new Set<string>();
      const a: Anomalies = { unknown: [] };
      const expected = whole.map((r) => convert(recording(r, seen), a));
      const outside = [...seen].filter((k) => !fields.has(k));
      assert.deepEqual(outside, [], `${c.version} ${kind}: add these members to src/slurm/rest/adapters/fields.ts`);

      for (const size of [512, 65536]) {
        const got = await readResource(kind, adapter, chunks(buf, size), { maxBytes: buf.length });
        assert.deepEqual(got.data, expected, `chunks of ${size}`);
      }
      // The same records printed compactly take the exact scanner, then trimming: still the same model.
      const compact = Buffer.from(JSON.stringify(JSON.parse(buf.toString('utf8'))));
      const got = await readResource(kind, adapter, chunks(compact, 4096), { maxBytes: compact.length });
      assert.deepEqual(got.data, expected, 'compact JSON');
    });
  }
}
