// /jobs records for one API version, spliced into that version's real captured job record.
import { Cluster, TRACKED_GPU_MODELS, type SimJob } from './cluster.ts';
import { type Template, bool, indentAt, num, numField, pretty, raw, str, strArray, type Render, type Slot } from './template.ts';

const HELD = new Set(['JobHeldUser', 'JobHeldAdmin']);

/** A node's part of a job's allocation. */
interface AllocItem {
  j: SimJob;
  k: number;
}

/** Renders a list value at `path` from its first template item, for any number of items. */
function listRenderer<I>(t: Template, path: string, item: Render<I>): (items: I[]) => string {
  const list = t.span(path);
  const first = t.span(`${path}.0`);
  const itemIndent = indentAt(t.text, first.start);
  const listIndent = indentAt(t.text, list.start);
  const sep = `,\n${itemIndent}`;
  const empty = t.style.inlineEmpty ? '[]' : `[\n${listIndent}]`;
  return (items) => {
    if (items.length === 0) return empty;
    let s = `[\n${itemIndent}${item(items[0]!)}`;
    for (let k = 1; k < items.length; k++) s += sep + item(items[k]!);
    return `${s}\n${listIndent}]`;
  };
}

/** Memoized by a small integer key (cores per node): the same text for every job of that size. */
function memo(fn: (n: number) => string): (n: number) => string {
  const cache = new Map<number, string>();
  return (n) => {
    let s = cache.get(n);
    if (s === undefined) {
      s = fn(n);
      cache.set(n, s);
    }
    return s;
  };
}

function jobResources(t: Template, c: Cluster, base: string): Slot<SimJob> {
  const jr = `${base}.job_resources`;
  if (t.has(`${jr}.nodes.allocation`)) {
    // v0.0.41+: structured allocation with sockets and cores.
    const alloc = `${jr}.nodes.allocation`;
    const sockIndent = indentAt(t.text, t.span(`${alloc}.0.sockets`).start);
    const sockets = memo((n) =>
      pretty([{ index: 0, cores: Array.from({ length: n }, (_, k) => ({ index: k, status: ['ALLOCATED'] })) }], sockIndent, t.style),
    );
    const item = t.compileValue<AllocItem>(`${alloc}.0`, [
      num('index', (a) => a.k),
      str('name', (a) => c.nodes[a.j.alloc[a.k]!]!.name),
      num('cpus.count', (a) => a.j.cpusPerNode),
      num('memory.allocated', (a) => a.j.memPerNodeMb),
      raw('sockets', () => (a) => sockets(a.j.cpusPerNode)),
    ]);
    const list = listRenderer(t, alloc, item);
    const whole = t.compileValue<SimJob>(jr, [
      num('nodes.count', (j) => j.alloc.length),
      str('nodes.list', (j) => c.nodeNames(j)),
      raw('nodes.allocation', () => (j) => list(j.alloc.map((_, k) => ({ j, k })))),
      num('cpus', (j) => j.cpusPerNode * j.alloc.length),
    ]);
    return raw('job_resources', () => (j) => (j.alloc.length ? whole(j) : 'null'));
  }
  // v0.0.38 / v0.0.40: allocated_nodes with a sockets -> cores map.
  const an = `${jr}.allocated_nodes`;
  const sockIndent = indentAt(t.text, t.span(`${an}.0.sockets`).start);
  const sockets = memo((n) => pretty({ 0: { cores: Object.fromEntries(Array.from({ length: n }, (_, k) => [String(k), 'allocated'])) } }, sockIndent, t.style));
  const item = t.compileValue<AllocItem>(`${an}.0`, [
    raw('sockets', () => (a) => sockets(a.j.cpusPerNode)),
    str('nodename', (a) => c.nodes[a.j.alloc[a.k]!]!.name),
    num('memory_allocated', (a) => a.j.memPerNodeMb),
  ]);
  const list = listRenderer(t, an, item);
  const whole = t.compileValue<SimJob>(jr, [
    str('nodes', (j) => c.nodeNames(j)),
    num('allocated_cores', (j) => j.cpusPerNode * j.alloc.length),
    num('allocated_hosts', (j) => j.alloc.length),
    raw('allocated_nodes', () => (j) => list(j.alloc.map((_, k) => ({ j, k })))),
  ]);
  if (t.style.inlineEmpty) {
    // 22.05 leaves job_resources out when nothing is allocated.
    return raw('job_resources', ({ memberPrefix }) => (j) => (j.alloc.length ? memberPrefix + whole(j) : ''), { member: true });
  }
  return raw('job_resources', ({ indent }) => (j) => (j.alloc.length ? whole(j) : `{\n${indent}}`));
}

function jobStateSlot(t: Template, base: string): Slot<SimJob> {
  const isArray = Array.isArray(t.valueAt(`${base}.job_state`));
  if (!isArray) return str('job_state', (j) => j.state);
  const completing = ['COMPLETED', 'COMPLETING'];
  const cache = new Map<string, string[]>();
  return strArray('job_state', (j) => {
    if (j.state === 'COMPLETING') return completing;
    if (!j.flag) return (cache.get(j.state) ?? cache.set(j.state, [j.state]).get(j.state))!;
    const k = `${j.state}+${j.flag}`;
    return (cache.get(k) ?? cache.set(k, [j.state, j.flag]).get(k))!;
  });
}

function exitCodeSlots(t: Template, base: string): Slot<SimJob>[] {
  if (!t.has(`${base}.exit_code.status`)) return numField<SimJob>(t, base, 'exit_code', (j) => j.exitCode * 256);
  const ok = ['SUCCESS'];
  const err = ['ERROR'];
  return [
    strArray('exit_code.status', (j) => (j.exitCode ? err : ok)),
    num('exit_code.return_code.number', (j) => j.exitCode),
  ];
}

/**
 * A TRES string. GPUs as `gres/gpu=N`, plus `gres/gpu:<model>=N` for the models slurm.conf accounts as typed TRES
 * (TRACKED_GPU_MODELS): requested when the job named such a model, allocated per model of the nodes it got.
 */
function tres(j: SimJob, nodes: number, models: readonly string[]): string {
  const cpus = j.cpusPerNode * nodes;
  let s = `cpu=${cpus},mem=${j.memPerNodeMb * nodes}M,node=${nodes},billing=${cpus}`;
  if (!j.gpusPerNode) return s;
  s += `,gres/gpu=${j.gpusPerNode * nodes}`;
  for (const m of new Set(models)) {
    if (TRACKED_GPU_MODELS.has(m)) s += `,gres/gpu:${m}=${j.gpusPerNode * models.filter((x) => x === m).length}`;
  }
  return s;
}

/** `gpu:a100:2` or `gpu:2` (any model), as the job asked. */
function gpuSpec(j: SimJob, n: number): string {
  return j.gpuModel ? `gpu:${j.gpuModel}:${n}` : `gpu:${n}`;
}

/**
 * The request fields of a GPU job: --gres and --gpus-per-node fill tres_per_node, --gpus tres_per_job with the
 * whole job's count. 22.05 prefixes `gres:`, 23.02 and later `gres/`.
 */
function gpuRequest(legacy: boolean): { perNode(j: SimJob): string; perJob(j: SimJob): string; flag(j: SimJob): string } {
  const prefix = legacy ? 'gres:' : 'gres/';
  return {
    perNode: (j) => (j.gpusPerNode && j.gpuAsk !== 'gpus' ? prefix + gpuSpec(j, j.gpusPerNode) : ''),
    perJob: (j) => (j.gpusPerNode && j.gpuAsk === 'gpus' ? prefix + gpuSpec(j, j.gpusPerNode * j.nodeCount) : ''),
    flag: (j) => {
      if (!j.gpusPerNode) return '';
      const model = j.gpuModel ? `${j.gpuModel}:` : '';
      if (j.gpuAsk === 'gres') return ` --gres=${gpuSpec(j, j.gpusPerNode)}`;
      if (j.gpuAsk === 'gpus-per-node') return ` --gpus-per-node=${model}${j.gpusPerNode}`;
      return ` --gpus=${model}${j.gpusPerNode * j.nodeCount}`;
    },
  };
}

function gpuRange(n: number): string {
  return n === 1 ? '0' : `0-${n - 1}`;
}

/** Compiles the /jobs record renderer of one version for a cluster. */
export function compileJobRecord(t: Template, c: Cluster): Render<SimJob> {
  const base = 'jobs.0';
  const nf = (path: string, get: (j: SimJob) => number | null, optional = false) => numField<SimJob>(t, base, path, get, optional);
  const user = (j: SimJob) => c.users[j.user]!;
  const held = (j: SimJob) => j.state === 'PENDING' && HELD.has(j.reason);
  const gpu = gpuRequest(!Array.isArray(t.valueAt(`${base}.job_state`)));
  const models = (j: SimJob) => j.alloc.map((i) => c.nodes[i]!.gpuType);
  const slots: Slot<SimJob>[] = [
    str('account', (j) => user(j).account),
    ...nf('accrue_time', (j) => (held(j) ? 0 : j.submit)),
    ...nf('array_job_id', (j) => j.arrayJobId),
    ...nf('array_task_id', (j) => (j.arrayTaskId >= 0 ? j.arrayTaskId : null)),
    ...nf('array_max_tasks', (j) => j.arrayLimit),
    str('array_task_string', (j) => Cluster.arrayTaskString(j)),
    num('association_id', (j) => 10 + j.user),
    str('batch_host', (j) => (j.alloc.length ? c.nodes[j.alloc[0]!]!.name : '')),
    str('cluster', () => c.name),
    ...exitCodeSlots(t, base),
    ...nf('eligible_time', (j) => (held(j) ? 0 : j.submit)),
    ...nf('end_time', (j) => j.end),
    num('group_id', (j) => user(j).uid),
    str('group_name', (j) => user(j).name),
    num('job_id', (j) => j.id),
    jobResources(t, c, base),
    jobStateSlot(t, base),
    ...nf('last_sched_evaluation', () => c.lastUpdate),
    str('mail_user', (j) => user(j).name, true),
    str('name', (j) => j.name),
    str('nodes', (j) => c.nodeNames(j)),
    ...nf('cpus', (j) => j.cpusPerNode * j.nodeCount),
    ...nf('node_count', (j) => j.nodeCount),
    ...nf('tasks', (j) => j.cpusPerNode * j.nodeCount),
    str('partition', (j) => j.partition),
    ...nf('memory_per_cpu', () => 2000),
    bool('hold', held, true),
    ...nf('priority', (j) => (held(j) ? 0 : j.priority)),
    str('required_nodes', () => ''),
    str('scheduled_nodes', () => '', true),
    ...nf('start_time', (j) => j.start),
    str('state_reason', (j) => j.reason),
    str('standard_output', (j) => `/home/${user(j).name}/slurm-%j.out`),
    str('stdout_expanded', (j) => `/home/${user(j).name}/slurm-${j.id}.out`, true),
    ...nf('submit_time', (j) => j.submit),
    str('submit_line', (j) => `sbatch -p ${j.partition} -N ${j.nodeCount} -n ${j.cpusPerNode * j.nodeCount}${gpu.flag(j)} --time=${j.timeLimitMin} ${j.name}.sh`, true),
    ...nf('time_limit', (j) => j.timeLimitMin),
    str('tres_per_node', gpu.perNode),
    str('tres_per_job', gpu.perJob),
    strArray('gres_detail', (j) => (j.gpusPerNode && j.alloc.length ? j.alloc.map((i) => `gpu:${c.nodes[i]!.gpuType}:${j.gpusPerNode}(IDX:${gpuRange(j.gpusPerNode)})`) : [])),
    str('tres_req_str', (j) => tres(j, j.nodeCount, Array.from({ length: j.nodeCount }, () => j.gpuModel))),
    str('tres_alloc_str', (j) => (j.alloc.length ? tres(j, j.alloc.length, models(j)) : '')),
    num('user_id', (j) => user(j).uid),
    str('user_name', (j) => user(j).name),
    str('current_working_directory', (j) => `/home/${user(j).name}`),
    ...nf('billable_tres', (j) => j.cpusPerNode * j.nodeCount),
  ];
  if (t.has(`${base}.step_id.job_id.number`)) slots.push(num('step_id.job_id.number', (j) => j.id));
  return t.compileValue(base, slots);
}
