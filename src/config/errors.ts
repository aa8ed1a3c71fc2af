/** A configuration problem the user must fix; the message names where (file, variable or flag) and what. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
