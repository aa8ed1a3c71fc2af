// `squeue -a -h -t all -O <SQUEUE_FORMAT>` → SlurmJob[], for a Slurm without `squeue --json`. Each line is turned
// into the v0.0.38 job record the REST adapter reads and handed to its buildJob, so memory (from the TRES string),
// GPUs and GRES models (tres-alloc plus tres-per-*), states and time limits come out exactly as over REST.
import type { Anomalies, SlurmJob } from '../../model.ts';
import { type Rec, buildJob, jobState, note } from '../../rest/adapters/common.ts';
import { type DelimitedRow, formatOf, parseDelimited } from './delimited.ts';
import { clean, duration, fail, localTime, number } from './values.ts';

const COMMAND = 'squeue';

/** The -O fields the parser reads, in the order the source must ask for them. */
export const SQUEUE_FIELDS: readonly string[] = [
  'JobID', 'ArrayJobID', 'ArrayTaskID', 'Cluster', 'UserName', 'Account', 'Partition', 'QOS', 'State', 'Reason',
  'NumCPUs', 'NumNodes', 'NumTasks', 'tres-alloc', 'tres-per-job', 'tres-per-node', 'tres-per-task', 'TimeLimit',
  'SubmitTime', 'EligibleTime', 'StartTime', 'EndTime', 'PriorityLong', 'Name',
];

/** The argument of -O: every field with the `:|` suffix, so no value is cut at 20 characters. */
export const SQUEUE_FORMAT: string = formatOf(SQUEUE_FIELDS);

function num(row: DelimitedRow, field: string): number | undefined {
  const n = number(row.get(field));
  if (Number.isNaN(n)) fail(COMMAND, row.line, `${field} "${row.get(field)}" is not a number`);
  return n;
}

function time(row: DelimitedRow, field: string): number {
  const t = localTime(row.get(field));
  if (t === undefined) fail(COMMAND, row.line, `${field} "${row.get(field)}" is not a timestamp (is SLURM_TIME_FORMAT set?)`);
  return t;
}

// `1234`; a heterogeneous job component prints `1234+1`, of which only the leader's id is known here.
function jobId(row: DelimitedRow, a: Anomalies): number {
  const m = /^(\d+)(\+\d+)?$/.exec(row.get('JobID'));
  if (!m) fail(COMMAND, row.line, `JobID "${row.get('JobID')}" is not a job id`);
  if (m[2]) note(a, `squeue heterogeneous job id "${row.get('JobID')}"`);
  return Number(m[1]);
}

/** ArrayTaskID: N/A (no array), a task id (`3`), or the pending range record's task string (`4-8%3`). */
function arrayFields(row: DelimitedRow): Rec {
  const task = clean(row.get('ArrayTaskID'));
  if (task === '') return { array_job_id: 0 };
  const arrayJobId = num(row, 'ArrayJobID') ?? 0;
  return /^\d+$/.test(task) ? { array_job_id: arrayJobId, array_task_id: Number(task) } : { array_job_id: arrayJobId, array_task_string: task };
}

function timeLimitMinutes(row: DelimitedRow): number | undefined {
  const s = duration(row.get('TimeLimit'));
  if (Number.isNaN(s)) fail(COMMAND, row.line, `TimeLimit "${row.get('TimeLimit')}" is not a duration`);
  return s === undefined ? undefined : s / 60;
}

/** The REST v0.0.38 job record this line stands for (the members buildJob reads). */
function restRecord(row: DelimitedRow, a: Anomalies): Rec {
  const state = row.get('State');
  // tres-alloc prints the allocation once there is one, else the request: file it where the REST answer would.
  const tres = clean(row.get('tres-alloc'));
  const pending = state.toUpperCase() === 'PENDING';
  return {
    job_id: jobId(row, a),
    ...arrayFields(row),
    cluster: clean(row.get('Cluster')),
    name: row.get('Name'),
    user_name: row.get('UserName'),
    account: clean(row.get('Account')),
    partition: clean(row.get('Partition')),
    qos: clean(row.get('QOS')),
    job_state: state,
    state_reason: row.get('Reason'),
    cpus: num(row, 'NumCPUs'),
    node_count: num(row, 'NumNodes'),
    tasks: num(row, 'NumTasks'),
    tres_alloc_str: pending ? '' : tres,
    tres_req_str: tres,
    tres_per_job: clean(row.get('tres-per-job')),
    tres_per_node: clean(row.get('tres-per-node')),
    tres_per_task: clean(row.get('tres-per-task')),
    time_limit: timeLimitMinutes(row),
    submit_time: time(row, 'SubmitTime'),
    eligible_time: time(row, 'EligibleTime'),
    start_time: time(row, 'StartTime'),
    end_time: time(row, 'EndTime'),
    priority: num(row, 'PriorityLong'),
  };
}

/**
 * squeue stdout → jobs. `fields` is the -O list the output was made with (SQUEUE_FIELDS unless testing another);
 * `terminated` says every field had the `|` suffix. Throws SlurmFetchError('parse') on a malformed line.
 */
export function parseSqueue(text: string, a: Anomalies, fields: readonly string[] = SQUEUE_FIELDS, terminated = true): SlurmJob[] {
  const out: SlurmJob[] = [];
  for (const row of parseDelimited(text, COMMAND, { fields, terminated, absorb: 'Name' })) {
    if (row.get('JobID') === '' || row.get('State') === '') fail(COMMAND, row.line, 'line without a JobID or State');
    const job = buildJob(restRecord(row, a), a, (r, an) => jobState(r.job_state, an));
    if (job) out.push(job);
  }
  return out;
}
