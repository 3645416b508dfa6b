import { randomBytes } from 'node:crypto';

import type { SandboxClock } from './clock';
import { invalidArgument, notFound } from './google-error';
import { nextHistoryId } from './history-id';
import { DEFAULT_DELIVERY_LABEL_IDS, isKnownLabelId } from './labels';
import type { HistoryKind, HistoryRecord, MailboxData, StoredMessage } from './mailbox-data';

export interface DeliverMessageInput {
  from?: string;
  subject?: string;
  labelIds?: string[];
}

export interface DeliveredMessage {
  id: string;
  threadId: string;
  historyId: string;
}

export interface ModifyLabelsInput {
  addLabelIds?: string[];
  removeLabelIds?: string[];
}

export interface ModifiedMessage extends DeliveredMessage {
  labelIds: string[];
}

/** Called after every change with the history records it wrote. */
export type ChangeListener = (mailbox: Mailbox, records: HistoryRecord[]) => void;

/**
 * One mailbox: messages and the history records every change writes.
 * Each change takes a new, larger historyId and stamps it on the record and
 * on the message, as Gmail does.
 */
export class Mailbox {
  constructor(
    readonly data: MailboxData,
    private readonly clock: SandboxClock,
    private readonly onChange: ChangeListener,
  ) {}

  get emailAddress(): string {
    return this.data.emailAddress;
  }

  deliver(input: DeliverMessageInput): DeliveredMessage {
    const labelIds = validateLabelIds(input.labelIds ?? DEFAULT_DELIVERY_LABEL_IDS, 'labelIds');
    const now = this.clock.now();
    const id = this.newMessageId(now);
    const message: StoredMessage = {
      id,
      threadId: id,
      labelIds: [...new Set(labelIds)],
      internalDate: now,
      historyId: this.data.historyId,
      from: input.from ?? 'Sandbox Sender <sender@example.com>',
      subject: input.subject ?? `Sandbox message ${id}`,
      body: `This message was delivered by the Gmail sandbox at ${new Date(now).toISOString()}.`,
    };
    this.data.messages.push(message);
    this.record('messagesAdded', message);
    return { id, threadId: message.threadId, historyId: message.historyId };
  }

  modifyLabels(messageId: string, input: ModifyLabelsInput): ModifiedMessage {
    const message = this.getMessage(messageId);
    const add = validateLabelIds(input.addLabelIds ?? [], 'addLabelIds').filter((label) => !message.labelIds.includes(label));
    const remove = validateLabelIds(input.removeLabelIds ?? [], 'removeLabelIds').filter((label) => message.labelIds.includes(label));

    // Gmail writes one record per direction and none for a no-op change.
    if (remove.length > 0) {
      message.labelIds = message.labelIds.filter((label) => !remove.includes(label));
      this.record('labelsRemoved', message, remove);
    }
    if (add.length > 0) {
      message.labelIds = [...message.labelIds, ...add];
      this.record('labelsAdded', message, add);
    }
    return { id: message.id, threadId: message.threadId, historyId: message.historyId, labelIds: [...message.labelIds] };
  }

  /** Deletes a message permanently (messages.delete), which writes a messagesDeleted record. */
  deleteMessage(messageId: string): DeliveredMessage {
    const message = this.getMessage(messageId);
    this.data.messages = this.data.messages.filter((candidate) => candidate.id !== messageId);
    this.record('messagesDeleted', message);
    return { id: message.id, threadId: message.threadId, historyId: message.historyId };
  }

  getMessage(messageId: string): StoredMessage {
    if (!/^[0-9a-f]{1,32}$/.test(messageId)) {
      throw invalidArgument('Invalid id value');
    }
    const message = this.data.messages.find((candidate) => candidate.id === messageId);
    if (!message) {
      throw notFound();
    }
    return message;
  }

  /**
   * Removes history records older than the retention window and moves the
   * oldest valid start id past them, so a cursor from before that point gets
   * history.list's 404 as an expired Gmail cursor does.
   */
  pruneHistory(): void {
    const cutoff = this.clock.now() - this.data.historyRetentionMs;
    let removed = 0;
    while (removed < this.data.history.length && this.data.history[removed].time < cutoff) {
      removed += 1;
    }
    if (removed > 0) {
      this.data.oldestValidStartId = this.data.history[removed - 1].id;
      this.data.history = this.data.history.slice(removed);
    }
  }

  /**
   * Returns the newest historyId that history.list can see: the mailbox's current id,
   * or, while an indexing delay hides recent records, the id just before the
   * first hidden one.
   */
  indexedHistoryId(): string {
    const cutoff = this.clock.now() - this.data.historyIndexDelayMs;
    const firstHidden = this.data.history.findIndex((record) => record.time > cutoff);
    if (firstHidden === -1) {
      return this.data.historyId;
    }
    if (firstHidden === 0) {
      return (BigInt(this.data.history[0].id) - 1n).toString();
    }
    return this.data.history[firstHidden - 1].id;
  }

  private record(kind: HistoryKind, message: StoredMessage, labelIds?: string[]): void {
    this.data.historyId = nextHistoryId(this.data.historyId);
    message.historyId = this.data.historyId;
    const record: HistoryRecord = {
      id: this.data.historyId,
      time: this.clock.now(),
      kind,
      message: { id: message.id, threadId: message.threadId, labelIds: [...message.labelIds] },
      ...(labelIds ? { labelIds } : {}),
    };
    this.data.history.push(record);
    this.onChange(this, [record]);
  }

  /** Gmail message ids are 16 hex digits that grow with receipt time. */
  private newMessageId(now: number): string {
    for (;;) {
      const id = now.toString(16).padStart(11, '0').slice(-11) + randomBytes(3).toString('hex').slice(0, 5);
      if (!this.data.messages.some((message) => message.id === id)) {
        return id;
      }
    }
  }
}

function validateLabelIds(labelIds: string[], field: string): string[] {
  for (const label of labelIds) {
    if (!isKnownLabelId(label)) {
      throw invalidArgument(`Invalid label: ${label} in ${field}`);
    }
  }
  return labelIds;
}
