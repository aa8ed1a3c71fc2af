// The members of a node and of a job record that buildNode/buildJob read, in any API version. The stream
// reader parses only these (a v0.0.44 job has about 150 members; the exporter needs about 25), which is most of
// what makes a 1 GB /jobs answer cheap. test/unit/record-fields.test.ts proves on every captured version that the
// adapters read nothing outside these sets, so a new field read in common.ts must be added here.
export const NODE_FIELDS: ReadonlySet<string> = new Set([
  'name', 'state', 'state_flags', 'partitions', 'cpus', 'alloc_cpus', 'real_memory', 'alloc_memory', 'free_memory',
  'free_mem', 'cpu_load', 'gres', 'gres_used', 'reason', 'reason_changed_at', 'features',
]);

export const JOB_FIELDS: ReadonlySet<string> = new Set([
  'job_id', 'cluster', 'job_state', 'eligible_time', 'cpus', 'node_count', 'tres_alloc_str', 'tres_req_str', 'memory_per_node', 'memory_per_cpu',
  'tres_per_job', 'tres_per_node', 'tres_per_task', 'tasks', 'gres_detail', 'array_task_string', 'array_job_id', 'array_task_id',
  'name', 'user_name', 'account', 'partition', 'qos', 'state_reason', 'submit_time', 'start_time', 'end_time',
  'time_limit', 'priority',
]);
