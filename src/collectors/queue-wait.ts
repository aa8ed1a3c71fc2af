// How long jobs waited before they started, as a histogram: one observation per job start, so
// histogram_quantile() over a rate gives the wait of the jobs that started in that window (the pending
// gauges of the jobs collector only see the jobs still waiting).
import type { CollectContext } from './collector.ts';
import { histogramCopy, histogramSample, observe, type HistogramValue, type MetricDesc, type MetricFamily, type Sample } from '../exposition/types.ts';
import type { SlurmJob } from '../slurm/model.ts';
import { FirstComeLabels, JobMarks, type StatefulCollector, hasStarted, partitionOf } from './job-events.ts';

/** Upper bounds, seconds: 10 s to 7 days. */
export const QUEUE_WAIT_BUCKETS: readonly number[] = [10, 30, 60, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800];

const QUEUE_WAIT: MetricDesc = {
  name: 'slurm_job_queue_wait_seconds',
  type: 'histogram',
  help:
    'Time jobs waited from becoming eligible to starting, seconds: start time minus eligible time (when a hold, ' +
    'dependency or --begin made the job eligible after its submission), else minus submit time. Observed once per job ' +
    'start, when the exporter first sees the job started (running, suspended or already ended); a requeued job that ' +
    'starts again is observed again. Jobs already started in the first jobs poll after the exporter starts are not ' +
    'observed, so a restart counts none twice. A job cancelled before it started is not observed; a job that starts and ' +
    'is purged (MinJobAge after its end) between two polls is missed. partition is the one the job runs in. At most ' +
    'limits.maxAccounts accounts keep their name, the first ones seen, for the exporter\'s lifetime; later ones count ' +
    'under account="other", as every account does with limits.perAccount off. Each partition and account pair is 16 ' +
    'series (14 buckets, sum, count): on a cluster with many accounts, lower limits.maxAccounts.',
  labels: ['cluster', 'partition', 'account'],
  source: 'jobs: jobs[].start_time - (jobs[].eligible_time or jobs[].submit_time) of started jobs',
  buckets: QUEUE_WAIT_BUCKETS,
};

/** Seconds from eligibility (or submission) to start; undefined when the times do not allow a measure. */
export function queueWaitSeconds(j: SlurmJob): number | undefined {
  const from = j.eligibleTime > 0 && j.eligibleTime >= j.submitTime ? j.eligibleTime : j.submitTime;
  if (from <= 0) return undefined;
  const wait = j.startTime - from;
  return wait >= 0 ? wait : undefined;
}

type Series = Sample & { histogram: HistogramValue; partition: string; account: string };

/** The histogram's series and the memory of which job starts were counted; never shrinks but by job ids. */
class QueueWaitState {
  readonly marks = new JobMarks();
  private readonly accounts = new FirstComeLabels();
  private readonly series = new Map<string, Series>();

  update(jobs: readonly SlurmJob[], maxAccounts: number): void {
    this.marks.begin();
    for (const j of jobs) {
      const account = this.accounts.label(j.account, maxAccounts);
      // Zero series for every partition and account the queue shows, so rate() sees their first start.
      for (const p of j.partitions) this.seriesOf(p, account);
      if (!hasStarted(j) || !this.marks.isNew(j.jobId, j.startTime)) continue;
      const wait = queueWaitSeconds(j);
      if (wait !== undefined) observe(this.seriesOf(partitionOf(j), account), QUEUE_WAIT_BUCKETS, wait);
    }
    this.marks.commit();
  }

  family(cluster: string): MetricFamily {
    const samples: Sample[] = [];
    for (const s of this.series.values()) samples.push(histogramCopy(s, [cluster, s.partition, s.account]));
    return { desc: QUEUE_WAIT, samples };
  }

  private seriesOf(partition: string, account: string): Series {
    const key = partition + '\u0000' + account;
    let s = this.series.get(key);
    if (!s) {
      s = { ...histogramSample(QUEUE_WAIT, []), partition, account };
      this.series.set(key, s);
    }
    return s;
  }
}

/** A collector with its own memory; the registry holds the one the exporter uses, tests make fresh ones. */
export function createQueueWaitCollector(): StatefulCollector {
  const state = new QueueWaitState();
  return {
    name: 'queue_wait',
    description: 'Histogram of how long jobs waited from eligibility to start, per partition and account, one observation per job start.',
    group: 'jobs',
    needs: ['jobs'],
    metrics: [QUEUE_WAIT],
    collect(ctx: CollectContext): MetricFamily[] {
      const jobs = ctx.data.jobs;
      if (!jobs) return [];
      state.update(jobs, ctx.limits.perAccount ? ctx.limits.maxAccounts : 0);
      return [state.family(ctx.cluster)];
    },
    remembered: () => state.marks.size,
  };
}

export const queueWaitCollector: StatefulCollector = createQueueWaitCollector();
