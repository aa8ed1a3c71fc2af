// /nodes and /partitions records for one API version, spliced into that version's real captured records.
import { Cluster, type SimNode, type SimPartition } from './cluster.ts';
import { type Template, num, numField, str, strArray, strOrNull, type Render, type Slot } from './template.ts';

function gres(n: SimNode): string {
  return n.gpus ? `gpu:${n.gpuType}:${n.gpus}` : '';
}

function gresUsed(n: SimNode): string {
  if (!n.gpus) return '';
  return n.allocGpus ? `gpu:${n.gpuType}:${n.allocGpus}(IDX:${n.allocGpus === 1 ? '0' : `0-${n.allocGpus - 1}`})` : `gpu:${n.gpuType}:0(IDX:N/A)`;
}

function nodeTres(n: SimNode): string {
  return `cpu=${n.cpus},mem=${n.memMb}M,billing=${n.cpus}${n.gpus ? `,gres/gpu=${n.gpus}` : ''}`;
}

function nodeTresUsed(n: SimNode): string {
  if (!n.allocCpus) return '';
  return `cpu=${n.allocCpus},mem=${n.allocMemMb}M${n.allocGpus ? `,gres/gpu=${n.allocGpus}` : ''}`;
}

export function compileNodeRecord(t: Template, c: Cluster): Render<SimNode> {
  const base = 'nodes.0';
  const nf = (path: string, get: (n: SimNode) => number | null, optional = false) => numField<SimNode>(t, base, path, get, optional);
  // 22.05 (v0.0.38): lower-case base state plus a separate state_flags list; null for unset strings.
  const legacy = t.has(`${base}.state_flags`);
  const stateCache = new Map<string, string[]>();
  const fullState = (n: SimNode): string[] => {
    const a = [Cluster.baseState(n), ...Cluster.nodeFlags(n)];
    const k = a.join('+');
    let v = stateCache.get(k);
    if (!v) stateCache.set(k, (v = a));
    return v;
  };
  const slots: Slot<SimNode>[] = [
    ...nf('boot_time', (n) => n.boot),
    num('cores', (n) => n.cpus),
    num('cpu_load', (n) => (n.down ? 0 : n.allocCpus * 100)),
    ...nf('free_mem', (n) => n.memMb - n.allocMemMb - 1000, true),
    ...nf('free_memory', (n) => n.memMb - n.allocMemMb - 1000, true),
    num('cpus', (n) => n.cpus),
    num('effective_cpus', (n) => n.cpus, true),
    str('gres', gres),
    str('gres_used', gresUsed),
    ...nf('last_busy', (n) => (n.allocCpus ? c.lastUpdate : n.boot)),
    str('name', (n) => n.name),
    str('hostname', (n) => n.name),
    strArray('partitions', (n) => n.partitions),
    num('real_memory', (n) => n.memMb),
    str('reason', (n) => n.reason),
    ...nf('reason_changed_at', (n) => (n.reason ? n.reasonAt : 0)),
    strOrNull('reason_set_by_user', (n) => (n.reason ? 'root' : legacy ? null : '')),
    ...nf('slurmd_start_time', (n) => n.boot),
    num('alloc_memory', (n) => n.allocMemMb),
    num('alloc_cpus', (n) => n.allocCpus),
    num('alloc_idle_cpus', (n) => n.cpus - n.allocCpus, true),
    num('idle_cpus', (n) => n.cpus - n.allocCpus, true),
    str('tres', nodeTres),
    legacy ? strOrNull('tres_used', (n) => nodeTresUsed(n) || null) : str('tres_used', nodeTresUsed),
    str('reservation', (n) => (n.maint ? 'maint_window' : ''), true),
  ];
  if (legacy) {
    slots.push(str('state', (n) => Cluster.baseState(n).toLowerCase()));
    slots.push(strArray('state_flags', (n) => Cluster.nodeFlags(n)));
  } else {
    slots.push(strArray('state', fullState));
  }
  return t.compileValue(base, slots);
}

export function compilePartitionRecord(t: Template, c: Cluster): Render<SimPartition> {
  const base = 'partitions.0';
  const cpus = (p: SimPartition) => p.nodes.reduce((s, i) => s + c.nodes[i]!.cpus, 0);
  const tres = (p: SimPartition) => {
    let mem = 0;
    let gpus = 0;
    for (const i of p.nodes) {
      mem += c.nodes[i]!.memMb;
      gpus += c.nodes[i]!.gpus;
    }
    const n = cpus(p);
    return `cpu=${n},mem=${mem}M,node=${p.nodes.length},billing=${n}${gpus ? `,gres/gpu=${gpus}` : ''},license/comsol=10,license/matlab=50`;
  };
  if (t.has(`${base}.total_cpus`)) {
    return t.compileValue<SimPartition>(base, [
      strArray('flags', (p) => (p.isDefault ? ['default'] : [])),
      num('default_time_limit', (p) => p.defaultTimeMin),
      num('max_time_limit', (p) => p.maxTimeMin),
      str('name', (p) => p.name),
      str('nodes', (p) => p.nodeRange),
      num('priority_tier', (p) => p.priorityTier),
      num('total_cpus', cpus),
      num('total_nodes', (p) => p.nodes.length),
      str('tres', tres),
    ]);
  }
  return t.compileValue<SimPartition>(base, [
    str('nodes.configured', (p) => p.nodeRange),
    num('nodes.total', (p) => p.nodes.length),
    str('tres.configured', tres),
    num('cpus.total', cpus),
    num('defaults.time.number', (p) => p.defaultTimeMin),
    num('maximums.time.number', (p) => p.maxTimeMin),
    str('name', (p) => p.name),
    num('priority.tier', (p) => p.priorityTier),
  ]);
}
