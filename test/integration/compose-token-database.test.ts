import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { Client } from 'pg';

import { PostgresRowStore } from '../../src/credentials/postgres-store';
import { parseKeyring } from '../../src/credentials/token-cipher';
import { TokenStore } from '../../src/credentials/token-store';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

const INIT_SCRIPT = path.resolve(__dirname, '..', '..', 'docker', 'postgres-init', '10-gmail-sync.sh');

/** Returns the folder of Debian's PostgreSQL binaries, so that the script finds psql there. */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  return path.join(root, version, 'bin');
}

/** Runs the init script the way the postgres image does: as the superuser, against a server it reaches with libpq's variables. */
function runInitScript(postgres: TestPostgres, password: string | undefined): void {
  const url = new URL(postgres.connectionString);
  const env: NodeJS.ProcessEnv = {
    PATH: `${postgresBin()}:${process.env.PATH ?? ''}`,
    PGHOST: url.hostname,
    PGPORT: url.port,
    POSTGRES_USER: url.username,
  };
  if (password !== undefined) {
    env.TOKEN_STORE_DB_PASSWORD = password;
  }
  execFileSync(INIT_SCRIPT, [], { env, stdio: 'pipe' });
}

describe('docker/postgres-init/10-gmail-sync.sh', () => {
  let postgres: TestPostgres;

  beforeAll(async () => {
    postgres = await startPostgres();
  });

  afterAll(async () => {
    await postgres?.stop();
  });

  it('is executable, as the postgres image requires to run it', () => {
    expect(existsSync(INIT_SCRIPT)).toBe(true);
    expect(() => execFileSync('test', ['-x', INIT_SCRIPT])).not.toThrow();
  });

  it('fails without the database password', () => {
    expect(() => runInitScript(postgres, undefined)).toThrow(/TOKEN_STORE_DB_PASSWORD/);
  });

  it('creates a database where the token store works', async () => {
    const password = randomBytes(24).toString('hex');
    runInitScript(postgres, password);

    const admin = new Client({ connectionString: postgres.connectionString });
    await admin.connect();
    try {
      const role = await admin.query<{ rolcanlogin: boolean; has_password: boolean }>(
        "SELECT rolcanlogin, rolpassword IS NOT NULL AS has_password FROM pg_authid WHERE rolname = 'gmail_sync'",
      );
      expect(role.rows).toEqual([{ rolcanlogin: true, has_password: true }]);
      const database = await admin.query<{ owner: string }>(
        "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'gmail_sync'",
      );
      expect(database.rows).toEqual([{ owner: 'gmail_sync' }]);
    } finally {
      await admin.end();
    }

    // As the compose file's GMAIL_SYNC_TOKEN_STORE_URL does: the gmail_sync role on the gmail_sync database.
    const url = new URL(postgres.connectionString);
    const store = new TokenStore(
      await PostgresRowStore.open({ connectionString: `postgres://gmail_sync:${password}@${url.host}/gmail_sync` }),
      parseKeyring(`t1:${randomBytes(32).toString('base64')}`),
    );
    try {
      await store.put('alice@example.com', { refreshToken: 'refresh-token', scope: 'https://www.googleapis.com/auth/gmail.readonly' });
      expect((await store.get('alice@example.com'))?.refreshToken).toBe('refresh-token');
    } finally {
      await store.close();
    }
  });
});
