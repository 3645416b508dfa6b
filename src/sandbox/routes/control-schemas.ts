/**
 * JSON Schemas of the /sandbox control routes, validated by Fastify's Ajv.
 * Unknown fields are rejected so that a typo fails loudly. They are plain
 * objects rather than TypeBox, because TypeBox 1 ships only as ES modules and
 * the tests load the sandbox as CommonJS.
 */
const string = (extra: object = {}) => ({ type: 'string', ...extra });
const integer = (extra: object = {}) => ({ type: 'integer', ...extra });
const boolean = { type: 'boolean' };
const milliseconds = integer({ minimum: 0 });
const labelIds = { type: 'array', items: string({ minLength: 1 }), maxItems: 100 };
const oneOf = (...values: string[]) => ({ type: 'string', enum: values });

function object(properties: Record<string, object>, required: string[] = []): object {
  return { type: 'object', properties, required, additionalProperties: false };
}

export const EmailParams = { type: 'object', properties: { emailAddress: string({ minLength: 3 }) }, required: ['emailAddress'] };
export const MessageParams = {
  type: 'object',
  properties: { emailAddress: string({ minLength: 3 }), id: string({ minLength: 1 }) },
  required: ['emailAddress', 'id'],
};

export const CreateMailboxBody = object(
  {
    emailAddress: string({ minLength: 3 }),
    historyId: string({ pattern: '^[0-9]{1,20}$' }),
    aliases: { type: 'array', items: string({ minLength: 3 }), maxItems: 100 },
    historyRetentionMs: milliseconds,
  },
  ['emailAddress'],
);

export const MailboxSettingsBody = object({
  historyIndexDelayMs: milliseconds,
  historyRetentionMs: milliseconds,
  invalidGrant: boolean,
  rejectAccessTokens: boolean,
});

export const DeliverMessageBody = object({
  from: string({ maxLength: 1000 }),
  subject: string({ maxLength: 1000 }),
  labelIds,
});

export const ModifyLabelsBody = object({ addLabelIds: labelIds, removeLabelIds: labelIds });

export const GmailFaultBody = object(
  {
    method: string(),
    emailAddress: string(),
    status: integer({ minimum: 400, maximum: 599 }),
    count: integer({ minimum: 1 }),
    rate: { type: 'number', minimum: 0, maximum: 1 },
    retryAfterSeconds: integer({ minimum: 0 }),
    latencyMs: integer({ minimum: 0, maximum: 600_000 }),
  },
  ['method'],
);

export const NotificationFaultBody = object(
  {
    kind: oneOf('drop', 'duplicate', 'delay', 'reorder'),
    emailAddress: string(),
    count: integer({ minimum: 1 }),
    delayMs: integer({ minimum: 1, maximum: 600_000 }),
  },
  ['kind'],
);

export const TopicBody = object({ topicName: string({ pattern: '^projects/[^/]+/topics/[^/]+$' }), publishAllowed: boolean }, [
  'topicName',
  'publishAllowed',
]);

export const PushConfigBody = object({
  mode: oneOf('push', 'pubsub'),
  endpoint: string({ pattern: '^https?://' }),
  audience: string({ minLength: 1 }),
  serviceAccountEmail: string({ minLength: 3 }),
  format: oneOf('wrapped', 'unwrapped'),
  subscription: string({ pattern: '^projects/[^/]+/subscriptions/[^/]+$' }),
  // Pub/Sub allows a dead-letter policy of 5 to 100 delivery attempts.
  deadLetterMaxAttempts: integer({ minimum: 5, maximum: 100 }),
  minBackoffMs: milliseconds,
  maxBackoffMs: milliseconds,
  ackDeadlineMs: integer({ minimum: 1 }),
  historyIdEncoding: oneOf('number', 'string'),
});

export const ClockBody = object({ advanceMs: milliseconds, frozen: boolean });

export const AddressQuery = { type: 'object', properties: { emailAddress: string() } };

export const OAuthClientBody = object(
  {
    clientId: string({ minLength: 1 }),
    clientSecret: string({ minLength: 1 }),
    redirectUris: { type: 'array', items: string({ minLength: 1 }), minItems: 1, maxItems: 20 },
  },
  ['clientId', 'clientSecret', 'redirectUris'],
);

export const NextConsentBody = object({ emailAddress: string({ minLength: 3 }), deny: boolean });

export const ServiceAccountBody = object({
  clientEmail: string({ minLength: 3 }),
  scopes: { type: 'array', items: string({ minLength: 1 }), maxItems: 20 },
});
