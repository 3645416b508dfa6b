/**
 * The sandbox clock: wall time plus an offset that tests move forward, or a
 * frozen instant. It drives everything Gmail-visible (internalDate, watch
 * expiration, the notification rate limit, history retention and indexing
 * delay, access-token expiry). Redelivery backoff uses real timers instead,
 * because it models Pub/Sub, not Gmail.
 */
export class SandboxClock {
  private offsetMs = 0;
  private frozenAt: number | undefined;

  constructor(offsetMs = 0) {
    this.offsetMs = offsetMs;
  }

  now(): number {
    return this.frozenAt ?? Date.now() + this.offsetMs;
  }

  /** Moves the clock forward by `ms` milliseconds and returns the new time. */
  advance(ms: number): number {
    if (this.frozenAt !== undefined) {
      this.frozenAt += ms;
    } else {
      this.offsetMs += ms;
    }
    return this.now();
  }

  /** Stops the clock at its current time (true) or lets it run from there (false). */
  setFrozen(frozen: boolean): void {
    if (frozen && this.frozenAt === undefined) {
      this.frozenAt = this.now();
    } else if (!frozen && this.frozenAt !== undefined) {
      this.offsetMs = this.frozenAt - Date.now();
      this.frozenAt = undefined;
    }
  }

  get frozen(): boolean {
    return this.frozenAt !== undefined;
  }

  /** Offset from wall time, which is what the state file keeps across restarts. */
  get offset(): number {
    return this.now() - Date.now();
  }
}
