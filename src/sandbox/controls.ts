import type { NextConsent, OAuthClientRegistration } from './auth/consent';
import type { ServiceAccountKey } from './auth/service-accounts';
import type { CounterSnapshot } from './counters';
import type { GmailFault, GmailFaultInput } from './faults';
import { invalidArgument } from './google-error';
import type { DeliveredMessage, DeliverMessageInput, ModifiedMessage, ModifyLabelsInput } from './mailbox';
import { summarize, type CreateMailboxInput, type MailboxSummary } from './mailbox-registry';
import type { NotificationRecord } from './push/notification';
import type { NotificationFaultInput } from './push/notification-faults';
import type { PushConfig } from './push/push-config';
import type { SandboxCore } from './sandbox-core';

/** Settings of an existing mailbox that tests change at run time. */
export interface MailboxSettings {
  /** history.list lags changes by this many milliseconds, as Gmail's index can lag its pushes. */
  historyIndexDelayMs?: number;
  historyRetentionMs?: number;
  /** The token endpoint returns invalid_grant for this mailbox, as for a revoked grant. */
  invalidGrant?: boolean;
  /** The Gmail routes return 401 for this mailbox's access tokens. */
  rejectAccessTokens?: boolean;
}

export interface ClockState {
  /** Sandbox time in epoch milliseconds. */
  now: number;
  frozen: boolean;
}

/**
 * The sandbox's control surface. The /sandbox routes call these methods and
 * tests may call them in-process; both change the same state.
 */
export class SandboxControls {
  constructor(protected readonly core: SandboxCore) {}

  /** Creates a mailbox with options; 409 when the address or an alias is taken. */
  createMailbox(input: CreateMailboxInput): MailboxSummary {
    const mailbox = this.core.registry.create(input);
    this.core.markChanged();
    return summarize(mailbox);
  }

  /** Returns a mailbox's state, creating the mailbox with defaults on first use. */
  getMailbox(emailAddress: string): MailboxSummary {
    return summarize(this.core.registry.getOrCreate(emailAddress));
  }

  updateMailbox(emailAddress: string, settings: MailboxSettings): MailboxSummary {
    const mailbox = this.core.registry.getOrCreate(emailAddress);
    for (const field of ['historyIndexDelayMs', 'historyRetentionMs'] as const) {
      const value = settings[field];
      if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
        throw invalidArgument(`Invalid ${field}: ${value}; expected a non-negative integer of milliseconds`);
      }
    }
    Object.assign(mailbox.data, Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)));
    this.core.markChanged();
    return summarize(mailbox);
  }

  /** Registers an OAuth client that the authorization and token endpoints accept. */
  registerOAuthClient(client: OAuthClientRegistration): void {
    this.core.tokens.consent.registerClient(client);
    this.core.markChanged();
  }

  /** Makes the next authorization request consent as another address, or decline with access_denied. */
  setNextConsent(next: NextConsent): void {
    this.core.tokens.consent.setNextConsent(next);
  }

  /** Revokes the mailbox's consent-issued refresh tokens and their access tokens; returns how many refresh tokens. */
  revokeConsents(emailAddress: string): { revoked: number } {
    const revoked = this.core.tokens.revokeConsents(emailAddress);
    this.core.markChanged();
    return { revoked };
  }

  /**
   * Creates a service account with domain-wide delegation for `scopes` (both
   * Gmail scopes by default) and returns its JSON key; the sandbox keeps
   * only the public key. `tokenUri` goes into the key file.
   */
  createServiceAccount(input: { clientEmail?: string; scopes?: string[] }, tokenUri: string): ServiceAccountKey {
    const key = this.core.tokens.serviceAccounts.create(input, tokenUri);
    this.core.markChanged();
    return key;
  }

  /** Delivers a new message: writes its history record and notifies the watch, if any. */
  deliverMessage(emailAddress: string, input: DeliverMessageInput = {}): DeliveredMessage {
    return this.core.registry.getOrCreate(emailAddress).deliver(input);
  }

  modifyLabels(emailAddress: string, messageId: string, input: ModifyLabelsInput): ModifiedMessage {
    return this.core.registry.getOrCreate(emailAddress).modifyLabels(messageId, input);
  }

  deleteMessage(emailAddress: string, messageId: string): DeliveredMessage {
    return this.core.registry.getOrCreate(emailAddress).deleteMessage(messageId);
  }

  addFault(input: GmailFaultInput): GmailFault {
    return this.core.faults.add(input);
  }

  listFaults(): GmailFault[] {
    return this.core.faults.list();
  }

  clearFaults(): void {
    this.core.faults.clear();
  }

  addNotificationFault(input: NotificationFaultInput): void {
    this.core.notificationFaults.add(input);
  }

  clearNotificationFaults(): void {
    this.core.notificationFaults.clear();
  }

  /** Marks whether Gmail's push service account may publish to a topic. Without that right, watch returns 403. */
  setTopicPublishRights(topicName: string, publishAllowed: boolean): void {
    if (publishAllowed) {
      this.core.topicsWithoutPublishRights.delete(topicName);
    } else {
      this.core.topicsWithoutPublishRights.add(topicName);
    }
    this.core.markChanged();
  }

  getPushConfig(): PushConfig {
    return { ...this.core.pushConfig };
  }

  configurePush(patch: Partial<PushConfig>): PushConfig {
    const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
    this.core.pushConfig = { ...this.core.pushConfig, ...defined };
    return this.getPushConfig();
  }

  /** Calls per Gmail method, quota units and notification outcomes, in total or for one mailbox. */
  getCounters(emailAddress?: string): CounterSnapshot {
    const mailbox = emailAddress === undefined ? undefined : this.core.registry.find(emailAddress);
    return this.core.counters.snapshot(mailbox?.emailAddress ?? emailAddress?.toLowerCase());
  }

  resetCounters(): void {
    this.core.counters.reset();
  }

  getClock(): ClockState {
    return { now: this.core.clock.now(), frozen: this.core.clock.frozen };
  }

  advanceClock(ms: number): ClockState {
    if (!(Number.isInteger(ms) && ms >= 0)) {
      throw invalidArgument(`Invalid advanceMs: ${ms}; expected a non-negative integer of milliseconds`);
    }
    this.core.clock.advance(ms);
    this.core.markChanged();
    return this.getClock();
  }

  /** Freezes the sandbox clock (time moves only through advanceClock) or lets it run again. */
  freezeClock(frozen: boolean): ClockState {
    this.core.clock.setFrozen(frozen);
    return this.getClock();
  }

  /** Notifications sent so far, oldest first, optionally for one mailbox. */
  notifications(emailAddress?: string): NotificationRecord[] {
    const address = emailAddress === undefined ? undefined : (this.core.registry.find(emailAddress)?.emailAddress ?? emailAddress.toLowerCase());
    return this.core.notifier.log.filter((record) => address === undefined || record.emailAddress === address).map((record) => structuredClone(record));
  }
}
