import type { Logger } from 'pino';

import { TokenStore } from './auth/token-store';
import { SandboxClock } from './clock';
import { Counters } from './counters';
import { FaultInjector } from './faults';
import { MailboxRegistry } from './mailbox-registry';
import { Notifier } from './push/notifier';
import { NotificationFaults } from './push/notification-faults';
import { DEFAULT_PUSH_CONFIG, type PushConfig } from './push/push-config';
import { PushPublisher } from './push/push-publisher';
import type { SigningKey } from './push/signing-key';
import { TopicPublisher } from './push/topic-publisher';

/**
 * Every part of one running sandbox, wired together. Routes and the
 * in-process helpers both act on this object, so HTTP and in-process calls
 * behave the same.
 */
export class SandboxCore {
  readonly counters = new Counters();
  readonly faults = new FaultInjector();
  readonly notificationFaults = new NotificationFaults();
  /** Topics marked as lacking publish rights for Gmail's push service account. */
  readonly topicsWithoutPublishRights = new Set<string>();
  readonly registry: MailboxRegistry;
  readonly tokens: TokenStore;
  readonly notifier: Notifier;
  pushConfig: PushConfig;
  private readonly pushPublisher: PushPublisher;
  private readonly topicPublisher: TopicPublisher;
  private changeListeners: (() => void)[] = [];

  constructor(
    readonly clock: SandboxClock,
    readonly signingKey: SigningKey,
    readonly logger: Logger,
    pushConfig: Partial<PushConfig>,
  ) {
    this.pushConfig = { ...DEFAULT_PUSH_CONFIG, ...pushConfig };
    this.pushPublisher = new PushPublisher(() => this.pushConfig, signingKey, this.counters, logger);
    this.topicPublisher = new TopicPublisher(() => this.pushConfig, logger);
    this.notifier = new Notifier(clock, this.counters, this.notificationFaults, () =>
      this.pushConfig.mode === 'pubsub' ? (record) => this.topicPublisher.send(record) : (record) => this.pushPublisher.send(record),
    );
    this.registry = new MailboxRegistry(clock, (mailbox, records) => {
      this.notifier.onChange(mailbox, records);
      this.markChanged();
    });
    this.tokens = new TokenStore(this.registry, clock);
  }

  /** Registers a callback run after every state change, which the state file uses to save. */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  markChanged(): void {
    this.changeListeners.forEach((listener) => listener());
  }

  canPublish(topicName: string): boolean {
    return !this.topicsWithoutPublishRights.has(topicName);
  }

  async stop(): Promise<void> {
    this.notifier.stop();
    this.pushPublisher.stop();
    await this.topicPublisher.stop();
  }
}
