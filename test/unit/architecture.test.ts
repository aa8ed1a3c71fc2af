// The shape of src/: data flows one way (Slurm answer → adapter → model → collector → bytes → scrape), so a
// lower layer never imports a higher one, no import cycle exists, and the exporter proper never loads the
// simulator (only --demo and `simulate` do, by dynamic import) nor the simulator's test controls.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Static imports (`import ... from`, `export ... from`), type-only ones included, as src-relative paths. */
function imports(file: string, runtimeOnly: boolean): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'/gms)) {
    if (runtimeOnly && m[2]) continue;
    out.push(path.relative(SRC, path.resolve(path.dirname(file), m[3]!)));
  }
  return out;
}

const ALL = files(SRC).map((f) => path.relative(SRC, f));
const graph = (runtimeOnly: boolean) => new Map(ALL.map((f) => [f, imports(path.join(SRC, f), runtimeOnly)]));

function reach(from: string, g: Map<string, string[]>): Set<string> {
  const seen = new Set<string>();
  const todo = [from];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...(g.get(f) ?? []));
  }
  return seen;
}

/** What each area may not import. */
const FORBIDDEN: [RegExp, RegExp][] = [
  [/^(logger|version)\.ts$/, /./],
  [/^config\//, /^(poll|collectors|exposition|http|ha|simulator|main|cli)|^slurm\/(?!resources\.ts)/],
  [/^slurm\//, /^(poll|collectors|exposition|http|ha|simulator|main|cli|self-metrics)/],
  [/^collectors\//, /^(poll|http|ha|simulator|main|cli)|^slurm\/rest\//],
  [/^exposition\//, /^(slurm|poll|collectors|http|ha|simulator|main|cli|config)/],
  [/^poll\//, /^(http|ha|simulator|main|cli)/],
  [/^ha\//, /^(poll|http|simulator|main|cli|slurm\/rest)/],
  [/^http\//, /^(slurm|poll|collectors|ha|simulator|main|cli)/],
];

describe('architecture of src/', () => {
  it('no layer imports one above it', () => {
    const bad: string[] = [];
    for (const [file, deps] of graph(false)) {
      for (const [who, not] of FORBIDDEN) {
        if (!who.test(file)) continue;
        for (const d of deps) if (not.test(d)) bad.push(`${file} → ${d}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('has no import cycle', () => {
    const g = graph(false);
    const cycles: string[] = [];
    for (const f of ALL) for (const d of g.get(f) ?? []) if (reach(d, g).has(f)) cycles.push(`${f} ⇄ ${d}`);
    assert.deepEqual(cycles, []);
  });

  it('the exporter never loads the simulator, and --demo never loads its test controls', () => {
    const g = graph(true);
    const exporter = [...reach('cli.ts', g)];
    assert.ok(exporter.includes('main.ts') && exporter.includes('slurm/rest/client.ts'), 'the walk follows imports');
    assert.deepEqual(exporter.filter((f) => f.startsWith('simulator/')), []);
    const demo = [...reach('simulator/slurmrestd.ts', g)];
    assert.deepEqual(demo.filter((f) => f === 'simulator/faults.ts' || f === 'simulator/server.ts'), []);
    assert.match(readFileSync(path.join(SRC, 'main.ts'), 'utf8'), /await import\('\.\/simulator\/slurmrestd\.ts'\)/);
  });
});
