// Fault injection for hardening tests: set in process (sim.faults.set) or over HTTP (POST /sim/faults).

export const FAULT_MODES = ['none', 'refuse', 'hang', 'slow', 'status', 'malformed', 'truncate', 'huge', 'drop-version'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface FaultSpec {
  mode: FaultMode;
  /** Regular expression on the request path; absent = every Slurm path (never /sim/*). */
  paths?: string;
  /** 'status': HTTP status (default 500) and body (default a short text) and its content type. */
  status?: number;
  body?: string;
  contentType?: string;
  /** 'huge': body size (default 64 MiB); 'truncate': bytes sent before the socket is destroyed (default 4096). */
  bytes?: number;
  /** 'drop-version': the API version no longer served (404 like an unknown path). */
  version?: string;
  /** 'slow': ms between bytes (default 1000). */
  intervalMs?: number;
  /** Affect only this many requests, then clear by itself. */
  times?: number;
}

export class FaultControl {
  private spec: FaultSpec = { mode: 'none' };
  private re: RegExp | undefined;
  private remaining = Infinity;

  /** Validates and installs a fault; throws an Error naming the bad field. */
  set(spec: FaultSpec): void {
    const s = parseFaultSpec(spec);
    this.spec = s;
    this.re = s.paths ? new RegExp(s.paths) : undefined;
    this.remaining = s.times ?? Infinity;
  }

  clear(): void {
    this.set({ mode: 'none' });
  }

  get current(): FaultSpec {
    return { ...this.spec };
  }

  /** The fault that applies to a request for `path` (consumes one of `times`), or undefined. */
  take(path: string): FaultSpec | undefined {
    const s = this.spec;
    if (s.mode === 'none' || path.startsWith('/sim/')) return undefined;
    if (this.re && !this.re.test(path)) return undefined;
    if (s.mode === 'drop-version' && !path.includes(`/${s.version}/`)) return undefined;
    if (--this.remaining <= 0) this.clear();
    return s;
  }
}

/** Checks an untrusted fault description (from POST /sim/faults). */
export function parseFaultSpec(input: unknown): FaultSpec {
  if (typeof input !== 'object' || input === null) throw new Error('fault: expected a JSON object');
  const o = input as Record<string, unknown>;
  if (typeof o.mode !== 'string' || !(FAULT_MODES as readonly string[]).includes(o.mode)) {
    throw new Error(`fault: "mode" must be one of ${FAULT_MODES.join(', ')}`);
  }
  const spec: FaultSpec = { mode: o.mode as FaultMode };
  const optNum = (k: 'status' | 'bytes' | 'intervalMs' | 'times', min: number, max: number) => {
    if (o[k] === undefined) return;
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new Error(`fault: "${k}" must be an integer from ${min} to ${max}`);
    spec[k] = v;
  };
  const optStr = (k: 'paths' | 'body' | 'contentType' | 'version') => {
    if (o[k] === undefined) return;
    if (typeof o[k] !== 'string') throw new Error(`fault: "${k}" must be a string`);
    spec[k] = o[k];
  };
  optNum('status', 100, 599);
  optNum('bytes', 0, 16 * 1024 ** 3);
  optNum('intervalMs', 1, 60_000);
  optNum('times', 1, 1e9);
  optStr('paths');
  optStr('body');
  optStr('contentType');
  optStr('version');
  if (spec.paths !== undefined) {
    try {
      new RegExp(spec.paths);
    } catch (e) {
      throw new Error(`fault: "paths" is not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (spec.mode === 'drop-version' && !spec.version) throw new Error('fault: mode "drop-version" needs "version", e.g. "v0.0.44"');
  return spec;
}
