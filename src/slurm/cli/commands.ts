// Which Slurm command gives each resource kind, as JSON where the installed release prints it and as text
// otherwise. The JSON commands print exactly slurmrestd's answer shapes (`scontrol show nodes --json` is
// /nodes, `squeue --json` is /jobs), so the REST adapters read them. Text output is always asked for in a
// delimited or one-record-per-line form: fixed-width columns cut node names past 20 characters.
import type { Anomalies, ResourceData, ResourceKind } from '../model.ts';
import type { Binary, Capabilities } from './capabilities.ts';
import { TEXT_COMMANDS, type TextParser } from './parse/index.ts';

export type Plan<K extends ResourceKind> =
  | { mode: 'json'; file: string; args: string[] }
  | { mode: 'text'; file: string; args: string[]; parse(text: string, a: Anomalies): ResourceData[K] };

interface JsonCommand {
  binary: Binary;
  args: readonly string[];
  /** Only where the release prints this shape (22.05's `sinfo --json` is /nodes; later ones aggregate). */
  when?: (caps: Capabilities) => boolean;
}

const is2205 = (caps: Capabilities) => caps.release.startsWith('22.05.');

// In order of preference per kind. `--all` includes hidden partitions (slurmrestd shows them too);
// squeue's `--states=all` includes finished jobs still in slurmctld's memory, as /jobs does.
const JSON_COMMANDS: { [K in ResourceKind]?: readonly JsonCommand[] } = {
  cluster: [{ binary: 'scontrol', args: ['ping'] }],
  nodes: [{ binary: 'scontrol', args: ['--all', 'show', 'nodes'] }, { binary: 'sinfo', args: ['--all'], when: is2205 }],
  jobs: [{ binary: 'squeue', args: ['--all', '--states=all'] }],
  partitions: [{ binary: 'scontrol', args: ['--all', 'show', 'partitions'] }],
  diag: [{ binary: 'sdiag', args: [] }],
  shares: [{ binary: 'sshare', args: ['--all'] }],
  reservations: [{ binary: 'scontrol', args: ['show', 'reservations'] }],
  licenses: [{ binary: 'scontrol', args: ['show', 'licenses'] }],
};

/** How to get `kind` from these commands; undefined when no command gives it (slurmdbd's statistics). */
export function planFor<K extends ResourceKind>(kind: K, caps: Capabilities): Plan<K> | undefined {
  if (caps.dataParser !== undefined) {
    const json = (JSON_COMMANDS[kind] ?? []).find((c) => caps.json.has(c.binary) && (c.when?.(caps) ?? true));
    if (json) return { mode: 'json', file: caps.paths[json.binary], args: [...json.args] };
  }
  const text = TEXT_COMMANDS[kind] as TextParser<K> | undefined;
  if (!text) return undefined;
  return { mode: 'text', file: caps.paths[text.binary], args: [...text.args], parse: text.parse };
}
