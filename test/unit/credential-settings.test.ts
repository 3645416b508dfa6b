import { ConfigError, loadConfig } from '../../src/config';
import { requireCredentialSettings } from '../../src/credentials/credential-config';

function problemsOf(env: Record<string, string>, process: 'api' | 'worker'): string[] {
  try {
    requireCredentialSettings(loadConfig(env), process);
  } catch (error) {
    if (error instanceof ConfigError) {
      return error.problems;
    }
    throw error;
  }
  return [];
}

const KEYS = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
const OAUTH_CLIENT = { GMAIL_SYNC_OAUTH_CLIENT_ID: 'id.apps.googleusercontent.com', GMAIL_SYNC_OAUTH_CLIENT_SECRET: 'secret' };

describe('requireCredentialSettings', () => {
  it('names every missing oauth setting for the API', () => {
    const problems = problemsOf({ GMAIL_SYNC_CREDENTIAL_PROVIDER: 'oauth' }, 'api');

    expect(problems).toHaveLength(3);
    expect(problems[0]).toContain('GMAIL_SYNC_TOKEN_KEYS is missing');
    expect(problems[1]).toContain('GMAIL_SYNC_OAUTH_CLIENT_ID and GMAIL_SYNC_OAUTH_CLIENT_SECRET');
    expect(problems[2]).toContain('GMAIL_SYNC_OAUTH_REDIRECT_URL is missing');
  });

  it('leaves the redirect URL to the API', () => {
    expect(problemsOf({ GMAIL_SYNC_CREDENTIAL_PROVIDER: 'oauth', GMAIL_SYNC_TOKEN_KEYS: KEYS, ...OAUTH_CLIENT }, 'worker')).toEqual([]);
  });

  it('needs a connection string for the postgres store', () => {
    const problems = problemsOf({ GMAIL_SYNC_CREDENTIAL_PROVIDER: 'oauth', GMAIL_SYNC_TOKEN_KEYS: KEYS, GMAIL_SYNC_TOKEN_STORE: 'postgres', ...OAUTH_CLIENT }, 'worker');

    expect(problems).toEqual([expect.stringContaining('GMAIL_SYNC_TOKEN_STORE_URL is missing')]);
  });

  it('rejects a workspace key file that does not exist', () => {
    const problems = problemsOf({ GMAIL_SYNC_CREDENTIAL_PROVIDER: 'workspace', GMAIL_SYNC_WORKSPACE_KEY_FILE: '/nonexistent/key.json' }, 'worker');

    expect(problems).toEqual([expect.stringContaining('GMAIL_SYNC_WORKSPACE_KEY_FILE="/nonexistent/key.json" does not exist')]);
  });

  it('asks nothing of sandbox credentials', () => {
    expect(problemsOf({}, 'api')).toEqual([]);
  });

  it('hides a bad token store URL', () => {
    expect(() => loadConfig({ GMAIL_SYNC_TOKEN_STORE_URL: 'mysql://user:hunter2@db/x' })).toThrow(/GMAIL_SYNC_TOKEN_STORE_URL=\(hidden, \d+ characters\) is invalid/);
  });
});
