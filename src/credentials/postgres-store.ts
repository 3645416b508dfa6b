import { Pool, type PoolConfig } from 'pg';

import { fromDatabaseRow, type DatabaseRow, type EncryptedRow, type RowStore } from './token-store';

/** Encrypted refresh tokens in PostgreSQL, for API and worker processes on separate hosts. */
export class PostgresRowStore implements RowStore {
  private constructor(private readonly pool: Pool) {}

  /** Connects and creates the table when it is missing. */
  static async open(config: PoolConfig): Promise<PostgresRowStore> {
    const pool = new Pool({ max: 5, ...config });
    await pool.query(`CREATE TABLE IF NOT EXISTS gmail_sync_refresh_tokens (
      email_address TEXT PRIMARY KEY,
      key_id TEXT NOT NULL,
      iv BYTEA NOT NULL,
      ciphertext BYTEA NOT NULL,
      tag BYTEA NOT NULL,
      scope TEXT NOT NULL,
      updated_at TIMESTAMPTZ NOT NULL
    )`);
    return new PostgresRowStore(pool);
  }

  async upsert(row: EncryptedRow): Promise<void> {
    await this.pool.query(
      `INSERT INTO gmail_sync_refresh_tokens (email_address, key_id, iv, ciphertext, tag, scope, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (email_address) DO UPDATE SET key_id = EXCLUDED.key_id, iv = EXCLUDED.iv,
         ciphertext = EXCLUDED.ciphertext, tag = EXCLUDED.tag, scope = EXCLUDED.scope, updated_at = EXCLUDED.updated_at`,
      [row.emailAddress, row.keyId, row.iv, row.ciphertext, row.tag, row.scope, row.updatedAt],
    );
  }

  async find(emailAddress: string): Promise<EncryptedRow | undefined> {
    const result = await this.pool.query<DatabaseRow>('SELECT * FROM gmail_sync_refresh_tokens WHERE email_address = $1', [emailAddress]);
    return result.rows[0] && fromDatabaseRow(result.rows[0]);
  }

  async remove(emailAddress: string): Promise<boolean> {
    const result = await this.pool.query('DELETE FROM gmail_sync_refresh_tokens WHERE email_address = $1', [emailAddress]);
    return (result.rowCount ?? 0) > 0;
  }

  async listNotEncryptedWith(keyId: string, limit: number): Promise<EncryptedRow[]> {
    const result = await this.pool.query<DatabaseRow>(
      'SELECT * FROM gmail_sync_refresh_tokens WHERE key_id <> $1 ORDER BY email_address LIMIT $2',
      [keyId, limit],
    );
    return result.rows.map(fromDatabaseRow);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
