import { decryptToken, encryptToken, type EncryptedToken, type Keyring } from './token-cipher';

/** A stored grant: the refresh token and what it allows. */
export interface StoredGrant {
  refreshToken: string;
  scope: string;
  updatedAt: string;
}

/** A row as the database keeps it: the token encrypted, everything else in the clear. */
export interface EncryptedRow extends EncryptedToken {
  emailAddress: string;
  scope: string;
  updatedAt: string;
}

/** A row with the column names both databases use; PostgreSQL returns the timestamp as a Date. */
export interface DatabaseRow {
  email_address: string;
  key_id: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
  scope: string;
  updated_at: string | Date;
}

export function fromDatabaseRow(row: DatabaseRow): EncryptedRow {
  return {
    emailAddress: row.email_address,
    keyId: row.key_id,
    iv: row.iv,
    ciphertext: row.ciphertext,
    tag: row.tag,
    scope: row.scope,
    updatedAt: row.updated_at instanceof Date ? row.updated_at.toISOString() : row.updated_at,
  };
}

/** Persistence for encrypted rows; the SQLite and PostgreSQL stores implement it. */
export interface RowStore {
  upsert(row: EncryptedRow): Promise<void>;
  find(emailAddress: string): Promise<EncryptedRow | undefined>;
  remove(emailAddress: string): Promise<boolean>;
  /** Rows whose key id differs from the given one, for rotation. */
  listNotEncryptedWith(keyId: string, limit: number): Promise<EncryptedRow[]>;
  close(): Promise<void>;
}

/**
 * Refresh tokens by mailbox address, encrypted at rest with AES-256-GCM.
 * Addresses are stored lower-cased, as Gmail's getProfile returns them.
 */
export class TokenStore {
  constructor(
    private readonly rows: RowStore,
    private readonly keyring: Keyring,
  ) {}

  async put(emailAddress: string, grant: { refreshToken: string; scope: string }): Promise<void> {
    const address = emailAddress.toLowerCase();
    await this.rows.upsert({
      emailAddress: address,
      scope: grant.scope,
      updatedAt: new Date().toISOString(),
      ...encryptToken(this.keyring, address, grant.refreshToken),
    });
  }

  async get(emailAddress: string): Promise<StoredGrant | undefined> {
    const address = emailAddress.toLowerCase();
    const row = await this.rows.find(address);
    if (!row) {
      return undefined;
    }
    return { refreshToken: decryptToken(this.keyring, address, row), scope: row.scope, updatedAt: row.updatedAt };
  }

  async delete(emailAddress: string): Promise<boolean> {
    return this.rows.remove(emailAddress.toLowerCase());
  }

  /** Re-encrypts every row that an older key encrypted with the active key, and returns how many changed. */
  async rotate(batchSize = 100): Promise<number> {
    let rotated = 0;
    for (;;) {
      const batch = await this.rows.listNotEncryptedWith(this.keyring.activeKeyId, batchSize);
      if (batch.length === 0) {
        return rotated;
      }
      for (const row of batch) {
        const token = decryptToken(this.keyring, row.emailAddress, row);
        await this.rows.upsert({ ...row, ...encryptToken(this.keyring, row.emailAddress, token) });
        rotated += 1;
      }
    }
  }

  close(): Promise<void> {
    return this.rows.close();
  }
}
