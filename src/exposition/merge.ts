// One collector's rendered pieces from several clusters as one piece. The text formats allow each metric
// family once, with all its samples together, so the clusters' `slurm_nodes` blocks are joined under one
// HELP/TYPE rather than concatenated. The result is cached until any input piece is replaced (a new
// snapshot), so a scrape still only joins bytes.
import { PreparedPiece } from './prepared.ts';

interface Block {
  /** The HELP/TYPE/UNIT lines, from the first piece that has the family. */
  header: string;
  samples: string[];
}

/** Splits rendered text into families: a block starts at each `# HELP` (the writer always writes one). */
function blocks(text: string, into: Map<string, Block>): void {
  let i = 0;
  let current: Block | undefined;
  let first = true;
  while (i < text.length) {
    const end = text.indexOf('\n', i);
    const stop = end < 0 ? text.length : end + 1;
    if (text.startsWith('# HELP ', i)) {
      const name = text.slice(i + 7, text.indexOf(' ', i + 7));
      current = into.get(name);
      first = current === undefined;
      if (!current) into.set(name, (current = { header: '', samples: [] }));
      let h = stop;
      // The family's other metadata lines belong to the header.
      while (text.startsWith('# TYPE ', h) || text.startsWith('# UNIT ', h)) h = text.indexOf('\n', h) + 1;
      if (first) current.header = text.slice(i, h);
      i = h;
      continue;
    }
    if (!current) throw new Error(`cannot merge rendered metrics: a sample line before any # HELP: ${text.slice(i, Math.min(stop, i + 80))}`);
    current.samples.push(text.slice(i, stop));
    i = stop;
  }
}

/** Each family once, in order of first appearance, with the samples of every piece in piece order. */
export function mergeRendered(texts: readonly string[]): string {
  const families = new Map<string, Block>();
  for (const t of texts) blocks(t, families);
  let out = '';
  for (const b of families.values()) out += b.header + b.samples.join('');
  return out;
}

/** Remembers the last merge per key, reusing it while the input pieces are the same objects. */
export class MergeCache {
  private readonly last = new Map<string, { inputs: readonly PreparedPiece[]; out: PreparedPiece }>();

  merged(key: string, inputs: readonly PreparedPiece[]): PreparedPiece {
    if (inputs.length === 1) return inputs[0]!;
    const prev = this.last.get(key);
    if (prev && prev.inputs.length === inputs.length && prev.inputs.every((p, i) => p === inputs[i])) return prev.out;
    const out = new PreparedPiece(mergeRendered(inputs.map((p) => p.raw.toString('utf8'))));
    this.last.set(key, { inputs, out });
    return out;
  }
}
