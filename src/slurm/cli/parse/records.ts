// `scontrol show <entity> -o`: one record per line, `Key=Value Key=Value ...`; without -o a record spans several
// indented lines and records are separated by blank lines. Values may hold spaces (Reason=lab: bad DIMM
// [root@2026-11-24T07:10:01], OS=Linux 6.1 #1 SMP) and `=` (CfgTRES=cpu=4,mem=4000M), so a line is split only
// where whitespace is followed by something that looks like a key (see isBoundary).
import { clean, commaList, duration, fail, localTime, number } from './values.ts';

export interface KvRecord {
  /** The command, for error messages: `scontrol show nodes`. */
  command: string;
  /** 1-based line the record starts on. */
  line: number;
  fields: Map<string, string>;
}

// Keys whose value is free text a user or admin typed (or uname printed): inside them, only a key scontrol is
// known to print ends the value, so `Reason=fix GPU=bad` stays one reason.
const FREE_TEXT: ReadonlySet<string> = new Set([
  'Reason', 'Comment', 'AdminComment', 'SystemComment', 'Extra', 'OS', 'Command', 'WorkDir', 'StdOut', 'StdErr', 'StdIn',
]);

// Keys scontrol prints for nodes, partitions, jobs, reservations and licenses (22.05 captures plus later releases).
const KNOWN_KEYS: ReadonlySet<string> = new Set(
  (
    'Account Accounts AccrueTime ActiveFeatures AdminComment AllocMem AllocNode:Sid AllocNodes AllocTRES AllowAccounts ' +
    'AllowGroups AllowQos Arch ArrayJobId ArrayTaskId ArrayTaskThrottle AvailableFeatures AveWatts BatchFlag BatchHost ' +
    'Boards BootTime BurstBuffer CPUAlloc CPUEfctv CPULoad CPUTot CPUs/Task CPUSpecList CapWatts CfgTRES Command Comment ' +
    'Contiguous CoreCnt CoreSpec CoreSpecCount CoresPerSocket CurrentWatts Deadline DefMemPerCPU DefMemPerNode Default ' +
    'DefaultTime DelayBoot DenyAccounts DenyQos Dependency DisableRootJobs Duration EligibleTime EndTime ExcNodeList ' +
    'ExclusiveUser ExitCode ExtSensorsJoules ExtSensorsTemp ExtSensorsWatts Extra Features Flags Free FreeMem GraceTime ' +
    'Gres GresDrain GresUsed GroupId Groups Hidden InstanceId InstanceType JobDefaults JobId JobName JobState LLN ' +
    'LastBusyTime LastConsumed LastDeficit LastSchedEval LastUpdate LicenseName Licenses MCS_label MaxCPUsPerNode ' +
    'MaxCPUsPerSocket MaxMemPerCPU MaxMemPerNode MaxNodes MaxStartDelay MaxTime MemSpecLimit MinCPUsNode MinMemoryCPU ' +
    'MinMemoryNode MinNodes MinTmpDiskNode Network NextState Nice NodeAddr NodeCnt NodeHostName NodeList NodeName Nodes ' +
    'NtasksPerN:B:S:C NumCPUs NumNodes NumTasks OS OverSubscribe OverTimeLimit Owner Partition PartitionName Partitions ' +
    'Port Power PowerDownOnIdle PreemptMode Priority PriorityJobFactor PriorityTier QOS QoS RealMemory Reason ' +
    'ReasonTime ReasonUser Reboot Remote ReqB:S:C:T ReqNodeList ReqResv Requeue ReservationName Reserved ' +
    'ResizeTime ResumeAfterTime Restarts RestrictedCoresPerGPU RootOnly RunTime SchedNodeList Scheduler ' +
    'SecsPreSuspend SelectTypeParameters SlurmdStartTime Sockets Socks/Node StartTime State StdErr StdIn StdOut ' +
    'SubmitTime SuspendTime SuspendTimeout SystemComment TRES ThreadsPerCore TimeLimit TimeMin TmpDisk Topology ' +
    'Total TotalCPUs TotalNodes TresPerNode Used UserId Users Version Watts Weight WorkDir'
  ).split(' '),
);

// A key: starts upper-case (scontrol's keys are CamelCase; `a=b` inside a value is not one) and holds no spaces.
const KEY = /^[A-Z][A-Za-z0-9_:/]*$/;

function isBoundary(key: string, current: string | undefined): boolean {
  if (!KEY.test(key)) return false;
  return current === undefined || !FREE_TEXT.has(current) || KNOWN_KEYS.has(key);
}

/** Splits one line into its Key=Value pairs; throws when it does not start with `Key=`. */
function splitLine(text: string, command: string, lineNo: number, into: Map<string, string>): void {
  const line = text.trim();
  const first = /^([A-Za-z][A-Za-z0-9_:/]*)=/.exec(line);
  if (!first) fail(command, lineNo, `expected Key=Value, got "${line.slice(0, 80)}"`);
  let key = first[1] as string;
  let start = first[0].length;
  // Candidate boundaries: whitespace, then a key, then '='.
  const re = /\s+([^\s=]+)=/g;
  re.lastIndex = start;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    const next = m[1] as string;
    if (!isBoundary(next, key)) continue;
    into.set(key, line.slice(start, m.index).trim());
    key = next;
    start = m.index + m[0].length;
  }
  into.set(key, line.slice(start).trim());
}

// Output that says there is nothing: `No reservations in the system`, `No licenses configured`.
const NOTHING = /^No [A-Za-z ]+(in the system|configured|found)\.?$/i;

/**
 * The records of `scontrol show <entity>` output, one-liner (-o) or multi-line. Empty output and Slurm's
 * "No ... in the system" give no records; a line that is not Key=Value throws a 'parse' SlurmFetchError.
 */
export function parseRecords(text: string, command: string): KvRecord[] {
  const out: KvRecord[] = [];
  let current: KvRecord | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    if (raw.trim() === '') {
      current = undefined; // a blank line ends a multi-line record
      continue;
    }
    if (NOTHING.test(raw.trim()) && out.length === 0) continue;
    // An indented line continues the multi-line record above it; any other line starts a record.
    if (!/^\s/.test(raw) || current === undefined) {
      current = { command, line: i + 1, fields: new Map() };
      out.push(current);
    }
    splitLine(raw, command, i + 1, current.fields);
  }
  return out;
}

// ---- typed access to one record ------------------------------------------------------------------------------

/** Throws unless every key is present: a missing one means truncated or foreign output. */
export function requireKeys(r: KvRecord, keys: readonly string[]): void {
  const missing = keys.filter((k) => !r.fields.has(k));
  if (missing.length > 0) fail(r.command, r.line, `record without ${missing.join(', ')} (truncated or not ${r.command} output)`);
}

/** The value, '' when absent or a no-value word (`(null)`, `N/A`, `None`). */
export function textOf(r: KvRecord, key: string): string {
  return clean(r.fields.get(key));
}

/** The value as it stands (trimmed), '' when absent; for fields where `None` is a real value (job Reason). */
export function rawOf(r: KvRecord, key: string): string {
  return (r.fields.get(key) ?? '').trim();
}

/** A number; undefined when absent, a no-value word or UNLIMITED; throws on anything else. */
export function numberOf(r: KvRecord, key: string): number | undefined {
  const n = number(r.fields.get(key));
  if (Number.isNaN(n)) fail(r.command, r.line, `${key}=${r.fields.get(key) ?? ''} is not a number`);
  return n;
}

export function listOfKey(r: KvRecord, key: string): string[] {
  return commaList(r.fields.get(key));
}

/** A duration in seconds (MaxTime=1-00:00:00); undefined when unlimited or unset; throws on anything else. */
export function durationOf(r: KvRecord, key: string): number | undefined {
  const s = duration(r.fields.get(key));
  if (Number.isNaN(s)) fail(r.command, r.line, `${key}=${r.fields.get(key) ?? ''} is not a duration`);
  return s;
}

/** A timestamp in unix seconds, 0 when unset; throws when it is not one (SLURM_TIME_FORMAT must be unset or standard). */
export function timeOf(r: KvRecord, key: string): number {
  const t = localTime(r.fields.get(key));
  if (t === undefined) fail(r.command, r.line, `${key}=${r.fields.get(key) ?? ''} is not a timestamp (is SLURM_TIME_FORMAT set?)`);
  return t;
}
