import type { SandboxClock } from './clock';
import { GoogleApiError, invalidArgument } from './google-error';
import { parseHistoryId } from './history-id';
import { Mailbox, type ChangeListener } from './mailbox';
import type { MailboxData } from './mailbox-data';

export interface CreateMailboxInput {
  emailAddress: string;
  /** Starting historyId, a uint64 decimal string; values above 2^53 are allowed. */
  historyId?: string;
  /** Other addresses that resolve to this mailbox, as getProfile does for aliases. */
  aliases?: string[];
  /** How long history stays available to history.list, in milliseconds (default 7 days). */
  historyRetentionMs?: number;
}

export interface MailboxSummary {
  emailAddress: string;
  aliases: string[];
  historyId: string;
  oldestValidStartId: string;
  messagesTotal: number;
  historyRetentionMs: number;
  historyIndexDelayMs: number;
  invalidGrant: boolean;
  rejectAccessTokens: boolean;
  watch: { topicName: string; labelIds: string[]; labelFilterBehavior: string; expiration: string } | null;
}

/**
 * Default history window. Gmail documents no fixed window, only that old
 * history ids expire; a week matches the watch lifetime.
 */
export const DEFAULT_HISTORY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

const DEFAULT_START_HISTORY_ID = '1000';
const ADDRESS_PATTERN = /^[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>()]+$/;

export function normalizeAddress(value: string, field = 'emailAddress'): string {
  const address = value.trim().toLowerCase();
  if (!ADDRESS_PATTERN.test(address)) {
    throw invalidArgument(`Invalid ${field}: ${JSON.stringify(value)} is not an email address`);
  }
  return address;
}

/** All mailboxes, reachable by primary address or alias, case-insensitively. */
export class MailboxRegistry {
  private readonly mailboxes = new Map<string, Mailbox>();
  private readonly byAlias = new Map<string, Mailbox>();

  constructor(
    private readonly clock: SandboxClock,
    private readonly onChange: ChangeListener,
  ) {}

  create(input: CreateMailboxInput): Mailbox {
    const emailAddress = normalizeAddress(input.emailAddress);
    const aliases = (input.aliases ?? []).map((alias) => normalizeAddress(alias, 'aliases'));
    for (const address of [emailAddress, ...aliases]) {
      if (this.find(address)) {
        throw new GoogleApiError(409, `Mailbox already exists: ${address}`, 'duplicate');
      }
    }
    const historyId = input.historyId ?? DEFAULT_START_HISTORY_ID;
    if (parseHistoryId(historyId) === undefined) {
      throw invalidArgument(`Invalid historyId: ${JSON.stringify(historyId)} is not a uint64 decimal string`);
    }
    return this.add({
      emailAddress,
      aliases,
      historyId,
      oldestValidStartId: historyId,
      historyRetentionMs: input.historyRetentionMs ?? DEFAULT_HISTORY_RETENTION_MS,
      historyIndexDelayMs: 0,
      messages: [],
      history: [],
      invalidGrant: false,
      rejectAccessTokens: false,
    });
  }

  /** Adds a mailbox from stored data, as the state file restores it. */
  add(data: MailboxData): Mailbox {
    const mailbox = new Mailbox(data, this.clock, this.onChange);
    this.mailboxes.set(data.emailAddress, mailbox);
    for (const alias of data.aliases) {
      this.byAlias.set(alias, mailbox);
    }
    return mailbox;
  }

  find(address: string): Mailbox | undefined {
    const key = address.trim().toLowerCase();
    return this.mailboxes.get(key) ?? this.byAlias.get(key);
  }

  /** Returns the mailbox for an address, creating it with defaults on first use. */
  getOrCreate(address: string): Mailbox {
    return this.find(address) ?? this.create({ emailAddress: address });
  }

  all(): Mailbox[] {
    return [...this.mailboxes.values()];
  }
}

export function summarize(mailbox: Mailbox): MailboxSummary {
  const { data } = mailbox;
  return {
    emailAddress: data.emailAddress,
    aliases: [...data.aliases],
    historyId: data.historyId,
    oldestValidStartId: data.oldestValidStartId,
    messagesTotal: data.messages.length,
    historyRetentionMs: data.historyRetentionMs,
    historyIndexDelayMs: data.historyIndexDelayMs,
    invalidGrant: data.invalidGrant,
    rejectAccessTokens: data.rejectAccessTokens,
    watch: data.watch ? { ...data.watch, expiration: String(data.watch.expiration) } : null,
  };
}
