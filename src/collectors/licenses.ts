// License counts (scontrol show licenses): local ones from slurm.conf Licenses= and remote ones that
// slurmdbd serves (sacctmgr add resource), told apart by slurm_license_info's remote label.
import type { Collector, CollectContext } from './collector.ts';
import type { MetricDesc, MetricFamily } from '../exposition/types.ts';

const SRC = 'licenses: licenses[]';

type Count = 'total' | 'used' | 'free' | 'reserved';

function gauge(name: string, help: string, field: Count, source: string): { desc: MetricDesc; field: Count } {
  return { desc: { name, type: 'gauge', help, labels: ['cluster', 'license'], source: `${SRC}.${source}` }, field };
}

const COUNTS = [
  // Not slurm_license_total: a gauge must not look like a counter.
  gauge('slurm_license_configured', 'Licenses configured (scontrol Total): slurm.conf Licenses=, or the share of a remote license given to this cluster.', 'total', 'Total'),
  gauge('slurm_license_used', 'Licenses held by running jobs (Used).', 'used', 'Used'),
  gauge('slurm_license_free', 'Licenses available to new jobs (Free).', 'free', 'Free'),
  gauge('slurm_license_reserved', 'Licenses set aside by reservations (Reserved).', 'reserved', 'Reserved'),
] as const;

const L_INFO: MetricDesc = {
  name: 'slurm_license_info',
  type: 'gauge',
  help: 'Always 1, one series per license: remote="true" when slurmdbd serves it (sacctmgr add resource; scontrol shows Remote=yes), "false" for slurm.conf Licenses=.',
  labels: ['cluster', 'license', 'remote'],
  source: `${SRC}.Remote`,
};

export const licensesCollector: Collector = {
  name: 'licenses',
  description: 'License counts (scontrol show licenses): total, used, free, reserved, and whether slurmdbd serves them.',
  group: 'licenses',
  needs: ['licenses'],
  metrics: [...COUNTS.map((g) => g.desc), L_INFO],
  collect(ctx: CollectContext): MetricFamily[] {
    const licenses = ctx.data.licenses;
    if (!licenses) return [];
    const c = ctx.cluster;
    const fams = COUNTS.map((g): MetricFamily => ({ desc: g.desc, samples: [] }));
    const info: MetricFamily = { desc: L_INFO, samples: [] };
    const seen = new Set<string>();
    for (const l of licenses) {
      if (seen.has(l.name)) {
        ctx.anomaly(`license "${l.name}" listed twice`);
        continue;
      }
      seen.add(l.name);
      COUNTS.forEach((g, i) => fams[i]!.samples.push({ values: [c, l.name], value: l[g.field] }));
      info.samples.push({ values: [c, l.name, String(l.remote)], value: 1 });
    }
    return [...fams, info];
  },
};
