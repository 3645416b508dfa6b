import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runRotateTokenKeys } from '../../src/cli/rotate-token-keys';
import { loadConfig } from '../../src/config';
import { openTokenStore } from '../../src/credentials/credential-config';
import type { TokenStore } from '../../src/credentials/token-store';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

const OLD_KEY = `k1:${randomBytes(32).toString('base64')}`;
const NEW_KEY = `k2:${randomBytes(32).toString('base64')}`;

async function run(env: NodeJS.ProcessEnv, argv: string[] = []): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await runRotateTokenKeys(argv, env, (line) => lines.push(line));
  return { code, output: lines.join('\n') };
}

/** Opens the token store through the same configuration code as API and worker. */
async function openStore(env: NodeJS.ProcessEnv): Promise<TokenStore> {
  const store = await openTokenStore(loadConfig(env));
  if (store === undefined) {
    throw new Error('the test environment configures no token store');
  }
  return store;
}

async function putTokens(env: NodeJS.ProcessEnv, tokens: Record<string, string>): Promise<void> {
  const store = await openStore(env);
  for (const [emailAddress, refreshToken] of Object.entries(tokens)) {
    await store.put(emailAddress, { refreshToken, scope: 'https://www.googleapis.com/auth/gmail.readonly' });
  }
  await store.close();
}

async function readTokens(env: NodeJS.ProcessEnv, emailAddresses: string[]): Promise<Record<string, string | undefined>> {
  const store = await openStore(env);
  const result: Record<string, string | undefined> = {};
  for (const emailAddress of emailAddresses) {
    result[emailAddress] = (await store.get(emailAddress))?.refreshToken;
  }
  await store.close();
  return result;
}

describe('npm run rotate-token-keys', () => {
  let postgres: TestPostgres;

  beforeAll(async () => {
    postgres = await startPostgres();
  });

  afterAll(async () => {
    await postgres?.stop();
  });

  const stores: [string, () => NodeJS.ProcessEnv][] = [
    ['sqlite', () => ({ GMAIL_SYNC_TOKEN_STORE: 'sqlite', GMAIL_SYNC_TOKEN_STORE_PATH: path.join(mkdtempSync(path.join(os.tmpdir(), 'gmail-sync-rotate-')), 'tokens.sqlite') })],
    ['postgres', () => ({ GMAIL_SYNC_TOKEN_STORE: 'postgres', GMAIL_SYNC_TOKEN_STORE_URL: postgres.connectionString })],
  ];

  it.each(stores)('moves every %s token to the first key', async (_name, storeEnv) => {
    const where = storeEnv();
    await putTokens({ ...where, GMAIL_SYNC_TOKEN_KEYS: OLD_KEY }, { 'a@example.com': 'token-a', 'b@example.com': 'token-b' });

    const { code, output } = await run({ ...where, GMAIL_SYNC_TOKEN_KEYS: `${NEW_KEY},${OLD_KEY}` });

    expect(code).toBe(0);
    expect(output).toContain('re-encrypted 2 refresh token(s); every stored token now uses key "k2".');
    expect(output).toContain('The keys "k1" can now be removed from GMAIL_SYNC_TOKEN_KEYS.');
    // Without the old key, both tokens still decrypt.
    expect(await readTokens({ ...where, GMAIL_SYNC_TOKEN_KEYS: NEW_KEY }, ['a@example.com', 'b@example.com'])).toEqual({
      'a@example.com': 'token-a',
      'b@example.com': 'token-b',
    });
    expect((await run({ ...where, GMAIL_SYNC_TOKEN_KEYS: NEW_KEY })).output).toContain('re-encrypted 0 refresh token(s)');
  });

  it('names a token whose key is gone', async () => {
    const where = stores[0][1]();
    await putTokens({ ...where, GMAIL_SYNC_TOKEN_KEYS: OLD_KEY }, { 'lost@example.com': 'token-lost' });

    const { code, output } = await run({ ...where, GMAIL_SYNC_TOKEN_KEYS: NEW_KEY });

    expect(code).toBe(1);
    expect(output).toContain('The refresh token of lost@example.com is encrypted with key "k1", which the token keyring lacks.');
    expect(output).not.toContain('token-lost');
  });

  it('requires the token keyring', async () => {
    const { code, output } = await run(stores[0][1]());

    expect(code).toBe(2);
    expect(output).toContain('GMAIL_SYNC_TOKEN_KEYS is missing');
  });

  it('rejects an unknown argument', async () => {
    const { code, output } = await run({}, ['--dry-run']);

    expect(code).toBe(2);
    expect(output).toContain('unknown argument "--dry-run"');
  });
});
