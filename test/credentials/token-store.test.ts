import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { Client } from 'pg';

import { PostgresRowStore } from '../../src/credentials/postgres-store';
import { SqliteRowStore } from '../../src/credentials/sqlite-store';
import { parseKeyring, type Keyring } from '../../src/credentials/token-cipher';
import { TokenStore, type RowStore } from '../../src/credentials/token-store';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

const REFRESH_TOKEN = '1//0refresh-token-that-must-never-be-readable';

function keyringWith(...ids: string[]): Keyring {
  return parseKeyring(ids.map((id) => `${id}:${randomBytes(32).toString('base64')}`).join(','));
}

interface Backend {
  name: string;
  open(): Promise<RowStore>;
  /** Every stored byte of every row, to check that no token is readable. */
  rawRows(): Promise<Buffer[]>;
  /** Deletes every row, for a test that must see only its own. */
  clear(): Promise<void>;
  /** Moves one row's encrypted columns onto another row, as an attacker with write access could. */
  copyCiphertext(from: string, to: string): Promise<void>;
}

let postgres: TestPostgres;
const sqliteFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'gmail-sync-tokens-')), 'tokens.sqlite');

const backends: Backend[] = [
  {
    name: 'SQLite',
    open: () => Promise.resolve(new SqliteRowStore(sqliteFile)),
    rawRows: () => {
      const db = new Database(sqliteFile, { readonly: true });
      const rows = db.prepare('SELECT * FROM refresh_tokens').all() as Record<string, unknown>[];
      db.close();
      return Promise.resolve(rows.map((row) => Buffer.concat(Object.values(row).map((value) => Buffer.from(value as string)))));
    },
    clear: () => {
      const db = new Database(sqliteFile);
      db.prepare('DELETE FROM refresh_tokens').run();
      db.close();
      return Promise.resolve();
    },
    copyCiphertext: (from, to) => {
      const db = new Database(sqliteFile);
      db.prepare(
        `UPDATE refresh_tokens SET (key_id, iv, ciphertext, tag) =
           (SELECT key_id, iv, ciphertext, tag FROM refresh_tokens WHERE email_address = ?) WHERE email_address = ?`,
      ).run(from, to);
      db.close();
      return Promise.resolve();
    },
  },
  {
    name: 'PostgreSQL',
    open: () => PostgresRowStore.open({ connectionString: postgres.connectionString }),
    rawRows: async () => {
      const client = new Client({ connectionString: postgres.connectionString });
      await client.connect();
      const result = await client.query('SELECT email_address, key_id, iv, ciphertext, tag, scope FROM gmail_sync_refresh_tokens');
      await client.end();
      return result.rows.map((row: Record<string, unknown>) => Buffer.concat(Object.values(row).map((value) => Buffer.from(value as string))));
    },
    clear: async () => {
      const client = new Client({ connectionString: postgres.connectionString });
      await client.connect();
      await client.query('DELETE FROM gmail_sync_refresh_tokens');
      await client.end();
    },
    copyCiphertext: async (from, to) => {
      const client = new Client({ connectionString: postgres.connectionString });
      await client.connect();
      await client.query(
        `UPDATE gmail_sync_refresh_tokens AS target SET key_id = source.key_id, iv = source.iv, ciphertext = source.ciphertext, tag = source.tag
         FROM gmail_sync_refresh_tokens AS source WHERE source.email_address = $1 AND target.email_address = $2`,
        [from, to],
      );
      await client.end();
    },
  },
];

beforeAll(async () => {
  postgres = await startPostgres();
});

afterAll(async () => {
  await postgres?.stop();
});

describe.each(backends)('TokenStore on $name', (backend) => {
  it('round-trips a refresh token', async () => {
    const store = new TokenStore(await backend.open(), keyringWith('k1'));

    await store.put('Round.Trip@Example.com', { refreshToken: REFRESH_TOKEN, scope: 'https://www.googleapis.com/auth/gmail.readonly' });
    const grant = await store.get('round.trip@example.com');
    await store.close();

    expect(grant?.refreshToken).toBe(REFRESH_TOKEN);
    expect(grant?.scope).toBe('https://www.googleapis.com/auth/gmail.readonly');
  });

  it('stores no readable token', async () => {
    const store = new TokenStore(await backend.open(), keyringWith('k1'));
    await store.put('readable@example.com', { refreshToken: REFRESH_TOKEN, scope: 'gmail.readonly' });
    await store.close();

    const rows = await backend.rawRows();

    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.includes(Buffer.from('refresh-token-that-must-never'))).toBe(false);
    }
  });

  it('rejects a ciphertext moved to another mailbox', async () => {
    const store = new TokenStore(await backend.open(), keyringWith('k1'));
    await store.put('victim@example.com', { refreshToken: REFRESH_TOKEN, scope: 's' });
    await store.put('attacker@example.com', { refreshToken: 'attacker-token', scope: 's' });

    await backend.copyCiphertext('victim@example.com', 'attacker@example.com');

    await expect(store.get('attacker@example.com')).rejects.toThrow('Unsupported state or unable to authenticate data');
    await store.close();
  });

  it('rotates rows to the new key', async () => {
    await backend.clear();
    const oldKeys = keyringWith('old');
    const before = new TokenStore(await backend.open(), oldKeys);
    await before.put('rotate-a@example.com', { refreshToken: 'token-a', scope: 's' });
    await before.put('rotate-b@example.com', { refreshToken: 'token-b', scope: 's' });
    await before.close();

    const newKey = randomBytes(32).toString('base64');
    const both: Keyring = { activeKeyId: 'new', keys: { new: Buffer.from(newKey, 'base64'), ...oldKeys.keys } };
    const during = new TokenStore(await backend.open(), both);
    const rotated = await during.rotate(1);
    await during.close();
    const after = new TokenStore(await backend.open(), parseKeyring(`new:${newKey}`));

    expect(rotated).toBe(2);
    expect((await after.get('rotate-a@example.com'))?.refreshToken).toBe('token-a');
    expect((await after.get('rotate-b@example.com'))?.refreshToken).toBe('token-b');
    await after.close();
  });

  it('names a missing key', async () => {
    const store = new TokenStore(await backend.open(), keyringWith('first'));
    await store.put('missing-key@example.com', { refreshToken: 'token', scope: 's' });
    await store.close();

    const other = new TokenStore(await backend.open(), keyringWith('second'));

    await expect(other.get('missing-key@example.com')).rejects.toThrow('encrypted with key "first", which the token keyring lacks');
    await other.close();
  });

  it('deletes a grant', async () => {
    const store = new TokenStore(await backend.open(), keyringWith('k1'));
    await store.put('delete-me@example.com', { refreshToken: 'token', scope: 's' });

    expect(await store.delete('DELETE-ME@example.com')).toBe(true);
    expect(await store.get('delete-me@example.com')).toBeUndefined();
    await store.close();
  });
});

describe('parseKeyring', () => {
  it('uses the first key for encryption', () => {
    const keyring = keyringWith('a', 'b');

    expect(keyring.activeKeyId).toBe('a');
    expect(Object.keys(keyring.keys)).toEqual(['a', 'b']);
  });

  it.each([
    ['k1:c2hvcnQ=', 'key "k1" decodes to 5 bytes instead of 32'],
    ['no-separator', 'entry 1 has no valid key id'],
    [`k1:${Buffer.alloc(32).toString('base64')},k1:${Buffer.alloc(32).toString('base64')}`, 'key id "k1" appears twice'],
  ])('rejects %s', (raw, message) => {
    expect(() => parseKeyring(raw)).toThrow(message);
  });

  it('never prints key material', () => {
    const secret = Buffer.alloc(16, 7).toString('base64');

    let message = '';
    try {
      parseKeyring(`k1:${secret}`);
    } catch (error) {
      message = (error as Error).message;
    }

    expect(message).toContain('key "k1" decodes to 16 bytes');
    expect(message).not.toContain(secret);
  });
});
