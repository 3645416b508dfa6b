import { mkdirSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

import { fromDatabaseRow, type DatabaseRow, type EncryptedRow, type RowStore } from './token-store';

/** Encrypted refresh tokens in an embedded SQLite file, for one host that runs the API and the worker together. */
export class SqliteRowStore implements RowStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') {
      mkdirSync(path.dirname(file), { recursive: true });
    }
    this.db = new Database(file);
    // WAL lets the API and the worker read while the other writes.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS refresh_tokens (
      email_address TEXT PRIMARY KEY,
      key_id TEXT NOT NULL,
      iv BLOB NOT NULL,
      ciphertext BLOB NOT NULL,
      tag BLOB NOT NULL,
      scope TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`);
  }

  upsert(row: EncryptedRow): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO refresh_tokens (email_address, key_id, iv, ciphertext, tag, scope, updated_at)
         VALUES (@emailAddress, @keyId, @iv, @ciphertext, @tag, @scope, @updatedAt)
         ON CONFLICT (email_address) DO UPDATE SET key_id = excluded.key_id, iv = excluded.iv,
           ciphertext = excluded.ciphertext, tag = excluded.tag, scope = excluded.scope, updated_at = excluded.updated_at`,
      )
      .run(row);
    return Promise.resolve();
  }

  find(emailAddress: string): Promise<EncryptedRow | undefined> {
    const row = this.db.prepare('SELECT * FROM refresh_tokens WHERE email_address = ?').get(emailAddress) as DatabaseRow | undefined;
    return Promise.resolve(row && fromDatabaseRow(row));
  }

  remove(emailAddress: string): Promise<boolean> {
    return Promise.resolve(this.db.prepare('DELETE FROM refresh_tokens WHERE email_address = ?').run(emailAddress).changes > 0);
  }

  listNotEncryptedWith(keyId: string, limit: number): Promise<EncryptedRow[]> {
    const rows = this.db.prepare('SELECT * FROM refresh_tokens WHERE key_id <> ? ORDER BY email_address LIMIT ?').all(keyId, limit) as DatabaseRow[];
    return Promise.resolve(rows.map(fromDatabaseRow));
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}
