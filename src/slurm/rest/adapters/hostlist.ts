// Slurm hostlists: "n[1-4]", "c[1-2],g1", "node[001-010]", "n[1-3,7]", "rack[1-2]-n[01-02]".

/** Expands a hostlist into host names; throws an Error naming the problem on malformed input or over `limit` names. */
export function expandHostlist(s: string, limit = 1_000_000): string[] {
  const out: string[] = [];
  for (const item of splitHostlist(s)) {
    for (const h of expandOne(item, limit - out.length)) out.push(h);
  }
  return out;
}

// Splits on commas outside brackets.
function splitHostlist(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '[') {
      if (depth > 0) throw new Error(`hostlist "${s}": nested '[' at position ${i}`);
      depth++;
    } else if (c === ']') {
      if (depth === 0) throw new Error(`hostlist "${s}": ']' without '[' at position ${i}`);
      depth--;
    } else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new Error(`hostlist "${s}": '[' is not closed`);
  out.push(s.slice(start));
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

function expandRanges(spec: string, item: string): string[] {
  const out: string[] = [];
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`hostlist "${item}": bad range "${part}"`);
    const from = m[1] as string;
    const to = m[2] ?? from;
    const a = Number(from);
    const b = Number(to);
    if (b < a) throw new Error(`hostlist "${item}": range "${part}" runs backwards`);
    // Zero padding follows the first number's width (node[001-010]).
    const width = from.length;
    for (let i = a; i <= b; i++) out.push(String(i).padStart(width, '0'));
  }
  return out;
}

function expandOne(item: string, limit: number): string[] {
  let names = [''];
  let rest = item;
  while (rest !== '') {
    const open = rest.indexOf('[');
    if (open < 0) {
      names = names.map((n) => n + rest);
      break;
    }
    const close = rest.indexOf(']', open);
    const prefix = rest.slice(0, open);
    const values = expandRanges(rest.slice(open + 1, close), item);
    if (names.length * values.length > limit) throw new Error(`hostlist "${item}" expands to more than ${limit} names`);
    const next: string[] = [];
    for (const n of names) for (const v of values) next.push(n + prefix + v);
    names = next;
    rest = rest.slice(close + 1);
  }
  if (names.length > limit) throw new Error(`hostlist "${item}" expands to more than ${limit} names`);
  return names;
}
