// Values from Slurm the exporter was not written for (a new node state, an unknown flag). Whichever layer meets
// one (the adapter while reading, a collector while rendering), it is counted and logged once per distinct text
// for the life of the process, so a rise in slurm_exporter_anomalies_total means something new appeared.
import type { Logger } from '../logger.ts';
import { LabelledCounter } from './counters.ts';

export class AnomalyLog {
  readonly counter = new LabelledCounter();
  private readonly seen = new Set<string>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  report(collector: string, what: string): void {
    if (this.seen.has(what)) return;
    this.seen.add(what);
    this.counter.inc([collector]);
    this.log.warn({ collector, anomaly: what }, 'unknown value from Slurm (logged once; counted in slurm_exporter_anomalies_total)');
  }

  /** Gives every collector group a zero series, so the first anomaly is an increase. */
  seed(collectors: readonly string[]): void {
    for (const c of collectors) this.counter.inc([c], 0);
  }
}
