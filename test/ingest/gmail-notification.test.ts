import { decodeBase64Strict, decodeGmailNotification, normaliseHistoryId, parseGmailNotification } from '../../src/ingest/gmail-notification';
import { parse as parseLosslessJson } from 'lossless-json';

function encode(text: string, encoding: 'base64' | 'base64url' = 'base64'): string {
  return Buffer.from(text, 'utf8').toString(encoding);
}

describe('decodeBase64Strict', () => {
  const text = '{"emailAddress":"a@example.com","historyId":"1"}??>>';

  it.each([
    ['base64 with padding', encode(text)],
    ['base64 without padding', encode(text).replace(/=+$/, '')],
    ['base64url without padding', encode(text, 'base64url')],
    ['base64url with padding', encode(text, 'base64url').padEnd(Math.ceil(encode(text, 'base64url').length / 4) * 4, '=')],
  ])('decodes %s', (_name, data) => {
    expect(decodeBase64Strict(data)?.toString('utf8')).toBe(text);
  });

  it.each([
    ['characters outside both alphabets', '%%%not-base64%%%'],
    ['whitespace', 'aGVs bG8='],
    ['mixed alphabets', 'a+b_'],
    ['padding in the middle', 'aGVs=bG8'],
    ['too much padding', 'aGVsbG8==='],
    ['a length of 4n+1', 'aGVsb'],
    ['padding on a short group', 'aGVsbG8=='],
  ])('rejects %s', (_name, data) => {
    expect(decodeBase64Strict(data)).toBeUndefined();
  });
});

describe('normaliseHistoryId', () => {
  it('keeps every digit of a JSON number above 2^53', () => {
    const parsed = parseLosslessJson('{"historyId":18446744073709551615}') as { historyId: unknown };

    expect(normaliseHistoryId(parsed.historyId)).toBe('18446744073709551615');
  });

  it('accepts a decimal string and 0', () => {
    expect(normaliseHistoryId('1234')).toBe('1234');
    expect(normaliseHistoryId('0')).toBe('0');
  });

  it.each([
    ['negative', '-5'],
    ['fractional', '5.5'],
    ['exponent', '1e5'],
    ['above 2^64-1', '18446744073709551616'],
    ['trailing garbage', '12abc'],
    ['zero-padded', '0001234'],
    ['empty', ''],
    ['surrounding spaces', ' 12 '],
  ])('rejects a %s string', (_name, value) => {
    expect(normaliseHistoryId(value)).toBeUndefined();
  });

  it.each([
    ['negative', '-5'],
    ['fractional', '5.5'],
    ['exponent', '1e5'],
    ['above 2^64-1', '18446744073709551616'],
  ])('rejects a %s JSON number', (_name, literal) => {
    const parsed = parseLosslessJson(`{"historyId":${literal}}`) as { historyId: unknown };

    expect(normaliseHistoryId(parsed.historyId)).toBeUndefined();
  });

  it.each([
    ['boolean', true],
    ['null', null],
    ['object', { value: '1' }],
  ])('rejects a %s', (_name, value) => {
    expect(normaliseHistoryId(value)).toBeUndefined();
  });
});

describe('parseGmailNotification', () => {
  it('lower-cases the address and normalises a numeric historyId', () => {
    const result = parseGmailNotification(Buffer.from('{"emailAddress":"Alice@Example.com","historyId":4218307}'));

    expect(result).toEqual({ ok: true, notification: { emailAddress: 'alice@example.com', historyId: '4218307' } });
  });

  it.each([
    ['non-UTF-8 bytes', Buffer.from([0xff, 0xfe, 0x7b]), 'invalid_utf8'],
    ['text that is not JSON', Buffer.from('hello'), 'invalid_json'],
    ['JSON with trailing garbage', Buffer.from('{"emailAddress":"a@example.com","historyId":"1"} x'), 'invalid_json'],
    ['duplicate keys', Buffer.from('{"emailAddress":"a@example.com","historyId":"1","historyId":"2"}'), 'invalid_json'],
    ['a JSON array', Buffer.from('[1]'), 'not_gmail_notification'],
    ['no emailAddress', Buffer.from('{"historyId":"5"}'), 'not_gmail_notification'],
    ['no historyId', Buffer.from('{"emailAddress":"a@example.com"}'), 'not_gmail_notification'],
    ['an emailAddress that is not an address', Buffer.from('{"emailAddress":"not an address","historyId":"7"}'), 'invalid_email_address'],
    ['an emailAddress that is a number', Buffer.from('{"emailAddress":7,"historyId":"7"}'), 'invalid_email_address'],
    ['a negative historyId', Buffer.from('{"emailAddress":"a@example.com","historyId":-5}'), 'invalid_history_id'],
    ['a zero-padded historyId string', Buffer.from('{"emailAddress":"a@example.com","historyId":"000123"}'), 'invalid_history_id'],
    ['a local part over 64 characters', Buffer.from(`{"emailAddress":"${'a'.repeat(65)}@example.com","historyId":"7"}`), 'invalid_email_address'],
  ])('rejects %s', (_name, data, reason) => {
    const result = parseGmailNotification(data);

    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toBe(reason);
  });

  it('accepts a local part of 64 characters', () => {
    const result = parseGmailNotification(Buffer.from(`{"emailAddress":"${'a'.repeat(64)}@example.com","historyId":"7"}`));

    expect(result.ok).toBe(true);
  });

  it('does not quote the body in the failure detail', () => {
    const result = parseGmailNotification(Buffer.from('secret-looking-body'));

    expect(!result.ok && result.detail).not.toContain('secret');
  });
});

describe('decodeGmailNotification', () => {
  it('decodes the Gmail push guide example', () => {
    const result = decodeGmailNotification('eyJlbWFpbEFkZHJlc3MiOiAidXNlckBleGFtcGxlLmNvbSIsICJoaXN0b3J5SWQiOiAiMTIzNDU2Nzg5MCJ9');

    expect(result).toEqual({ ok: true, notification: { emailAddress: 'user@example.com', historyId: '1234567890' } });
  });

  it('reports data that is not base64', () => {
    const result = decodeGmailNotification('%%%not-base64%%%');

    expect(!result.ok && result.reason).toBe('invalid_base64');
  });
});
