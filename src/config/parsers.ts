/**
 * Parsers for environment settings. Each returns the parsed value or throws a
 * plain Error whose message states what is allowed, and the config loader adds the
 * variable's name and value.
 */

export function parseString(raw: string): string {
  if (raw.trim() === '') {
    throw new Error('a non-empty string');
  }
  return raw;
}

export function parseInteger(min: number, max: number): (raw: string) => number {
  return (raw) => {
    if (!/^\d+$/.test(raw.trim())) {
      throw new Error(`a whole number from ${min} to ${max}`);
    }
    const value = Number(raw.trim());
    if (value < min || value > max) {
      throw new Error(`a whole number from ${min} to ${max}`);
    }
    return value;
  };
}

export function parsePort(raw: string): number {
  return parseInteger(1, 65535)(raw);
}

export function parseBoolean(raw: string): boolean {
  const normalized = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalized)) {
    return true;
  }
  if (['0', 'false', 'no', 'off'].includes(normalized)) {
    return false;
  }
  throw new Error('one of true, false, 1, 0, yes, no, on, off');
}

export function parseOneOf<T extends string>(allowed: readonly T[]): (raw: string) => T {
  return (raw) => {
    const value = raw.trim() as T;
    if (!allowed.includes(value)) {
      throw new Error(`one of ${allowed.join(', ')}`);
    }
    return value;
  };
}

/** Parses `host:port`, with an IPv6 host in brackets, as gRPC clients take it. */
export function parseHostPort(raw: string): string {
  const value = raw.trim();
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
    throw new Error('host:port, for example 127.0.0.1:7233 or temporal.example.com:7233');
  }
  return value;
}
