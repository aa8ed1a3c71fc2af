/**
 * Delay before the next poll. On success: the interval with ±jitter so replicas and groups do not align.
 * On failure: short exponential retries capped at the interval, so slurmrestd is never asked more than once
 * per interval during a long outage, and a cleared fault is noticed within one interval.
 */
export function nextDelayMs(opts: {
  intervalMs: number;
  consecutiveFailures: number;
  /** Auth failures will not heal by retrying sooner: wait the full interval. */
  noFastRetry?: boolean;
  jitter?: number;
  random?: () => number;
}): number {
  const { intervalMs, consecutiveFailures } = opts;
  const jitter = opts.jitter ?? 0.1;
  const random = opts.random ?? Math.random;
  let base = intervalMs;
  if (consecutiveFailures > 0 && !opts.noFastRetry) {
    const first = Math.min(1000, intervalMs / 4);
    base = Math.min(intervalMs, first * 2 ** (consecutiveFailures - 1));
  }
  const spread = base * jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}
