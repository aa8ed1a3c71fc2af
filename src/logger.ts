// The logger every layer writes to (pino's shape, so the real one and test fakes both fit). It lives at the
// bottom of the tree so slurm/, poll/ and ha/ depend on it instead of on each other.
export interface Logger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}
