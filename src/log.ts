// The process logger: pino, one line per event on stderr (stdout stays free for check-config output),
// as logfmt (`ts=… level=info msg="…" k=v`, the Prometheus exporters' default) or JSON. Secrets are
// removed twice: pino redacts known secret keys, and every finished line is scanned for JWT-, bearer-
// and URL-password-looking text, so a token inside a message or an error text is masked as well.
import { pino, type Logger } from 'pino';
import { redactText } from './config/redact.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'logfmt' | 'json';

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
}

/** Where finished lines go; each call gets one whole line ending in "\n". */
export interface LogSink {
  write(line: string): unknown;
}

/** The four methods the rest of the code uses (structurally a subset of pino's Logger). */
export interface LogFns {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

export type { Logger };

export const REDACT_PATHS: readonly string[] = [
  'token',
  'password',
  'authorization',
  'jwt',
  'key',
  'secret',
  'cookie',
  '*.token',
  '*.password',
  '*.authorization',
  '*.Authorization',
  '*.jwt',
  '*.key',
  '*.secret',
  'headers["x-slurm-user-token"]',
  '*.headers["x-slurm-user-token"]',
  'headers["X-SLURM-USER-TOKEN"]',
  '*.headers["X-SLURM-USER-TOKEN"]',
  'headers.cookie',
  '*.headers.cookie',
  '*.headers.authorization',
  '*.headers.Authorization',
];

const FIRST_KEYS = ['ts', 'level', 'msg'];

function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function logfmtValue(v: unknown): string {
  const s = typeof v === 'string' ? v : v === null || v === undefined ? String(v) : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // Bare when unambiguous; otherwise quoted with JSON escapes (\" \\ \n), which logfmt parsers accept.
  return s !== '' && !/[\s="\\]/.test(s) && !hasControlChar(s) ? s : JSON.stringify(s);
}

function flatten(prefix: string, v: unknown, out: [string, unknown][]): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) out.push([prefix, '{}']);
    for (const [k, x] of entries) flatten(prefix ? `${prefix}.${k}` : k, x, out);
  } else if (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object')) {
    out.push([prefix, v.join(',')]);
  } else {
    out.push([prefix, v]);
  }
}

/** One pino JSON line → one logfmt line: ts, level, msg first, then the rest with nested keys dotted. */
export function jsonLineToLogfmt(line: string): string {
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const pairs: [string, unknown][] = [];
  for (const k of FIRST_KEYS) if (k in obj) pairs.push([k, obj[k]]);
  for (const [k, v] of Object.entries(obj)) if (!FIRST_KEYS.includes(k)) flatten(k, v, pairs);
  return `${pairs.map(([k, v]) => `${k.replace(/[\s="]/g, '_')}=${logfmtValue(v)}`).join(' ')}\n`;
}

/** The synchronous last stage: format, then mask anything secret-looking that got this far. */
function finalStage(format: LogFormat, sink: LogSink): pino.DestinationStream {
  return {
    write(line: string) {
      const text = format === 'json' ? line : jsonLineToLogfmt(line);
      sink.write(redactText(text));
    },
  };
}

/** @param sink defaults to stderr (synchronous, so nothing is lost on exit). */
export function createLogger(opts: LoggerOptions, sink?: LogSink): Logger {
  return pino(
    {
      level: opts.level,
      base: undefined,
      messageKey: 'msg',
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT_PATHS], censor: '<redacted>' },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    finalStage(opts.format, sink ?? pino.destination({ dest: 2, sync: true })),
  );
}

export interface OnceLogger {
  /** Logs unless this key was logged before; returns whether it logged. */
  log(key: string, obj: Record<string, unknown>, msg: string): boolean;
  has(key: string): boolean;
  /** Distinct keys remembered. */
  readonly size: number;
}

/**
 * Logs each key only once (an unknown node state seen on every poll is news once). Remembers at most
 * maxKeys keys, so a stream of ever-new values cannot grow memory; past that it says so once and stops.
 */
export function onceLogger(log: LogFns, level: LogLevel = 'warn', maxKeys = 1000): OnceLogger {
  const seen = new Set<string>();
  let full = false;
  return {
    log(key, obj, msg) {
      if (seen.has(key)) return false;
      if (seen.size >= maxKeys) {
        if (!full) {
          full = true;
          log[level]({ limit: maxKeys }, 'too many distinct messages of this kind; further new ones are not logged');
        }
        return false;
      }
      seen.add(key);
      log[level](obj, msg);
      return true;
    },
    has: (key) => seen.has(key),
    get size() {
      return seen.size;
    },
  };
}
