import { invalidArgument } from '../google-error';

/**
 * Readers for Gmail query parameters. Repeated parameters arrive as arrays
 * (googleapis sends lists as `labelIds=A&labelIds=B`), single ones as strings;
 * a value of the wrong type gets a 400 that names the parameter.
 */
export type Query = Record<string, string | string[] | undefined>;

export function readString(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) {
    throw invalidArgument(`Invalid value for ${name}: expected one value, got ${value.length}`);
  }
  return value;
}

export function readList(query: Query, name: string): string[] {
  const value = query[name];
  if (value === undefined) {
    return [];
  }
  return Array.isArray(value) ? value : [value];
}

/** Reads maxResults: a positive integer, capped at `max` as Gmail caps it. */
export function readMaxResults(query: Query, defaultValue: number, max: number): number {
  const raw = readString(query, 'maxResults');
  if (raw === undefined) {
    return defaultValue;
  }
  if (!/^\d+$/.test(raw) || Number(raw) > 0xffffffff) {
    throw invalidArgument(`Invalid value at 'max_results' (TYPE_UINT32), "${raw}"`);
  }
  // NOTE: Gmail documents 500 as the maximum; whether it caps or rejects larger
  // values is not documented, and the sandbox caps them.
  const value = Number(raw);
  return value === 0 ? defaultValue : Math.min(value, max);
}

export function readEnum<T extends string>(query: Query, name: string, allowed: readonly T[], defaultValue: T): T {
  const raw = readString(query, name);
  if (raw === undefined) {
    return defaultValue;
  }
  const match = allowed.find((candidate) => candidate.toLowerCase() === raw.toLowerCase());
  if (!match) {
    throw invalidArgument(`Invalid value for ${name}: "${raw}"; allowed values are ${allowed.join(', ')}`);
  }
  return match;
}

export function readBoolean(query: Query, name: string): boolean {
  const raw = readString(query, name);
  if (raw === undefined) {
    return false;
  }
  if (raw !== 'true' && raw !== 'false') {
    throw invalidArgument(`Invalid value for ${name}: "${raw}"; expected true or false`);
  }
  return raw === 'true';
}

/** Page tokens are the position to resume after, as 20 digits; anything else is rejected. */
export function readPageToken(query: Query): bigint | undefined {
  const raw = readString(query, 'pageToken');
  if (raw === undefined || raw === '') {
    return undefined;
  }
  if (!/^\d{20}$/.test(raw)) {
    throw invalidArgument(`Invalid pageToken: "${raw}"`);
  }
  return BigInt(raw);
}

export function formatPageToken(position: bigint): string {
  return position.toString().padStart(20, '0');
}
