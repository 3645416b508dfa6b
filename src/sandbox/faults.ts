import { randomUUID } from 'node:crypto';

import { errorForStatus, invalidArgument } from './google-error';
import { GMAIL_METHODS, type GmailMethod } from './quota';

export interface GmailFaultInput {
  method: GmailMethod;
  /** Only this mailbox; all mailboxes when absent. */
  emailAddress?: string;
  /** HTTP status to return, with Google's body for it. Absent for a latency-only fault. */
  status?: number;
  /** Fail this many calls, then expire (default 1 when rate is absent). */
  count?: number;
  /** Fail each call with this probability, 0 to 1, until cleared. */
  rate?: number;
  retryAfterSeconds?: number;
  /** Delay before responding, in milliseconds. */
  latencyMs?: number;
}

export interface GmailFault extends GmailFaultInput {
  id: string;
}

/** Injected Gmail failures and latency, matched by method and mailbox. */
export class FaultInjector {
  private faults: GmailFault[] = [];

  add(input: GmailFaultInput): GmailFault {
    if (!GMAIL_METHODS.includes(input.method)) {
      throw invalidArgument(`Invalid method: "${String(input.method)}"; allowed values are ${GMAIL_METHODS.join(', ')}`);
    }
    if (input.status === undefined && input.latencyMs === undefined) {
      throw invalidArgument('Invalid fault: set status, latencyMs or both');
    }
    const fault: GmailFault = { ...input, id: randomUUID(), count: input.rate === undefined ? (input.count ?? 1) : input.count };
    this.faults.push(fault);
    return fault;
  }

  list(): GmailFault[] {
    return this.faults.map((fault) => ({ ...fault }));
  }

  clear(): void {
    this.faults = [];
  }

  /**
   * Applies the first matching fault to one call: waits out its latency, then
   * throws its error when it has a status and fires this time.
   */
  async apply(method: GmailMethod, emailAddress: string): Promise<void> {
    const fault = this.faults.find((candidate) => candidate.method === method && (candidate.emailAddress ?? emailAddress) === emailAddress);
    if (!fault) {
      return;
    }
    const fires = fault.rate === undefined || Math.random() < fault.rate;
    if (fires && fault.count !== undefined) {
      fault.count -= 1;
      if (fault.count <= 0) {
        this.faults = this.faults.filter((candidate) => candidate !== fault);
      }
    }
    if (fault.latencyMs) {
      await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    }
    if (fires && fault.status !== undefined) {
      throw errorForStatus(fault.status, fault.retryAfterSeconds);
    }
  }
}
