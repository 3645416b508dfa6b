import { invalidArgument } from '../google-error';

export type NotificationFaultKind = 'drop' | 'duplicate' | 'delay' | 'reorder';

export interface NotificationFaultInput {
  kind: NotificationFaultKind;
  /** Only this mailbox; all mailboxes when absent. */
  emailAddress?: string;
  /** How many notifications it applies to (default 1). */
  count?: number;
  /** For `delay`: how long each notification waits before it is sent, in milliseconds. */
  delayMs?: number;
}

const KINDS: NotificationFaultKind[] = ['drop', 'duplicate', 'delay', 'reorder'];

/** Faults on the notification stream: Gmail may drop, repeat, delay or reorder pushes. */
export class NotificationFaults {
  private faults: (NotificationFaultInput & { remaining: number })[] = [];

  add(input: NotificationFaultInput): void {
    if (!KINDS.includes(input.kind)) {
      throw invalidArgument(`Invalid kind: "${String(input.kind)}"; allowed values are ${KINDS.join(', ')}`);
    }
    if (input.kind === 'delay' && !(typeof input.delayMs === 'number' && input.delayMs > 0)) {
      throw invalidArgument('Invalid delayMs: a delay fault needs a positive delayMs');
    }
    this.faults.push({ ...input, remaining: input.count ?? 1 });
  }

  clear(): void {
    this.faults = [];
  }

  /** Takes the first fault that applies to this mailbox's next notification, using up one of its count. */
  take(emailAddress: string): NotificationFaultInput | undefined {
    const fault = this.faults.find((candidate) => (candidate.emailAddress ?? emailAddress) === emailAddress);
    if (!fault) {
      return undefined;
    }
    fault.remaining -= 1;
    if (fault.remaining <= 0) {
      this.faults = this.faults.filter((candidate) => candidate !== fault);
    }
    return fault;
  }
}
