// `scontrol ping` → ClusterInfo. One line per controller:
//   Slurmctld(primary) at ctl is UP
//   Slurmctld(backup) at ctl2 is DOWN          (two controllers)
//   Slurmctld(backup2) at ctl3 is UP           (three or more)
// Versions, cluster name and latency are not in the text: the source fills the first two, latency stays undefined.
import type { Anomalies, ClusterInfo, ControllerPing } from '../../model.ts';
import { note } from '../../rest/adapters/common.ts';
import { fail } from './values.ts';

const COMMAND = 'scontrol ping';
const LINE = /^Slurmctld\(([^)]*)\) at (\S+) is (\S+?)\.?(?:\s+(.*))?$/;

/** `scontrol ping` stdout → controllers; throws SlurmFetchError('parse') for a line it cannot read or no line at all. */
export function parseScontrolPing(text: string, a: Anomalies): ClusterInfo {
  const controllers: ControllerPing[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const m = LINE.exec(line);
    if (!m) fail(COMMAND, i + 1, `expected "Slurmctld(<mode>) at <host> is UP|DOWN", got "${line.slice(0, 80)}"`);
    const status = (m[3] as string).toLowerCase();
    if (status !== 'up' && status !== 'down') note(a, `controller status "${status}"`);
    if (m[4]) note(a, `scontrol ping text "${m[4]}"`);
    controllers.push({ hostname: m[2] as string, status, mode: (m[1] as string).toLowerCase(), latencySeconds: undefined });
  });
  if (controllers.length === 0) fail(COMMAND, 0, 'no controller in the output');
  return { controllers, slurmVersion: '', apiVersion: '', clusterName: '' };
}
