// The slurmrestd API versions the exporter speaks, newest first (version negotiation tries them in this order).
import type { ApiAdapter } from './common.ts';
import { v0038 } from './v0038.ts';
import { v0039 } from './v0039.ts';
import { v0040 } from './v0040.ts';
import { v0041 } from './v0041.ts';
import { v0042 } from './v0042.ts';
import { v0043 } from './v0043.ts';
import { v0044 } from './v0044.ts';

export type { ApiAdapter } from './common.ts';

const ADAPTERS: readonly ApiAdapter[] = [v0044, v0043, v0042, v0041, v0040, v0039, v0038];

export const SUPPORTED_VERSIONS: readonly string[] = ADAPTERS.map((x) => x.version);

/** The adapter for `v0.0.44` (a leading 'v' is optional); undefined for versions not supported (v0.0.36/37). */
export function adapterFor(version: string): ApiAdapter | undefined {
  const v = version.startsWith('v') ? version : `v${version}`;
  return ADAPTERS.find((x) => x.version === v);
}
