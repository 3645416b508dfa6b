import { ApplicationFailure } from '@temporalio/common';

import { GmailFailureType } from '../../workflows/mailbox/failures';

/** 403 reasons that Gmail uses for rate limits and quota, retryable with backoff. */
const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'concurrentLimitExceeded']);

/** The Gmail method that failed; a 404 or a 403 means different things per method. */
export type GmailMethod = 'getProfile' | 'watch' | 'stop' | 'history.list' | 'messages.list' | 'messages.get';

/** No refresh token is stored for a mailbox with `oauth` credentials; the consent flow has to run (again). */
export class MissingGrantError extends Error {
  constructor(readonly emailAddress: string) {
    super(
      `No refresh token is stored for ${emailAddress}; create a consent link with POST /v1/oauth/links {"emailAddress":"${emailAddress}"} and have the mailbox owner open it in a browser to grant access.`,
    );
    this.name = 'MissingGrantError';
  }
}

interface HttpErrorShape {
  status?: number;
  message?: string;
  response?: {
    status?: number;
    headers?: unknown;
    data?: unknown;
  };
}

/**
 * Maps a Gmail or OAuth error to the ApplicationFailure the workflow acts on.
 * A missing stored refresh token counts as a revoked grant. Errors without an HTTP status (connection refused, timeouts) become a
 * retryable `GmailRequestFailed`. Every failure drops the original error's
 * request and response, because gaxios keeps the Authorization header there
 * and the worker logs failed activities.
 */
export function toGmailFailure(error: unknown, method: GmailMethod): ApplicationFailure {
  if (error instanceof MissingGrantError) {
    return failure(GmailFailureType.AuthRevoked, error.message, error);
  }
  const httpError = error as HttpErrorShape;
  const status = httpError.response?.status ?? httpError.status;
  if (typeof status !== 'number') {
    const message = error instanceof Error ? error.message : String(error);
    return failure(GmailFailureType.GmailRequestFailed, `Gmail ${method} request failed: ${message}`, error);
  }
  const data = httpError.response?.data;
  // Gmail errors carry a reason; token endpoint errors an OAuth error code such as unauthorized_client.
  const reason = googleErrorReason(data) ?? oauthError(data);
  const detail = `Gmail ${method} returned HTTP ${status}${reason ? ` (${reason})` : ''}: ${errorMessage(data) ?? httpError.message ?? 'no message'}`;

  if (oauthError(data) === 'invalid_grant') {
    return failure(GmailFailureType.AuthRevoked, `The OAuth token endpoint answered invalid_grant during ${method}: the grant is revoked or expired; renew the mailbox's credentials.`, error);
  }
  if (status === 401) {
    return failure(GmailFailureType.AuthRevoked, `${detail}. The access token was refused after a refresh; renew the mailbox's credentials.`, error);
  }
  if (status === 429 || (status === 403 && reason !== undefined && RATE_LIMIT_REASONS.has(reason))) {
    return failure(GmailFailureType.RateLimited, detail, error, retryAfterMs(httpError.response?.headers));
  }
  if (status >= 500) {
    return failure(GmailFailureType.GmailUnavailable, detail, error, retryAfterMs(httpError.response?.headers));
  }
  if (status === 404 && method === 'history.list') {
    return failure(GmailFailureType.HistoryExpired, `${detail}. The start historyId is older than Gmail's retained history.`, error);
  }
  if (status === 403 && method === 'watch') {
    return failure(GmailFailureType.WatchForbidden, detail, error);
  }
  return failure(GmailFailureType.InvalidRequest, detail, error);
}

/** Runs one Gmail call and rethrows its error as a typed failure. */
export async function callGmail<T>(method: GmailMethod, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toGmailFailure(error, method);
  }
}

const RETRYABLE: ReadonlySet<string> = new Set([GmailFailureType.RateLimited, GmailFailureType.GmailUnavailable, GmailFailureType.GmailRequestFailed]);

function failure(type: GmailFailureType, message: string, cause: unknown, nextRetryDelayMs?: number): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: !RETRYABLE.has(type),
    nextRetryDelay: nextRetryDelayMs,
    cause: cause instanceof Error ? stripResponse(cause) : undefined,
  });
}

/** A copy of the error without request or response objects, which can carry tokens. */
function stripResponse(error: Error): Error {
  const copy = new Error(error.message);
  copy.name = error.name;
  return copy;
}

/**
 * Parses Retry-After (seconds or an HTTP date) into milliseconds; undefined
 * when absent or unreadable, so the retry policy's backoff applies.
 */
export function retryAfterMs(headers: unknown, now: number = Date.now()): number | undefined {
  const raw = headerValue(headers, 'retry-after');
  if (raw === undefined || raw.trim() === '') {
    return undefined;
  }
  if (/^\d+$/.test(raw.trim())) {
    return Number(raw.trim()) * 1000;
  }
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(date - now, 0);
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') {
    return undefined;
  }
  if (typeof (headers as Headers).get === 'function') {
    return (headers as Headers).get(name) ?? undefined;
  }
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  return entry === undefined ? undefined : String(entry[1]);
}

/** `error.errors[0].reason` of Google's JSON error body. */
function googleErrorReason(data: unknown): string | undefined {
  const error = (data as { error?: { errors?: Array<{ reason?: string }> } } | undefined)?.error;
  return typeof error === 'object' ? error?.errors?.[0]?.reason : undefined;
}

function errorMessage(data: unknown): string | undefined {
  const error = (data as { error?: unknown; error_description?: string } | undefined)?.error;
  if (typeof error === 'object' && error !== null) {
    return (error as { message?: string }).message;
  }
  return (data as { error_description?: string } | undefined)?.error_description;
}

/** The OAuth token endpoint's `error` field, a string such as `invalid_grant`. */
function oauthError(data: unknown): string | undefined {
  const error = (data as { error?: unknown } | undefined)?.error;
  return typeof error === 'string' ? error : undefined;
}
