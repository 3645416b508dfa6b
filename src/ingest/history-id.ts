/**
 * The one check of a Gmail historyId, shared by the management API and the
 * ingest paths. A historyId is an unsigned 64-bit integer that travels as a
 * decimal string. Its canonical form has no sign, no leading zeros ("0"
 * itself excepted) and is at most 18446744073709551615 (2^64-1).
 */

/** Largest historyId, 2^64-1. */
export const HISTORY_ID_MAX = (1n << 64n) - 1n;

/** JSON Schema pattern of the canonical form; the range above 2^64-1 needs checkHistoryId. */
export const HISTORY_ID_PATTERN = '^(?:0|[1-9][0-9]{0,19})$';

export type HistoryIdCheck = { ok: true; historyId: string } | { ok: false; problem: string };

/**
 * Checks that `text` is a historyId in canonical form. The problem text
 * completes a sentence that starts with the field name, for example
 * "startHistoryId has leading zeros; ...".
 */
export function checkHistoryId(text: string): HistoryIdCheck {
  if (!/^[0-9]+$/.test(text)) {
    return { ok: false, problem: 'is not a decimal string of digits 0-9' };
  }
  if (text.length > 1 && text.startsWith('0')) {
    return { ok: false, problem: `has leading zeros; send ${JSON.stringify(text.replace(/^0+(?=.)/, ''))} instead` };
  }
  if (text.length > 20 || BigInt(text) > HISTORY_ID_MAX) {
    return { ok: false, problem: `is above ${HISTORY_ID_MAX}, the largest unsigned 64-bit integer` };
  }
  return { ok: true, historyId: text };
}
