import { randomInt } from 'node:crypto';

/** Largest uint64, the upper bound of a Gmail historyId. */
export const MAX_HISTORY_ID = (1n << 64n) - 1n;

/** Parses a uint64 decimal string; returns undefined for anything else (sign, fraction, overflow). */
export function parseHistoryId(value: unknown): bigint | undefined {
  if (typeof value !== 'string' || !/^\d{1,20}$/.test(value)) {
    return undefined;
  }
  const id = BigInt(value);
  return id <= MAX_HISTORY_ID ? id : undefined;
}

/**
 * Returns the historyId that follows `current`. Gmail's ids increase with gaps
 * (other mailbox activity takes ids too), so the step is random in 1..5; a
 * consumer that assumes consecutive ids fails here as it would against Gmail.
 */
export function nextHistoryId(current: string): string {
  return (BigInt(current) + BigInt(randomInt(1, 6))).toString();
}

export function compareHistoryIds(a: string, b: string): number {
  const left = BigInt(a);
  const right = BigInt(b);
  if (left === right) {
    return 0;
  }
  return left < right ? -1 : 1;
}
