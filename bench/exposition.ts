// Renders 200k series in both formats and prints the time per render (best of a few runs), so a
// regression in the writer's hot loop shows. Run: node bench/exposition.ts [series]
import { family, type MetricFamily } from '../src/exposition/types.ts';
import { finishPage, renderFamilies, type ExpositionFormat } from '../src/exposition/writer.ts';

const total = Number(process.argv[2] ?? 200_000);
const perFamily = 10_000;
const families: MetricFamily[] = [];
for (let f = 0; families.length * perFamily < total; f++) {
  const counter = f % 2 === 0;
  const samples = [];
  for (let i = 0; i < perFamily && families.length * perFamily + i < total; i++) {
    samples.push({
      // Realistic shape: cluster, node, partition, state; some values need escaping.
      values: ['prod', `node${String(i).padStart(5, '0')}`, `part${i % 7}`, i % 50 === 0 ? 'drain "maint"\\x' : 'idle'],
      value: counter ? i * 3 : i % 13 === 0 ? NaN : i / 7,
    });
  }
  families.push(family({
    name: counter ? `slurm_bench_${f}_events_total` : `slurm_bench_${f}_ratio`,
    type: counter ? 'counter' : 'gauge',
    help: `Bench family ${f}.`,
    labels: ['cluster', 'node', 'partition', 'state'],
    source: 'bench',
  }, samples));
}

function bench(format: ExpositionFormat): void {
  // One warm-up render so the JIT has compiled the hot loop before timing.
  renderFamilies(families, format);
  let best = Infinity;
  let bytes = 0;
  for (let run = 0; run < 5; run++) {
    const t0 = performance.now();
    const page = finishPage([renderFamilies(families, format)], format);
    // Flatten the rope as a real response would (Buffer.byteLength forces it).
    bytes = Buffer.byteLength(page);
    best = Math.min(best, performance.now() - t0);
  }
  console.log(`${format}: ${total} series, ${(bytes / 1e6).toFixed(1)} MB, best of 5: ${best.toFixed(1)} ms`);
}

bench('text');
bench('openmetrics');
