// /slurm/{v}/licenses (scontrol show licenses). The captured v0.0.38..v0.0.44 answers all use scontrol's
// CamelCase keys (LicenseName, Total, Used, Free, Reserved, Remote); v0.0.40+ add LastConsumed/LastDeficit/
// LastUpdate and v0.0.44 Nodes. snake_case spellings are read too, in case a data parser changes its mind.
import type { Anomalies, SlurmLicense } from '../../model.ts';
import { isRecord, listOf, note, num, type Rec, str } from './common.ts';

export function buildLicenses(doc: Rec, a: Anomalies): SlurmLicense[] {
  return listOf(doc, 'licenses', a, license);
}

function field(r: Rec, camel: string, snake: string): unknown {
  return r[camel] ?? r[snake];
}

function license(r: unknown, a: Anomalies): SlurmLicense | undefined {
  const name = isRecord(r) ? str(r.LicenseName ?? r.license_name ?? r.name) : '';
  if (!isRecord(r) || name === '') {
    note(a, 'license record without a name (skipped)');
    return undefined;
  }
  const total = num(field(r, 'Total', 'total'));
  if (total === undefined) note(a, `license ${name} without a total`);
  const used = num(field(r, 'Used', 'used')) ?? 0;
  // Without Free, Total - Used stands in: what every captured scontrol show licenses prints as Free.
  const free = num(field(r, 'Free', 'free')) ?? Math.max(0, (total ?? 0) - used);
  return {
    name,
    total: total ?? 0,
    used,
    free,
    reserved: num(field(r, 'Reserved', 'reserved')) ?? 0,
    remote: field(r, 'Remote', 'remote') === true,
  };
}
