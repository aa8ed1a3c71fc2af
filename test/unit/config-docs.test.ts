import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CONFIG_DOCS_EXAMPLE, CONFIG_DOCS_PATH, renderConfigDocs } from '../../scripts/gen-config-docs.ts';
import { listFields } from '../../src/config/schema.ts';
import { CONFIG_ENV, CONFIG_FLAGS } from '../../src/config/flags.ts';
import { parseConfigText, resolveFromData } from '../../src/config/load.ts';

test('docs/configuration.md is up to date (run npm run docs)', () => {
  let current = '';
  try {
    current = readFileSync(CONFIG_DOCS_PATH, 'utf8');
  } catch {
    assert.fail(`${CONFIG_DOCS_PATH} is missing: run npm run docs`);
  }
  assert.ok(current === renderConfigDocs(), 'docs/configuration.md differs from the schema: run npm run docs');
});

test('every key, flag and variable is documented, with its default', () => {
  const text = renderConfigDocs();
  const fields = listFields();
  assert.ok(fields.length > 50, `${fields.length} fields`);
  for (const f of fields) {
    const row = text.split('\n').find((l) => l.startsWith(`| \`${f.path}\` |`));
    assert.ok(row, `row for ${f.path}`);
    assert.ok(f.doc?.description, `${f.path} has a description`);
    const cells = row.split(' | ');
    assert.notEqual(cells[2], '', `${f.path} has a default`);
  }
  for (const f of CONFIG_FLAGS) assert.ok(text.includes(`\`${f.flag}`), f.flag);
  for (const e of CONFIG_ENV) assert.ok(text.includes(`\`${e.env}\``), e.env);
  assert.match(text, /\| `collectors\.partitions\.interval` \| duration \| `120s` \|/);
  assert.match(text, /\| `slurm\.url` \| URL \| unset \| `SLURM_REST_URL` \| `--slurm\.url <url>` \|/);
});

test('the example in the docs loads', () => {
  const { data, warnings } = parseConfigText(CONFIG_DOCS_EXAMPLE, {}, 'docs example');
  assert.deepEqual(warnings, []);
  const cfg = resolveFromData(data, [], {}, 'docs example');
  assert.equal(cfg.slurm.url, 'http://slurmctl:6820');
  assert.equal(cfg.server.leaderElection.enabled, true);
});

test('the generator runs as a script (--check)', () => {
  const script = fileURLToPath(new URL('../../scripts/gen-config-docs.ts', import.meta.url));
  // Same Node as the test runner (24, with type stripping).
  const out = execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(out, '');
});
