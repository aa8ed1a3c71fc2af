// Turning successive jobs snapshots into events (a job started, a job ended), each counted once. slurmrestd
// only lists the jobs slurmctld currently holds, so an event is "first seen" rather than "happened": the
// collectors that count events remember, per job id, the start or end time already accounted for.
//
// Baseline: the first snapshot after the exporter starts is only remembered, never counted, so a restart
// does not count the jobs already running or finished a second time (the counters restart at 0, which
// rate() and increase() read as a reset). The memory of job ids is bounded by the newest snapshot.
import type { Collector } from './collector.ts';
import type { SlurmJob } from '../slurm/model.ts';
import { JOB_TERMINAL_STATES } from '../slurm/states.ts';
import { OTHER } from './labels.ts';

/** A collector that remembers jobs between snapshots, and says how many (for memory checks). */
export interface StatefulCollector extends Collector {
  remembered(): number;
}

/** Job states after its start: a job seen in one of them with a start time has started. */
const STARTED_STATES: ReadonlySet<string> = new Set(['running', 'suspended', ...JOB_TERMINAL_STATES]);

/** End states a pending job can reach without running; Slurm then sets start and end time to that moment. */
const ENDED_BEFORE_START: ReadonlySet<string> = new Set(['cancelled', 'deadline']);

export const TERMINAL_STATES: ReadonlySet<string> = new Set(JOB_TERMINAL_STATES);

/**
 * Whether the job has started. A job cancelled while pending has start = end (> 0) without ever running;
 * one that really ran for less than a second looks the same and is treated as never started.
 */
export function hasStarted(j: SlurmJob): boolean {
  if (j.startTime <= 0 || !STARTED_STATES.has(j.state)) return false;
  return !(ENDED_BEFORE_START.has(j.state) && j.startTime === j.endTime);
}

/**
 * Remembers, per job id, the time (start or end) of the event last accounted for; ids the newest snapshot no
 * longer lists are forgotten, so memory follows the size of the queue. A requeued job that starts (or ends)
 * again has a new time and is a new event. Reading the same snapshot twice finds nothing new the second time,
 * which keeps collect() idempotent.
 */
export class JobMarks {
  private marks = new Map<number, number>();
  private next = new Map<number, number>();
  private baselined = false;

  /** Start reading a snapshot. */
  begin(): void {
    this.next = new Map();
  }

  /** Whether the job's event at time t is new (and not part of the baseline); marks it either way. */
  isNew(jobId: number, t: number): boolean {
    this.next.set(jobId, t);
    return this.baselined && this.marks.get(jobId) !== t;
  }

  /** Finish the snapshot: ids it did not mark are forgotten. */
  commit(): void {
    this.marks = this.next;
    this.baselined = true;
  }

  /** Ids remembered (for tests and memory checks). */
  get size(): number {
    return this.marks.size;
  }
}

/**
 * Label values admitted first come, first served up to a limit; later ones map to "other" for the life of the
 * process. Counters need this: a label set that changed with the ranking of the day would make series flap.
 */
export class FirstComeLabels {
  private readonly kept = new Set<string>();

  label(value: string, limit: number): string {
    if (this.kept.has(value)) return value;
    if (this.kept.size >= limit) return OTHER;
    this.kept.add(value);
    return value;
  }
}

/** The partition a job is counted under: the one it runs in, or for a job that never ran the first it named. */
export function partitionOf(j: SlurmJob): string {
  return j.partitions[0] ?? '';
}
