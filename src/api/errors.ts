/**
 * The API's error catalogue: every error response has a stable code, a
 * status and a message that names the value and the fix. Codes are never
 * reused for another meaning. The body follows Fastify's own error shape:
 * `{statusCode, code, error, message}`.
 */
import { STATUS_CODES } from 'node:http';

import { EMAIL_ADDRESS_MAX_LENGTH } from '../ingest/email-address';

export const ERROR_CATALOGUE = {
  // Management API authentication.
  API_TOKEN_MISSING: {
    status: 401,
    message: () => 'The Authorization header is missing; send "Authorization: Bearer <API token>" with the token from GMAIL_SYNC_API_TOKEN.',
  },
  API_TOKEN_INVALID: {
    status: 401,
    message: () => 'The bearer token is not the API token; send the value of GMAIL_SYNC_API_TOKEN (under npm run dev, .data/dev-api-token).',
  },

  // Push endpoint.
  PUSH_TOKEN_MISSING: {
    status: 401,
    message: () => 'The push request has no OIDC bearer token; enable authentication on the Pub/Sub push subscription.',
  },
  PUSH_TOKEN_INVALID: {
    status: 401,
    message: (p: { reason: string }) => `The push request's OIDC token was rejected (${p.reason}); check the subscription's token settings.`,
  },
  PUSH_TOKEN_FORBIDDEN: {
    status: 403,
    message: (p: { reason: string }) =>
      `The push request's OIDC token is genuine but not for this endpoint (${p.reason}); the subscription's audience and service account must equal GMAIL_SYNC_PUSH_AUDIENCE and GMAIL_SYNC_PUSH_SERVICE_ACCOUNT.`,
  },
  PUSH_NOT_PUBSUB: {
    status: 400,
    message: (p: { problem: string }) => `The body is not a Pub/Sub push: ${p.problem}. Send {"message": {"data": "<base64>", "messageId": "..."}} or the unwrapped Gmail JSON.`,
  },
  PUSH_CERTIFICATES_UNAVAILABLE: {
    status: 503,
    message: (p: { url: string }) => `The push token could not be verified because the certificates at ${p.url} could not be fetched; Pub/Sub will redeliver.`,
  },

  // Request format.
  INVALID_REQUEST: {
    status: 400,
    message: (p: { problem: string }) => `The request is invalid: ${p.problem}. See /openapi.json for the expected shape.`,
  },
  INVALID_EMAIL_ADDRESS: {
    status: 400,
    message: (p: { value: string }) => `${JSON.stringify(p.value)} is not an email address; use a full address such as user@example.com.`,
  },
  INVALID_JSON: {
    status: 400,
    message: () => 'The body is not valid JSON; send a JSON object.',
  },
  BODY_TOO_LARGE: {
    status: 413,
    message: (p: { limit: number; setting?: string }) =>
      `The body is larger than ${p.limit} bytes, ${p.setting === undefined ? "this route's limit" : `the ${p.setting} limit`}; send a smaller body.`,
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: (p: { contentType: string }) => `Content type ${JSON.stringify(p.contentType)} is not supported; send application/json.`,
  },
  INVALID_URL: {
    status: 400,
    message: (p: { path: string }) => `The URL path ${JSON.stringify(p.path)} is not valid percent-encoding; encode reserved characters as %XX.`,
  },
  URL_PARAMETER_TOO_LONG: {
    status: 414,
    message: (p: { limit: number }) =>
      `A path parameter is longer than ${p.limit} characters; an email address has at most ${EMAIL_ADDRESS_MAX_LENGTH} characters.`,
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    message: (p: { method: string; url: string; allow: string }) => `${p.method} is not allowed on ${p.url}; use ${p.allow}.`,
  },
  ROUTE_NOT_FOUND: {
    status: 404,
    message: (p: { method: string; url: string }) => `No route ${p.method} ${p.url}; see /docs for the routes.`,
  },

  // Mailboxes.
  MAILBOX_NOT_FOUND: {
    status: 404,
    message: (p: { emailAddress: string }) =>
      `No mailbox ${p.emailAddress} is known to Temporal; start it with POST /v1/mailboxes (stopped mailboxes are kept only for the namespace's retention period).`,
  },
  MAILBOX_STOPPED: {
    status: 409,
    message: (p: { emailAddress: string }) => `Mailbox ${p.emailAddress} is stopped; start it again with POST /v1/mailboxes first.`,
  },
  MAILBOX_REQUEST_REJECTED: {
    status: 400,
    message: (p: { emailAddress: string; reason: string }) => `Mailbox ${p.emailAddress} rejected the request: ${p.reason}`,
  },
  INVALID_DELIVERY_OPTIONS: {
    status: 400,
    message: (p: { problem: string }) => `The delivery options are invalid: ${p.problem}.`,
  },
  WATCH_TOPIC_NOT_CONFIGURED: {
    status: 503,
    message: () =>
      'The API has no Pub/Sub topic for mailboxes started by consent: set GMAIL_SYNC_WATCH_TOPIC on the API to projects/{project}/topics/{topic} and restart it.',
  },
  WATCH_TOPIC_MISSING: {
    status: 400,
    message: () => 'topicName is missing; send the Pub/Sub topic (projects/{project}/topics/{topic}) in the body or set a default topic in the configuration.',
  },
  MAILBOX_ADDRESS_UNRESOLVED: {
    status: 502,
    message: (p: { emailAddress: string; reason: string }) =>
      `Gmail's getProfile for ${p.emailAddress} failed (${p.reason}); check the mailbox's credential and retry.`,
  },

  // Consent flow (/v1/oauth/links, /v1/oauth/start and /v1/oauth/callback).
  OAUTH_NOT_CONFIGURED: {
    status: 404,
    message: () =>
      'The consent flow is off: set GMAIL_SYNC_OAUTH_CLIENT_ID, GMAIL_SYNC_OAUTH_CLIENT_SECRET, GMAIL_SYNC_OAUTH_REDIRECT_URL and GMAIL_SYNC_TOKEN_KEYS on the API.',
  },
  OAUTH_LINK_MISSING: {
    status: 403,
    message: (p: { emailAddress: string }) =>
      `Consent for ${p.emailAddress} needs a consent link: ask your operator for a consent link; operators create one with POST /v1/oauth/links.`,
  },
  OAUTH_LINK_INVALID: {
    status: 403,
    message: (p: { emailAddress: string; reason: string }) =>
      `The consent link for ${p.emailAddress} is invalid because ${p.reason}; ask your operator for a new consent link; operators create one with POST /v1/oauth/links.`,
  },
  OAUTH_LINK_EXPIRED: {
    status: 403,
    message: (p: { emailAddress: string; expiresAt: string }) =>
      `The consent link for ${p.emailAddress} expired at ${p.expiresAt}; ask your operator for a new consent link; operators create one with POST /v1/oauth/links.`,
  },
  OAUTH_ACCOUNT_MISMATCH: {
    status: 403,
    message: (p: { invited: string; signedIn: string }) =>
      `You signed in as ${p.signedIn}, but the consent link is for ${p.invited}, so nothing was stored and no mailbox was started. Open the link again and sign in as ${p.invited}, or ask your operator for a link for ${p.signedIn}. If ${p.invited} is an alias of ${p.signedIn}, the link must name the primary address that Gmail reports, ${p.signedIn}.`,
  },
  OAUTH_STATE_INVALID: {
    status: 400,
    message: () =>
      'The state parameter is missing, damaged or not issued by this server (or its key left GMAIL_SYNC_TOKEN_KEYS); open your consent link again, or ask your operator for a new one.',
  },
  OAUTH_STATE_EXPIRED: {
    status: 400,
    message: (p: { emailAddress: string; ttlSeconds: number }) =>
      `The consent for ${p.emailAddress} took longer than ${p.ttlSeconds} seconds (GMAIL_SYNC_OAUTH_STATE_TTL_SECONDS); open your consent link again.`,
  },
  OAUTH_CONSENT_DENIED: {
    status: 403,
    message: (p: { emailAddress: string }) =>
      `Google returned access_denied: access to ${p.emailAddress} was declined on the consent screen; open your consent link again and allow access.`,
  },
  OAUTH_AUTHORIZATION_FAILED: {
    status: 400,
    message: (p: { emailAddress: string; error: string; description: string }) =>
      `Google's authorization endpoint returned ${p.error}${p.description ? ` (${p.description})` : ''} for ${p.emailAddress}; check the OAuth client's scopes and redirect URI, then start again.`,
  },
  OAUTH_CODE_REJECTED: {
    status: 400,
    message: (p: { emailAddress: string; error: string }) =>
      `The token endpoint rejected the authorization code (${p.error}) for ${p.emailAddress}: it was already used, expired or issued to another client; open your consent link again.`,
  },
  OAUTH_NO_REFRESH_TOKEN: {
    status: 502,
    message: (p: { emailAddress: string }) =>
      `The token endpoint returned no refresh token for ${p.emailAddress}; remove gmail-sync's access in the Google account's security settings and start the consent again.`,
  },
  OAUTH_TOKEN_ENDPOINT_FAILED: {
    status: 502,
    message: (p: { reason: string }) => `The OAuth token endpoint failed (${p.reason}); check GMAIL_SYNC_GOOGLE_TOKEN_URL and the client credentials, then retry.`,
  },

  // Temporal and the process.
  TEMPORAL_UNAVAILABLE: {
    status: 503,
    message: (p: { reason: string }) => `Temporal is unreachable or timed out (${p.reason}); retry later, and check TEMPORAL_ADDRESS if it persists.`,
  },
  MAILBOX_TASK_FAILING: {
    status: 503,
    message: (p: { emailAddress: string; reason: string }) =>
      `The workflow of mailbox ${p.emailAddress} cannot run its handlers because its workflow task is failing (${p.reason}). Open gmail-mailbox/${p.emailAddress} in the Temporal UI for the error; a nondeterminism error means the worker runs code that does not match the history, which \`npm run replay\` checks before a deploy.`,
  },
  NO_WORKER: {
    status: 503,
    message: (p: { reason: string }) =>
      `No gmail-sync worker is polling the task queue (${p.reason}); start \`npm run worker\` or check that its GMAIL_SYNC_TASK_QUEUE and TEMPORAL_NAMESPACE match the API's.`,
  },
  SHUTTING_DOWN: {
    status: 503,
    message: () => 'The server is shutting down; retry on another instance or in a few seconds.',
  },
  INTERNAL: {
    status: 500,
    message: () => 'An internal error occurred; the server log has the details under this request id.',
  },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
type ParamsOf<C extends ErrorCode> = Parameters<(typeof ERROR_CATALOGUE)[C]['message']>;

/** An error from the catalogue, thrown by routes and rendered by the error handler. */
export class ApiError extends Error {
  readonly statusCode: number;

  private constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = ERROR_CATALOGUE[code].status;
  }

  /** Builds the catalogue entry `code`, filling its message with `params`. */
  static of<C extends ErrorCode>(code: C, ...params: ParamsOf<C>): ApiError {
    const render = ERROR_CATALOGUE[code].message as (...args: unknown[]) => string;
    return new ApiError(code, render(...params));
  }
}

/** The JSON body of an error response. */
export interface ErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
}

export function errorBody(error: ApiError): ErrorBody {
  return { statusCode: error.statusCode, code: error.code, error: STATUS_CODES[error.statusCode] ?? 'Error', message: error.message };
}
