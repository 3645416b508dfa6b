import { CancellationScope, sleep } from '@temporalio/workflow';

/**
 * One durable timer for the mailbox's next deadline. A later deadline keeps
 * the running timer: when it fires early, the loop re-arms it for the rest.
 * So a burst of notifications, each pushing the quiet-period check later,
 * starts no timer at all, and only an earlier deadline cancels one.
 */
export class DeadlineTimer {
  private at: number | null = null;
  private scope: CancellationScope | null = null;
  fired = false;

  /** Makes sure a timer fires no later than `deadline`; null cancels it. */
  ensure(deadline: number | null): void {
    if (this.fired) {
      this.fired = false;
      this.at = null;
      this.scope = null;
    }
    if (deadline === null) {
      this.cancel();
      return;
    }
    if (this.at !== null && this.at <= deadline) {
      return;
    }
    this.cancel();
    this.start(deadline);
  }

  cancel(): void {
    this.scope?.cancel();
    this.scope = null;
    this.at = null;
  }

  private start(deadline: number): void {
    const scope = new CancellationScope();
    this.scope = scope;
    this.at = deadline;
    const delay = Math.max(deadline - Date.now(), 1);
    void scope.run(() => sleep(delay)).then(
      () => {
        if (this.scope === scope) {
          this.fired = true;
        }
      },
      () => undefined, // cancelled because an earlier deadline replaced it
    );
  }
}
