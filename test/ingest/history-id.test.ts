import { checkHistoryId } from '../../src/ingest/history-id';

describe('checkHistoryId', () => {
  it.each([['0'], ['1'], ['9007199254740993'], ['18446744073709551615']])('accepts %s', (text) => {
    expect(checkHistoryId(text)).toEqual({ ok: true, historyId: text });
  });

  it.each([
    ['leading zeros', '000123', 'has leading zeros; send "123" instead'],
    ['a zero-padded zero', '00', 'has leading zeros; send "0" instead'],
    ['2^64', '18446744073709551616', 'is above 18446744073709551615'],
    ['21 digits', '100000000000000000000', 'is above 18446744073709551615'],
    ['a sign', '+5', 'is not a decimal string'],
    ['an exponent', '1e5', 'is not a decimal string'],
    ['an empty string', '', 'is not a decimal string'],
  ])('rejects %s', (_name, text, problem) => {
    const result = checkHistoryId(text);

    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toContain(problem);
  });
});
