// `sdiag` text → SchedulerStats, in the units the REST adapters' buildDiag gives: microsecond timings divided by
// 1e6, timestamps as the unix seconds sdiag prints in parentheses (0 meaning never → undefined).
// Layout: top-level `Label: value` lines, section headers without indentation (`Main schedule statistics
// (microseconds):`, `Backfilling stats`), tab-indented `Label: value` lines inside, and RPC tables of rows
//   REQUEST_JOB_INFO    ( 2003) count:26     ave_time:1150   total_time:29907
import type { Anomalies, RpcStat, RpcUserStat, SchedulerStats } from '../../model.ts';
import { note } from '../../rest/adapters/common.ts';
import { fail } from './values.ts';

const COMMAND = 'sdiag';

type NumKey = { [K in keyof SchedulerStats]-?: SchedulerStats[K] extends number | undefined ? K : never }[keyof SchedulerStats];
/** n: a count; us: microseconds → seconds; epoch: `<date> (<unix>)`, 0 → undefined. */
type Kind = 'n' | 'us' | 'epoch';

// section|label → model field. Sections: '' (top level), main, backfill.
const FIELDS: Record<string, [NumKey, Kind]> = {
  '|Data since': ['statsResetTime', 'epoch'],
  '|Server thread count': ['serverThreadCount', 'n'],
  '|Agent queue size': ['agentQueueSize', 'n'],
  '|Agent count': ['agentCount', 'n'],
  '|Agent thread count': ['agentThreadCount', 'n'],
  '|DBD Agent queue size': ['dbdAgentQueueSize', 'n'],
  '|Jobs submitted': ['jobsSubmitted', 'n'],
  '|Jobs started': ['jobsStarted', 'n'],
  '|Jobs completed': ['jobsCompleted', 'n'],
  '|Jobs canceled': ['jobsCanceled', 'n'],
  '|Jobs failed': ['jobsFailed', 'n'],
  '|Jobs pending': ['jobsPending', 'n'],
  '|Jobs running': ['jobsRunning', 'n'],
  'main|Last cycle': ['scheduleCycleLastSeconds', 'us'],
  'main|Max cycle': ['scheduleCycleMaxSeconds', 'us'],
  'main|Total cycles': ['scheduleCycleTotal', 'n'],
  'main|Mean cycle': ['scheduleCycleMeanSeconds', 'us'],
  'main|Mean depth cycle': ['scheduleCycleDepthMean', 'n'],
  'main|Cycles per minute': ['scheduleCyclePerMinute', 'n'],
  'main|Last queue length': ['scheduleQueueLength', 'n'],
  'backfill|Total backfilled jobs (since last slurm start)': ['backfillJobsTotal', 'n'],
  'backfill|Total backfilled jobs (since last stats cycle start)': ['backfillJobsSinceReset', 'n'],
  'backfill|Total backfilled heterogeneous job components': ['backfillHeterogeneousJobsTotal', 'n'],
  'backfill|Total cycles': ['backfillCycleTotal', 'n'],
  'backfill|Last cycle when': ['backfillLastCycleTime', 'epoch'],
  'backfill|Last cycle': ['backfillCycleLastSeconds', 'us'],
  'backfill|Max cycle': ['backfillCycleMaxSeconds', 'us'],
  'backfill|Mean cycle': ['backfillCycleMeanSeconds', 'us'],
  'backfill|Last depth cycle': ['backfillLastDepth', 'n'],
  'backfill|Last depth cycle (try sched)': ['backfillLastDepthTry', 'n'],
  'backfill|Depth Mean': ['backfillDepthMean', 'n'],
  'backfill|Last queue length': ['backfillQueueLength', 'n'],
  'backfill|Queue length mean': ['backfillQueueLengthMean', 'n'],
  'backfill|Last table size': ['backfillTableSize', 'n'],
  'backfill|Mean table size': ['backfillTableSizeMean', 'n'],
};

// What sdiag prints that the model has no field for: read past without an anomaly.
const IGNORED: ReadonlySet<string> = new Set([
  '|sdiag output at', '|RPC queue enabled', '|Job states ts', '|Latency for 1000 calls to gettimeofday()',
  'backfill|Depth Mean (try depth)',
]);

// Section headers → section ids; `exit` sections (main scheduler / backfill exit reasons) and pending RPCs are skipped.
function sectionOf(header: string): string | undefined {
  if (/^Main schedule statistics/i.test(header)) return 'main';
  if (/^Backfilling stats/i.test(header)) return 'backfill';
  if (/by message type$/i.test(header)) return 'rpc_type';
  if (/by user$/i.test(header)) return 'rpc_user';
  if (/^(Main scheduler exit|Backfill exit|Pending RPC)/i.test(header)) return 'skip';
  return undefined;
}

function emptyStats(): SchedulerStats {
  const s = { backfillActive: undefined, rpcByType: [] as RpcStat[], rpcByUser: [] as RpcUserStat[] } as SchedulerStats;
  for (const [key] of Object.values(FIELDS)) s[key] = undefined;
  return s;
}

interface State {
  stats: SchedulerStats;
  section: string;
  a: Anomalies;
  line: number;
}

function value(raw: string, kind: Kind, st: State): number | undefined {
  const m = kind === 'epoch' ? /\((-?\d+)\)\s*$/.exec(raw) : /^(-?\d+(?:\.\d+)?)(?:\s+\S+)?$/.exec(raw);
  if (!m) fail(COMMAND, st.line, `"${raw}" is not a number`);
  const n = Number(m[1]);
  if (kind === 'us') return n / 1e6;
  return kind === 'epoch' && n === 0 ? undefined : n;
}

function labelled(label: string, raw: string, st: State): void {
  const key = `${st.section}|${label}`;
  const field = FIELDS[key];
  if (field) st.stats[field[0]] = value(raw, field[1], st);
  else if (!IGNORED.has(key)) note(st.a, `sdiag field "${label}"${st.section ? ` in ${st.section}` : ''}`);
}

const RPC_ROW = /^(\S+)\s*\(\s*(\d+)\)\s+(.*)$/;

function rpcRow(line: string, st: State): void {
  const m = RPC_ROW.exec(line);
  const stats = new Map([...(m?.[3] ?? '').matchAll(/(\w+):(\d+)/g)].map((x) => [x[1], Number(x[2])]));
  if (!m || !stats.has('count') || !stats.has('total_time')) fail(COMMAND, st.line, `expected an RPC row "<name> (<id>) count:N ave_time:N total_time:N", got "${line}"`);
  const row = { count: stats.get('count') ?? 0, totalTimeSeconds: (stats.get('total_time') ?? 0) / 1e6 };
  if (st.section === 'rpc_type') st.stats.rpcByType.push({ name: m[1] as string, ...row });
  else st.stats.rpcByUser.push({ user: m[1] as string, ...row });
}

function indented(line: string, st: State): void {
  if (st.section === 'skip' || st.section === 'unknown') return;
  if (st.section === 'rpc_type' || st.section === 'rpc_user') return rpcRow(line, st);
  const kv = /^(.+?):\s+(.*)$/.exec(line);
  if (!kv) fail(COMMAND, st.line, `expected "Label: value", got "${line}"`);
  labelled(kv[1] as string, (kv[2] as string).trim(), st);
}

function topLevel(line: string, st: State): void {
  const header = line.replace(/:$/, '');
  // Known headers first: `Backfilling stats (WARNING: data obtained ...)` has a colon too.
  let section = sectionOf(header);
  // The banner's two dated lines have no colon: `Data since      Tue Nov 24 07:09:58 2026 (1795504198)`.
  const kv = section === undefined ? (/^(sdiag output at|Data since)\s+(.*)$/.exec(line) ?? /^(.+?):\s+(\S.*)$/.exec(line)) : null;
  if (kv) {
    st.section = '';
    return labelled(kv[1] as string, (kv[2] as string).trim(), st);
  }
  if (section === undefined) note(st.a, `sdiag section "${header}"`);
  section ??= 'unknown';
  st.section = section;
  // A backfill header with a warning means the statistics were taken while a cycle ran (bf_active).
  if (section === 'backfill') st.stats.backfillActive = /WARNING/i.test(header);
}

/** `sdiag` stdout → scheduler statistics; throws SlurmFetchError('parse') on output that is not sdiag's. */
export function parseSdiag(text: string, a: Anomalies): SchedulerStats {
  const st: State = { stats: emptyStats(), section: '', a, line: 0 };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    st.line = i + 1;
    const raw = (lines[i] as string).replace(/\s+$/, '');
    if (raw === '' || /^\*+$/.test(raw)) continue;
    if (/^\s/.test(raw)) indented(raw.trim(), st);
    else topLevel(raw, st);
  }
  if (st.stats.serverThreadCount === undefined) fail(COMMAND, 0, 'no "Server thread count" line (empty, truncated or not sdiag output)');
  return st.stats;
}
