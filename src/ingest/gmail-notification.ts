/**
 * Decoding and validation of a Gmail push notification, shared by the push
 * endpoint and the pull subscriber. Gmail publishes
 * `{"emailAddress": "...", "historyId": 1234}` as the Pub/Sub message data,
 * with historyId as a JSON number that can exceed 2^53, so the JSON is parsed
 * with lossless-json and the id is kept as a decimal string.
 */
import { isLosslessNumber, parse as parseLosslessJson } from 'lossless-json';

import { isEmailAddress } from './email-address';
import { checkHistoryId } from './history-id';

/** Reason a message can never be processed, used as the `reason` label of the dead-letter counter. */
export type DeadLetterReason =
  | 'invalid_base64'
  | 'invalid_utf8'
  | 'invalid_json'
  | 'not_gmail_notification'
  | 'invalid_history_id'
  | 'invalid_email_address'
  | 'signal_rejected';

export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = [
  'invalid_base64',
  'invalid_utf8',
  'invalid_json',
  'not_gmail_notification',
  'invalid_history_id',
  'invalid_email_address',
  'signal_rejected',
];

export interface GmailNotification {
  /** Lower-cased, as mailbox workflow ids use it. */
  emailAddress: string;
  /** uint64 as a decimal string without leading zeros. */
  historyId: string;
}

export type DecodeResult =
  | { ok: true; notification: GmailNotification }
  | { ok: false; reason: DeadLetterReason; detail: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes standard base64 or base64url, with or without `=` padding. Node's
 * own decoder skips characters outside the alphabet, so the alphabet, the
 * padding and the length are checked first. Returns undefined for anything
 * else, mixed alphabets included.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (!BASE64.test(text) && !BASE64URL.test(text)) {
    return undefined;
  }
  const unpadded = text.replace(/=+$/, '');
  const padding = text.length - unpadded.length;
  if (unpadded.length % 4 === 1) {
    return undefined;
  }
  if (padding > 0 && text.length % 4 !== 0) {
    return undefined;
  }
  return Buffer.from(unpadded, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
}

/**
 * Normalises a historyId given as a JSON string or number to a decimal
 * string, or returns undefined when it is not a historyId in the canonical
 * form that checkHistoryId defines. A zero-padded string is rejected too, so
 * the push path, the pull path and the management API accept the same
 * values; Gmail itself never pads them.
 */
export function normaliseHistoryId(value: unknown): string | undefined {
  let digits: string;
  if (typeof value === 'string') {
    digits = value;
  } else if (isLosslessNumber(value)) {
    digits = value.value;
  } else {
    return undefined;
  }
  const checked = checkHistoryId(digits);
  return checked.ok ? checked.historyId : undefined;
}

function fail(reason: DeadLetterReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/** Parses the bytes of one Pub/Sub message as Gmail's notification JSON. */
export function parseGmailNotification(data: Buffer): DecodeResult {
  // 1. UTF-8, then lossless JSON, so every digit of a numeric historyId survives.
  let text: string;
  try {
    text = UTF8.decode(data);
  } catch {
    return fail('invalid_utf8', 'message data is not UTF-8 text');
  }
  let parsed: unknown;
  try {
    parsed = parseLosslessJson(text);
  } catch (error) {
    // The parser's message quotes the offending character; only its position is kept.
    const position = /position (\d+)/.exec((error as Error).message)?.[1] ?? 'unknown';
    return fail('invalid_json', `message data is not JSON (error at position ${position})`);
  }

  // 2. The two fields Gmail sends.
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail('not_gmail_notification', 'message data is not a JSON object');
  }
  const { emailAddress, historyId } = parsed as Record<string, unknown>;
  if (emailAddress === undefined || historyId === undefined) {
    return fail('not_gmail_notification', 'message data lacks emailAddress or historyId');
  }

  // 3. Their values.
  if (typeof emailAddress !== 'string' || !isEmailAddress(emailAddress)) {
    return fail('invalid_email_address', 'emailAddress is not an email address');
  }
  const normalised = normaliseHistoryId(historyId);
  if (normalised === undefined) {
    return fail('invalid_history_id', 'historyId is not an unsigned 64-bit integer');
  }
  return { ok: true, notification: { emailAddress: emailAddress.toLowerCase(), historyId: normalised } };
}

/** Decodes a push message's base64 `data` field and parses it. */
export function decodeGmailNotification(data: string): DecodeResult {
  const bytes = decodeBase64Strict(data);
  if (bytes === undefined) {
    return fail('invalid_base64', 'message data is neither base64 nor base64url');
  }
  return parseGmailNotification(bytes);
}
