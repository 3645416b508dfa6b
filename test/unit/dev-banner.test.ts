import { devBanner } from '../../src/api/dev-support';

const BASE = { apiUrl: 'http://127.0.0.1:3000', sandboxUrl: 'http://127.0.0.1:3001', uiUrl: 'http://127.0.0.1:8233', temporal: '127.0.0.1:7233' };

describe('devBanner', () => {
  it('prints a generated token', () => {
    const banner = devBanner({ ...BASE, token: 'generated-token-value', tokenFile: `${process.cwd()}/.data/dev-api-token` });

    expect(banner).toContain('API token:    generated-token-value   (saved in .data/dev-api-token)');
    expect(banner).toContain('TOKEN=generated-token-value');
  });

  it('hides a token the user set', () => {
    const banner = devBanner({ ...BASE, token: 'user-secret-token-value' });

    expect(banner).not.toContain('user-secret-token-value');
    expect(banner).toContain('TOKEN="$GMAIL_SYNC_API_TOKEN"');
  });

  it('includes the sandbox delivery step', () => {
    expect(devBanner({ ...BASE, token: 't', tokenFile: '/x' })).toContain('http://127.0.0.1:3001/sandbox/mailboxes/user@example.com/messages');
  });

  it('starts oauth mailboxes through the consent flow', () => {
    const banner = devBanner({ ...BASE, token: 't', tokenFile: '/x', credentialProvider: 'oauth' });

    expect(banner).toContain('LINK=$(curl -s -X POST http://127.0.0.1:3000/v1/oauth/links -H "authorization: Bearer $TOKEN"');
    expect(banner).toContain(`-d '{"emailAddress":"user@example.com"}' | node -pe`);
    expect(banner).toContain(`curl -s -L -H 'accept: application/json' "$LINK"`);
    expect(banner).not.toContain('/v1/oauth/start?emailAddress=');
    expect(banner).not.toContain('-X POST http://127.0.0.1:3000/v1/mailboxes');
  });
});
