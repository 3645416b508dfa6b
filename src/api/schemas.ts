/**
 * TypeBox schemas of the API routes. Fastify validates requests and
 * serialises responses with them, and @fastify/swagger builds the OpenAPI
 * document from the same objects.
 */
import { Type, type Static } from 'typebox';

import { EMAIL_ADDRESS_MAX_LENGTH, EMAIL_ADDRESS_PATTERN } from '../ingest/email-address';
import { HISTORY_ID_PATTERN } from '../ingest/history-id';
import { TOPIC_NAME_PATTERN } from './settings-parsers';

export const EmailAddress = Type.String({
  pattern: EMAIL_ADDRESS_PATTERN,
  maxLength: EMAIL_ADDRESS_MAX_LENGTH,
  description: 'Gmail address, for example user@example.com.',
});

/** The pattern fixes the canonical form; the route checks the range up to 2^64-1 with checkHistoryId. */
export const HistoryId = Type.String({
  pattern: HISTORY_ID_PATTERN,
  description: 'Gmail historyId, an unsigned 64-bit integer as a decimal string without leading zeros, at most 18446744073709551615.',
});

export const MailboxParams = Type.Object({ emailAddress: EmailAddress });

export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ description: 'Stable error code from the error catalogue.' }),
    error: Type.String({ description: 'HTTP reason phrase.' }),
    message: Type.String({ description: 'What failed, on which value, and how to fix it.' }),
  },
  { $id: 'ErrorResponse' },
);

const LabelFilterBehavior = Type.Union([Type.Literal('include'), Type.Literal('exclude')]);
const MailboxStatus = Type.Union([Type.Literal('watching'), Type.Literal('polling'), Type.Literal('needs-reauth'), Type.Literal('stopped')]);

export const StartMailboxBody = Type.Object(
  {
    emailAddress: EmailAddress,
    labelIds: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 100, description: 'Watch only changes to these labels (users.watch labelIds).' }),
    ),
    labelFilterBehavior: Type.Optional(LabelFilterBehavior),
    topicName: Type.Optional(
      Type.String({ pattern: TOPIC_NAME_PATTERN, maxLength: 512, description: 'Pub/Sub topic that Gmail publishes to; defaults to the configured topic.' }),
    ),
    credential: Type.Optional(
      Type.Object(
        {
          provider: Type.Union([Type.Literal('sandbox'), Type.Literal('oauth'), Type.Literal('workspace')]),
          // An address, so that a token pasted here is rejected instead of kept in workflow history.
          id: Type.Optional(
            Type.String({
              pattern: EMAIL_ADDRESS_PATTERN,
              maxLength: EMAIL_ADDRESS_MAX_LENGTH,
              description: 'Address whose stored credentials the mailbox uses, when it differs from emailAddress.',
            }),
          ),
        },
        { additionalProperties: false, description: 'Reference to stored credentials, never a secret; defaults to the configured provider.' },
      ),
    ),
    delivery: Type.Optional(
      Type.Object(
        {
          target: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'log, webhook or workflow; defaults to GMAIL_SYNC_DELIVERY_TARGET.' })),
          webhookUrl: Type.Optional(Type.String({ maxLength: 2048, description: 'URL the webhook target POSTs events to: https, or http to a loopback address.' })),
          webhookSecretRef: Type.Optional(
            Type.String({ maxLength: 64, description: 'Name of the signing secret, which workers read from GMAIL_SYNC_WEBHOOK_SECRET_<NAME>; never the secret itself.' }),
          ),
          workflowType: Type.Optional(
            Type.String({ maxLength: 255, description: "Workflow type that the workflow target starts per message, in the worker's namespace, with the event as its one argument." }),
          ),
          workflowTaskQueue: Type.Optional(Type.String({ maxLength: 255, description: 'Task queue that your workers poll for workflowType.' })),
          format: Type.Optional(Type.String({ description: 'messages.get format: metadata (default) or full, which adds the body.' })),
          metadataHeaders: Type.Optional(Type.Array(Type.String(), { maxItems: 100, description: 'Headers fetched with format metadata; defaults to GMAIL_SYNC_DELIVERY_METADATA_HEADERS.' })),
          includeSpam: Type.Optional(Type.Boolean({ description: 'Also deliver messages added with the SPAM label.' })),
          includeTrash: Type.Optional(Type.Boolean({ description: 'Also deliver messages added with the TRASH label.' })),
          includeDrafts: Type.Optional(Type.Boolean({ description: 'Also deliver drafts.' })),
        },
        // Closed, so that a misspelt option is a 400 and a pasted secret never reaches workflow history.
        { additionalProperties: false, description: 'Delivery target options; omitted options take the configured defaults.' },
      ),
    ),
    includeLabelEvents: Type.Optional(
      Type.Boolean({ description: 'Also deliver label added, label removed and message deleted events, in one batch per history page.' }),
    ),
    backfillDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'Deliver messages received in this many past days once, at start.' })),
  },
  { additionalProperties: false },
);
export type StartMailboxBody = Static<typeof StartMailboxBody>;

export const StartMailboxResponse = Type.Object({
  emailAddress: Type.String(),
  workflowId: Type.String(),
  runId: Type.String(),
});

const MailboxCounters = Type.Object(
  {
    notifications: Type.Integer(),
    staleNotifications: Type.Integer({ description: 'Notifications at or below the cursor: duplicates or out of order.' }),
    syncs: Type.Integer(),
    polls: Type.Integer(),
    fullResyncs: Type.Integer(),
    messagesDelivered: Type.Integer(),
    watchRenewals: Type.Integer(),
  },
  { additionalProperties: true },
);

export const MailboxState = Type.Object({
  emailAddress: Type.String(),
  status: MailboxStatus,
  historyId: Type.Union([Type.String(), Type.Null()]),
  pendingHistoryId: Type.Union([Type.String(), Type.Null()]),
  watch: Type.Object({ expiration: Type.Union([Type.String(), Type.Null()]) }),
  lastNotificationAt: Type.Union([Type.String(), Type.Null()]),
  lastSyncAt: Type.Union([Type.String(), Type.Null()]),
  counters: MailboxCounters,
  lastError: Type.Union([Type.Object({ message: Type.String(), at: Type.String() }), Type.Null()]),
});

export const SyncSummary = Type.Object({
  historyId: Type.String(),
  counts: Type.Record(Type.String(), Type.Number()),
  morePending: Type.Optional(Type.Boolean()),
});

export const ResyncBody = Type.Object({ startHistoryId: Type.Optional(HistoryId) }, { additionalProperties: false });

export const ListMailboxesQuery = Type.Object(
  {
    status: Type.Optional(MailboxStatus),
    emailAddress: Type.Optional(EmailAddress),
    pageSize: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    pageToken: Type.Optional(Type.String({ maxLength: 4096, description: 'nextPageToken of the previous page.' })),
  },
  { additionalProperties: false },
);
export type ListMailboxesQuery = Static<typeof ListMailboxesQuery>;

export const MailboxSummary = Type.Object({
  emailAddress: Type.String(),
  workflowId: Type.String(),
  runId: Type.String(),
  status: Type.Union([Type.String(), Type.Null()], { description: 'GmailSyncStatus search attribute.' }),
  executionStatus: Type.String({ description: 'Temporal execution status, for example RUNNING or COMPLETED.' }),
  startTime: Type.Union([Type.String(), Type.Null()]),
  closeTime: Type.Union([Type.String(), Type.Null()]),
});

export const ListMailboxesResponse = Type.Object({
  mailboxes: Type.Array(MailboxSummary),
  nextPageToken: Type.Union([Type.String(), Type.Null()]),
});

export const ListFailuresQuery = Type.Object(
  {
    pageSize: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    pageToken: Type.Optional(Type.String({ maxLength: 4096, description: 'nextPageToken of the previous page.' })),
  },
  { additionalProperties: false },
);
export type ListFailuresQuery = Static<typeof ListFailuresQuery>;

export const DeliveryFailure = Type.Object({
  messageId: Type.String(),
  workflowId: Type.String(),
  runId: Type.String(),
  closeTime: Type.Union([Type.String(), Type.Null()]),
});

export const ListFailuresResponse = Type.Object({
  failures: Type.Array(DeliveryFailure),
  nextPageToken: Type.Union([Type.String(), Type.Null()]),
});

/** Gmail message ids are hexadecimal; the pattern also admits base64url characters and rejects quotes and slashes. */
export const MessageId = Type.String({ pattern: '^[0-9A-Za-z_-]{1,64}$', description: 'Gmail message id.' });

export const ReplayFailuresBody = Type.Object(
  {
    messageIds: Type.Optional(Type.Array(MessageId, { minItems: 1, maxItems: 1000, description: 'Messages to rerun; without it every failed delivery of the mailbox.' })),
  },
  { additionalProperties: false },
);
export type ReplayFailuresBody = Static<typeof ReplayFailuresBody>;

export const ReplayFailuresResponse = Type.Object({
  restarted: Type.Array(Type.Object({ messageId: Type.String(), workflowId: Type.String(), runId: Type.String() })),
  skipped: Type.Array(
    Type.Object({
      messageId: Type.String(),
      workflowId: Type.String(),
      reason: Type.Union([Type.Literal('notFailed'), Type.Literal('notFound')], {
        description: 'notFailed: its latest run has not failed (running, completed, or restarted meanwhile); notFound: no delivery workflow has this id.',
      }),
    }),
  ),
});
