// The text command per resource kind, for a Slurm without the JSON output (22.05's sdiag/sshare/scontrol, or no
// data_parser plugin): which binary, its arguments, and the parser of its stdout. scontrol gives nodes rather
// than sinfo (reason times, -d adds GresUsed); squeue runs without -r so a pending array range stays one
// record with its task string, as in slurmrestd's /jobs. Timestamps are read as local time in the standard
// format, so the runner must not pass a SLURM_TIME_FORMAT other than `standard`.
import type { Anomalies, ResourceData, ResourceKind } from '../../model.ts';
import type { Binary } from '../capabilities.ts';
import { parseScontrolLicenses } from './licenses.ts';
import { parseScontrolNodes } from './nodes.ts';
import { parseScontrolPartitions } from './partitions.ts';
import { parseScontrolPing } from './ping.ts';
import { parseScontrolReservations } from './reservations.ts';
import { parseSdiag } from './sdiag.ts';
import { parseSshare } from './sshare.ts';
import { SQUEUE_FORMAT, parseSqueue } from './squeue.ts';

export { SINFO_FIELDS, SINFO_FORMAT, parseSinfoNodes } from './sinfo.ts';
export { SQUEUE_FIELDS, SQUEUE_FORMAT, parseSqueue } from './squeue.ts';
export { parseScontrolLicenses, parseScontrolNodes, parseScontrolPartitions, parseScontrolPing, parseScontrolReservations, parseSdiag, parseSshare };

export interface TextParser<K extends ResourceKind> {
  binary: Binary;
  args: readonly string[];
  parse(text: string, a: Anomalies): ResourceData[K];
}

export const TEXT_COMMANDS: { [K in ResourceKind]?: TextParser<K> } = {
  cluster: { binary: 'scontrol', args: ['ping'], parse: parseScontrolPing },
  nodes: { binary: 'scontrol', args: ['--all', '--details', '--oneliner', 'show', 'nodes'], parse: parseScontrolNodes },
  jobs: { binary: 'squeue', args: ['--all', '--states=all', '--noheader', '-O', SQUEUE_FORMAT], parse: (t, a) => parseSqueue(t, a) },
  partitions: { binary: 'scontrol', args: ['--all', '--oneliner', 'show', 'partitions'], parse: parseScontrolPartitions },
  diag: { binary: 'sdiag', args: [], parse: parseSdiag },
  shares: { binary: 'sshare', args: ['--all', '--long', '--parsable'], parse: parseSshare },
  reservations: { binary: 'scontrol', args: ['--oneliner', 'show', 'reservations'], parse: parseScontrolReservations },
  licenses: { binary: 'scontrol', args: ['--oneliner', 'show', 'licenses'], parse: parseScontrolLicenses },
};
