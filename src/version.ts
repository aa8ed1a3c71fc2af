import { readFileSync } from 'node:fs';

// Read once at start from package.json so the build never needs a generated file.
function readVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'slurm-exporter' && pkg.version) return pkg.version;
    } catch {
      // try the next location (src/ vs dist/)
    }
  }
  return '0.0.0-unknown';
}

export const VERSION = readVersion();
