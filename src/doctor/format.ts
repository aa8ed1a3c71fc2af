// Figures as an operator reads them: "12 ms", "1.4 MiB", "23 h 5 min".

export function ms(n: number): string {
  return n < 10 ? `${n.toFixed(1)} ms` : n < 10_000 ? `${Math.round(n)} ms` : `${Number((n / 1000).toFixed(1))} s`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** A span of seconds: "45 s", "12 min", "23 h 5 min", "3 d 4 h". */
export function span(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 120) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function isoSeconds(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Milliseconds to 0.1 ms, for --output json. */
export function ms1(n: number): number {
  return Math.round(n * 10) / 10;
}
