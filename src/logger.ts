// The logger every layer writes to (pino's shape, so the real one and test fakes both fit). It lives at the
// bottom of the tree so slurm/, poll/ and ha/ depend on it instead of on each other.
export interface Logger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

/** A logger that adds `fields` (e.g. the cluster) to every line. */
export function withFields(log: Logger, fields: Record<string, unknown>): Logger {
  const add = (obj: unknown, msg: string | undefined, f: (o: unknown, m?: string) => void) => {
    if (obj !== null && typeof obj === 'object' && !(obj instanceof Error)) f({ ...fields, ...obj }, msg);
    else if (typeof obj === 'string' && msg === undefined) f(fields, obj);
    else f({ ...fields, value: obj }, msg);
  };
  return {
    debug: (o, m) => add(o, m, (x, y) => log.debug(x, y)),
    info: (o, m) => add(o, m, (x, y) => log.info(x, y)),
    warn: (o, m) => add(o, m, (x, y) => log.warn(x, y)),
    error: (o, m) => add(o, m, (x, y) => log.error(x, y)),
  };
}
