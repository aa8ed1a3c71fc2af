// One collector's rendered pieces from several clusters as one piece. The text formats allow each metric
// family once, with all its samples together, so the clusters' `slurm_nodes` blocks are joined under one
// HELP/TYPE rather than concatenated. The merge works on the bytes (slices, one copy at the end, nothing
// decoded), and its result is cached until any input piece is replaced (a new snapshot), so a scrape still
// only writes bytes.
import { PreparedPiece } from './prepared.ts';

interface Block {
  /** The HELP/TYPE/UNIT lines, from the first piece that has the family. */
  header: Buffer;
  samples: Buffer[];
}

const NL = 0x0a;
const HELP = Buffer.from('# HELP ');
const TYPE = Buffer.from('# TYPE ');
const UNIT = Buffer.from('# UNIT ');

function startsWith(buf: Buffer, at: number, prefix: Buffer): boolean {
  return buf.length - at >= prefix.length && buf.compare(prefix, 0, prefix.length, at, at + prefix.length) === 0;
}

function lineEnd(buf: Buffer, at: number): number {
  const nl = buf.indexOf(NL, at);
  return nl < 0 ? buf.length : nl + 1;
}

/** Splits rendered text into families: a block starts at each `# HELP` (the writer always writes one). */
function blocks(buf: Buffer, into: Map<string, Block>): void {
  let at = 0;
  while (at < buf.length) {
    if (!startsWith(buf, at, HELP)) throw new Error(`cannot merge rendered metrics: a line other than # HELP starts a family: ${buf.toString('utf8', at, Math.min(buf.length, at + 80))}`);
    const nameEnd = buf.indexOf(0x20, at + HELP.length);
    const name = buf.toString('latin1', at + HELP.length, nameEnd);
    let h = lineEnd(buf, at);
    // The family's other metadata lines belong to the header.
    while (startsWith(buf, h, TYPE) || startsWith(buf, h, UNIT)) h = lineEnd(buf, h);
    // Its samples run to the next family's HELP line (or the end).
    let end = h;
    for (;;) {
      const next = buf.indexOf(HELP, end);
      if (next < 0) {
        end = buf.length;
        break;
      }
      if (next === 0 || buf[next - 1] === NL) {
        end = next;
        break;
      }
      end = next + 1;
    }
    let block = into.get(name);
    if (!block) into.set(name, (block = { header: buf.subarray(at, h), samples: [] }));
    if (end > h) block.samples.push(buf.subarray(h, end));
    at = end;
  }
}

/** Each family once, in order of first appearance, with the samples of every piece in piece order. */
export function mergeRendered(pieces: readonly Buffer[]): Buffer {
  const families = new Map<string, Block>();
  for (const p of pieces) blocks(p, families);
  const parts: Buffer[] = [];
  for (const b of families.values()) parts.push(b.header, ...b.samples);
  return Buffer.concat(parts);
}

/** Remembers the last merge per key, reusing it while the input pieces are the same objects. */
export class MergeCache {
  private readonly last = new Map<string, { inputs: readonly PreparedPiece[]; out: PreparedPiece }>();

  merged(key: string, inputs: readonly PreparedPiece[]): PreparedPiece {
    if (inputs.length === 1) return inputs[0]!;
    const prev = this.last.get(key);
    if (prev && prev.inputs.length === inputs.length && prev.inputs.every((p, i) => p === inputs[i])) return prev.out;
    const out = new PreparedPiece(mergeRendered(inputs.map((p) => p.raw)));
    this.last.set(key, { inputs, out });
    return out;
  }
}
