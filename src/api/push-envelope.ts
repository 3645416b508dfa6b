/**
 * Reads a Pub/Sub push body in either format. Wrapped:
 * `{"message": {"data": "<base64>", "messageId", "publishTime", ...},
 * "subscription", "deliveryAttempt"?}`. Unwrapped ("no wrapper"): the body is
 * the message data itself, here Gmail's JSON, with the metadata in
 * `x-goog-pubsub-*` headers when the subscription writes it.
 */
import type { IncomingHttpHeaders } from 'node:http';

import { isLosslessNumber, parse as parseLosslessJson } from 'lossless-json';

import { decodeGmailNotification, parseGmailNotification, type DecodeResult } from '../ingest/gmail-notification';
import type { PubsubMessageMeta } from '../ingest/ingest-notification';

export type PushReadResult =
  | { ok: true; format: 'wrapped' | 'unwrapped'; decoded: DecodeResult; meta: PubsubMessageMeta }
  | { ok: false; problem: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(...values: unknown[]): string | undefined {
  return values.find((value): value is string => typeof value === 'string');
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readWrapped(body: Record<string, unknown>): PushReadResult {
  const message = body.message;
  if (!isObject(message)) {
    return { ok: false, problem: '"message" is not an object' };
  }
  if (typeof message.data !== 'string') {
    return { ok: false, problem: message.data === undefined ? '"message.data" is missing' : '"message.data" is not a string' };
  }
  const attempt = body.deliveryAttempt;
  return {
    ok: true,
    format: 'wrapped',
    decoded: decodeGmailNotification(message.data),
    meta: {
      messageId: optionalString(message.messageId, message.message_id),
      publishTime: optionalString(message.publishTime, message.publish_time),
      subscription: optionalString(body.subscription),
      deliveryAttempt: isLosslessNumber(attempt) ? Number(attempt.value) : undefined,
    },
  };
}

/**
 * Classifies a push body. A body that is not a Pub/Sub push at all returns a
 * problem, which the endpoint rejects with 400. A push whose data is bad
 * returns a failed DecodeResult, which the endpoint acknowledges as a dead letter.
 */
export function readPushBody(raw: string, headers: IncomingHttpHeaders): PushReadResult {
  let body: unknown;
  try {
    body = parseLosslessJson(raw);
  } catch {
    return { ok: false, problem: 'the body is not JSON' };
  }
  if (!isObject(body)) {
    return { ok: false, problem: 'the body is not a JSON object' };
  }
  if ('message' in body) {
    return readWrapped(body);
  }
  if ('emailAddress' in body || 'historyId' in body) {
    return {
      ok: true,
      format: 'unwrapped',
      decoded: parseGmailNotification(Buffer.from(raw, 'utf8')),
      meta: {
        messageId: header(headers, 'x-goog-pubsub-message-id'),
        publishTime: header(headers, 'x-goog-pubsub-publish-time'),
        subscription: header(headers, 'x-goog-pubsub-subscription-name'),
      },
    };
  }
  return { ok: false, problem: '"message" is missing' };
}
