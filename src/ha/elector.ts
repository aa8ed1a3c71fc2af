// Leader election in the client-go style over any lease backend (Kubernetes Lease, etcd). Every retryPeriod a
// standby tries to acquire and the leader renews. A leader that has not renewed for renewDeadline steps down
// on its own, and renewDeadline < leaseDuration, so it stops working before anyone else may take the lease:
// two replicas never lead at once, even when the backend is unreachable.

import type { Logger } from '../logger.ts';

export type { Logger };

/** What one acquire-or-renew attempt saw. */
export interface LeaseObservation {
  /** True when this replica holds the lease after the attempt. */
  held: boolean;
  /** Who holds it ('' when nobody). */
  holder: string;
  /**
   * When another replica holds it: ms until it expires if not renewed, as far as the backend can tell. A
   * standby tries again then rather than at its next retry tick, so a dead leader's lease is taken over as soon
   * as it may be.
   */
  expiresInMs?: number;
}

/** A lease backend: one named lease, many candidates. */
export interface LeaseBackend {
  /** e.g. `kubernetes lease default/slurm-exporter`. */
  describe(): string;
  /** Acquires the lease if free or expired, renews it if ours; never throws for "held by another". */
  tryAcquireOrRenew(signal: AbortSignal): Promise<LeaseObservation>;
  /** Gives the lease up if we hold it, so a standby takes over within a retry period. */
  release(signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

export interface ElectorTimings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface ElectorStatus {
  isLeader: boolean;
  identity: string;
  /** Current holder as last observed ('' unknown or none). */
  holder: string;
  /** Since when this replica leads (ms epoch), or when it last saw the holder change. */
  since: number | undefined;
  /** Last successful renewal or acquisition, ms epoch. */
  lastRenewAt: number | undefined;
  leaderChanges: number;
  renewFailures: number;
  backendErrors: number;
  backend: string;
}

export interface ElectorCallbacks {
  onStartedLeading(): void;
  onStoppedLeading(reason: string): void;
}

export class LeaderElector {
  private readonly backend: LeaseBackend;
  private readonly t: ElectorTimings;
  private readonly identity: string;
  private readonly log: Logger;
  private readonly cb: ElectorCallbacks;
  private leader = false;
  private holder = '';
  private since: number | undefined;
  private lastRenewAt: number | undefined;
  private leaderChanges = 0;
  private renewFailures = 0;
  private backendErrors = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private inflight: AbortController | undefined;
  private loggedStandby = '';

  constructor(backend: LeaseBackend, identity: string, timings: ElectorTimings, log: Logger, callbacks: ElectorCallbacks) {
    this.backend = backend;
    this.identity = identity;
    this.t = timings;
    this.log = log;
    this.cb = callbacks;
  }

  start(): void {
    this.log.info({ identity: this.identity, backend: this.backend.describe() }, 'leader election: campaigning');
    this.schedule(0);
  }

  isLeader(): boolean {
    return this.leader;
  }

  status(): ElectorStatus {
    return {
      isLeader: this.leader,
      identity: this.identity,
      holder: this.holder,
      since: this.since,
      lastRenewAt: this.lastRenewAt,
      leaderChanges: this.leaderChanges,
      renewFailures: this.renewFailures,
      backendErrors: this.backendErrors,
      backend: this.backend.describe(),
    };
  }

  /** Stops campaigning; a leader stops leading first, then releases the lease (SIGTERM: fast failover). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.inflight?.abort();
    await this.running?.catch(() => undefined);
    if (this.leader) {
      this.stepDown('shutting down');
      try {
        await this.backend.release(AbortSignal.timeout(Math.max(1000, this.t.retryPeriodMs)));
        this.log.info({ identity: this.identity }, 'leader election: released the lease');
      } catch (err) {
        this.backendErrors++;
        this.log.warn({ err: errText(err) }, 'leader election: could not release the lease; it expires by itself');
      }
    }
    await this.backend.close?.();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      let next = this.t.retryPeriodMs;
      this.running = this.tick()
        .then((obs) => {
          // A standby whose leader's lease runs out before the next tick tries right when it does.
          if (obs && !obs.held && this.candidate && obs.expiresInMs !== undefined) next = Math.max(10, Math.min(next, obs.expiresInMs));
        })
        .finally(() => {
          this.running = undefined;
          this.schedule(next);
        });
    }, delayMs);
  }

  /**
   * Whether this replica tries to acquire the lease when it does not hold it (sharded mode takes only its
   * share of the groups). A leader keeps renewing regardless; use handOver() to give a lease up.
   */
  candidate = true;

  /** Gives up leadership now (sharded mode rebalancing): stop leading, then release the lease. */
  async handOver(reason: string): Promise<void> {
    if (!this.leader) return;
    // No renewal may land after we let go: end the one in flight first.
    this.candidate = false;
    this.inflight?.abort();
    await this.running?.catch(() => undefined);
    if (!this.leader) return;
    this.stepDown(reason);
    try {
      await this.backend.release(AbortSignal.timeout(Math.max(1000, this.t.retryPeriodMs)));
    } catch (err) {
      this.backendErrors++;
      this.log.warn({ err: errText(err) }, 'leader election: could not release the lease; it expires by itself');
    }
  }

  private async tick(): Promise<LeaseObservation | undefined> {
    if (!this.leader && !this.candidate) return undefined;
    const ctrl = new AbortController();
    this.inflight = ctrl;
    // An attempt may not outlive the time the leader has left before its renew deadline.
    const budget = this.leader && this.lastRenewAt !== undefined ? Math.max(100, this.t.renewDeadlineMs - (Date.now() - this.lastRenewAt)) : this.t.retryPeriodMs * 2;
    const timer = setTimeout(() => ctrl.abort(new Error(`no answer from the lease backend within ${budget} ms`)), budget);
    let seen: LeaseObservation | undefined;
    try {
      const obs = await this.backend.tryAcquireOrRenew(ctrl.signal);
      seen = obs;
      if (this.stopped) return undefined;
      if (obs.holder !== this.holder) {
        this.holder = obs.holder;
        if (!obs.held) this.since = Date.now();
      }
      if (obs.held) {
        this.lastRenewAt = Date.now();
        if (!this.leader) {
          this.leader = true;
          this.since = Date.now();
          this.leaderChanges++;
          this.log.info({ identity: this.identity }, 'leader election: acquired the lease; leading');
          this.cb.onStartedLeading();
        }
      } else {
        if (this.leader) this.stepDown(`the lease is now held by ${obs.holder || 'nobody'}`);
        if (this.loggedStandby !== obs.holder) {
          this.loggedStandby = obs.holder;
          this.log.info({ identity: this.identity, leader: obs.holder || undefined }, 'leader election: standing by');
        }
      }
    } catch (err) {
      if (this.stopped) return undefined;
      this.backendErrors++;
      if (this.leader) {
        this.renewFailures++;
        this.log.warn({ err: errText(err) }, 'leader election: renewing the lease failed');
      } else {
        this.log.debug({ err: errText(err) }, 'leader election: lease backend unavailable');
      }
    } finally {
      clearTimeout(timer);
      this.inflight = undefined;
    }
    // Not renewed for renewDeadline: stop before the lease can expire and another replica can start.
    if (this.leader && this.lastRenewAt !== undefined && Date.now() - this.lastRenewAt >= this.t.renewDeadlineMs) {
      this.stepDown(`no renewal for ${Date.now() - this.lastRenewAt} ms (renew deadline ${this.t.renewDeadlineMs} ms)`);
    }
    return seen;
  }

  private stepDown(reason: string): void {
    if (!this.leader) return;
    this.leader = false;
    this.leaderChanges++;
    this.since = Date.now();
    this.log.warn({ identity: this.identity, reason }, 'leader election: lost leadership; standing by');
    this.loggedStandby = '';
    this.cb.onStoppedLeading(reason);
  }
}

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
