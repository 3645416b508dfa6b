import { CancellationScope, sleep } from '@temporalio/workflow';

/**
 * One durable timer for the mailbox's next deadline. A later deadline keeps
 * the running timer: when it fires early, the loop re-arms it for the rest.
 * So a burst of notifications, each pushing the quiet-period check later,
 * starts no timer at all, and only an earlier deadline cancels one. Each
 * timer carries a summary of what it waits for, which the Temporal UI shows.
 * A timer kept for a later deadline keeps the summary it started with.
 */
export class DeadlineTimer {
  private at: number | null = null;
  private scope: CancellationScope | null = null;
  fired = false;

  /** Makes sure a timer fires no later than `deadline.at` (epoch ms of workflow time); null cancels it. */
  ensure(deadline: { at: number; summary: string } | null): void {
    if (this.fired) {
      this.fired = false;
      this.at = null;
      this.scope = null;
    }
    if (deadline === null) {
      this.cancel();
      return;
    }
    if (this.at !== null && this.at <= deadline.at) {
      return;
    }
    this.cancel();
    this.start(deadline.at, deadline.summary);
  }

  cancel(): void {
    this.scope?.cancel();
    this.scope = null;
    this.at = null;
  }

  private start(deadline: number, summary: string): void {
    const scope = new CancellationScope();
    this.scope = scope;
    this.at = deadline;
    const delay = Math.max(deadline - Date.now(), 1);
    void scope.run(() => sleep(delay, { summary })).then(
      () => {
        if (this.scope === scope) {
          this.fired = true;
        }
      },
      () => undefined, // cancelled because an earlier deadline replaced it
    );
  }
}
