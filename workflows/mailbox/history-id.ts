/**
 * Gmail historyId helpers. A historyId is an unsigned 64-bit integer carried
 * as a decimal string; values above 2^53 lose precision as a JavaScript
 * number, so every comparison goes through BigInt. BigInt values stay local
 * to these functions and never enter workflow state.
 */

const UINT64_MAX = (1n << 64n) - 1n;

/** Whether `value` is a uint64 in canonical decimal form (no sign, no leading zeros). */
export function isHistoryId(value: unknown): value is string {
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(value)) {
    return false;
  }
  return BigInt(value) <= UINT64_MAX;
}

/** Compares two historyIds: negative when a < b, zero when equal, positive when a > b. */
export function compareHistoryIds(a: string, b: string): number {
  const difference = BigInt(a) - BigInt(b);
  return difference === 0n ? 0 : difference < 0n ? -1 : 1;
}

/** Whether `candidate` is strictly above `cursor`; a null cursor is below everything. */
export function isAfter(candidate: string, cursor: string | null): boolean {
  return cursor === null || compareHistoryIds(candidate, cursor) > 0;
}

/** The larger of two historyIds, treating null as absent. */
export function maxHistoryId(a: string | null, b: string | null): string | null {
  if (a === null) {
    return b;
  }
  if (b === null) {
    return a;
  }
  return compareHistoryIds(a, b) >= 0 ? a : b;
}
