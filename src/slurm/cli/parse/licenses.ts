// `scontrol show licenses -o` → SlurmLicense[], filled as the REST licenses adapter does.
import type { Anomalies, SlurmLicense } from '../../model.ts';
import { note } from '../../rest/adapters/common.ts';
import { type KvRecord, numberOf, parseRecords, rawOf, requireKeys, textOf } from './records.ts';

const COMMAND = 'scontrol show licenses';

function license(r: KvRecord, a: Anomalies): SlurmLicense {
  requireKeys(r, ['LicenseName']);
  const name = rawOf(r, 'LicenseName');
  const total = numberOf(r, 'Total');
  if (total === undefined) note(a, `license ${name} without a total`);
  const used = numberOf(r, 'Used') ?? 0;
  return {
    name,
    total: total ?? 0,
    used,
    // Without Free, Total - Used stands in, as in the REST adapter.
    free: numberOf(r, 'Free') ?? Math.max(0, (total ?? 0) - used),
    reserved: numberOf(r, 'Reserved') ?? 0,
    remote: textOf(r, 'Remote').toLowerCase() === 'yes',
  };
}

/** `scontrol show licenses -o` stdout → licenses; `No licenses configured` and empty output give []. */
export function parseScontrolLicenses(text: string, a: Anomalies): SlurmLicense[] {
  return parseRecords(text, COMMAND).map((r) => license(r, a));
}
