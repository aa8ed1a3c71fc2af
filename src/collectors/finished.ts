// Jobs that ended, by end state and partition, as counters the exporter keeps itself: each job once, when
// first seen ended. sdiag's jobs_completed/failed/canceled say how many ended but not where, and reset at
// midnight; these only reset when the exporter restarts.
import type { CollectContext } from './collector.ts';
import type { MetricDesc, MetricFamily, Sample } from '../exposition/types.ts';
import type { SlurmJob } from '../slurm/model.ts';
import { JOB_TERMINAL_STATES } from '../slurm/states.ts';
import { JobMarks, TERMINAL_STATES, type StatefulCollector, partitionOf } from './job-events.ts';

const FINISHED: MetricDesc = {
  name: 'slurm_jobs_finished_total',
  type: 'counter',
  help:
    'Jobs that ended, by the end state Slurm gives (completed, failed, timeout, out_of_memory, node_fail, cancelled, ' +
    'preempted, boot_fail, deadline), counted once per job when the exporter first sees it ended; a requeued job ' +
    'that ends again counts again. partition is the one the job ran in (a job cancelled while pending counts under ' +
    'the first partition it named). Misses none only if the jobs poll interval is shorter than the cluster\'s ' +
    'MinJobAge (slurm.conf, default 300 s): slurmctld forgets an ended job MinJobAge after its end. Jobs already ' +
    'ended in the first jobs poll after the exporter starts are not counted, so a restart counts none twice. Unlike ' +
    'sdiag\'s counters these do not reset at midnight, only when the exporter restarts. Every end state has a series ' +
    'per partition seen, 0 included.',
  labels: ['cluster', 'state', 'partition'],
  source: 'jobs: jobs[].job_state, jobs[].end_time, jobs[].partition of ended jobs',
};

/** Counts per partition, indexed like JOB_TERMINAL_STATES; partitions in first-seen order. */
class FinishedState {
  readonly marks = new JobMarks();
  private readonly counts = new Map<string, number[]>();

  update(jobs: readonly SlurmJob[]): void {
    this.marks.begin();
    for (const j of jobs) {
      for (const p of j.partitions) this.countsOf(p);
      if (!TERMINAL_STATES.has(j.state) || !this.marks.isNew(j.jobId, j.endTime)) continue;
      const row = this.countsOf(partitionOf(j));
      const i = JOB_TERMINAL_STATES.indexOf(j.state);
      row[i] = (row[i] as number) + 1;
    }
    this.marks.commit();
  }

  family(cluster: string): MetricFamily {
    const samples: Sample[] = [];
    for (const [partition, row] of this.counts) {
      for (let i = 0; i < row.length; i++) samples.push({ values: [cluster, JOB_TERMINAL_STATES[i] as string, partition], value: row[i] as number });
    }
    return { desc: FINISHED, samples };
  }

  private countsOf(partition: string): number[] {
    let row = this.counts.get(partition);
    if (!row) {
      row = new Array<number>(JOB_TERMINAL_STATES.length).fill(0);
      this.counts.set(partition, row);
    }
    return row;
  }
}

/** A collector with its own memory; the registry holds the one the exporter uses, tests make fresh ones. */
export function createFinishedCollector(): StatefulCollector {
  const state = new FinishedState();
  return {
    name: 'finished',
    description: 'Counters of jobs that ended, by end state and partition, each job once (needs a jobs interval shorter than MinJobAge).',
    group: 'jobs',
    needs: ['jobs'],
    metrics: [FINISHED],
    collect(ctx: CollectContext): MetricFamily[] {
      const jobs = ctx.data.jobs;
      if (!jobs) return [];
      state.update(jobs);
      return [state.family(ctx.cluster)];
    },
    remembered: () => state.marks.size,
  };
}

export const finishedCollector: StatefulCollector = createFinishedCollector();
