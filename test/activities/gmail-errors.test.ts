import { callGmail, createSandboxGmailProvider, retryAfterMs, type GmailProvider } from '../../src/gmail';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { failureOf } from '../helpers/gmail-failure';

describe('Gmail error mapper', () => {
  let sandbox: Sandbox;
  let provider: GmailProvider;
  let counter = 0;
  const address = (): string => `errors-${(counter += 1)}@example.com`;

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0 });
    provider = createSandboxGmailProvider(sandbox.url);
  });

  afterAll(async () => {
    await sandbox.stop();
  });

  it('maps history.list 404 to HistoryExpired', async () => {
    const emailAddress = address();
    const gmail = provider.client(emailAddress, { provider: 'sandbox' });
    const failure = await failureOf(callGmail('history.list', () => gmail.users.history.list({ userId: 'me', startHistoryId: '1' })));

    expect(failure.type).toBe('HistoryExpired');
    expect(failure.nonRetryable).toBe(true);
  });

  it('maps 429 to RateLimited with Retry-After', async () => {
    const emailAddress = address();
    sandbox.addFault({ method: 'getProfile', emailAddress, status: 429, retryAfterSeconds: 7 });
    const gmail = provider.client(emailAddress, { provider: 'sandbox' });
    const failure = await failureOf(callGmail('getProfile', () => gmail.users.getProfile({ userId: 'me' })));

    expect(failure.type).toBe('RateLimited');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(7000);
  });

  it('maps 403 rateLimitExceeded and 5xx to retryable failures', async () => {
    const emailAddress = address();
    const gmail = provider.client(emailAddress, { provider: 'sandbox' });
    sandbox.addFault({ method: 'getProfile', emailAddress, status: 503 });
    const unavailable = await failureOf(callGmail('getProfile', () => gmail.users.getProfile({ userId: 'me' })));

    expect(unavailable.type).toBe('GmailUnavailable');
    expect(unavailable.nonRetryable).toBe(false);

    // A rate-limit 403 on watch is a rate limit, not missing publish rights.
    // The auth client refreshes and retries once on 403, hence two failures.
    sandbox.addFault({ method: 'watch', emailAddress, status: 403, count: 2 });
    const limited = await failureOf(
      callGmail('watch', () => gmail.users.watch({ userId: 'me', requestBody: { topicName: 'projects/gmail-sync-test/topics/limited' } })),
    );
    expect(limited.type).toBe('RateLimited');
    expect(limited.nonRetryable).toBe(false);
  });

  it('maps invalid_grant to AuthRevoked', async () => {
    const emailAddress = address();
    sandbox.updateMailbox(emailAddress, { invalidGrant: true });
    const gmail = provider.client(emailAddress, { provider: 'sandbox' });
    const failure = await failureOf(callGmail('getProfile', () => gmail.users.getProfile({ userId: 'me' })));

    expect(failure.type).toBe('AuthRevoked');
    expect(failure.nonRetryable).toBe(true);
  });

  it('maps a 401 that persists after a refresh to AuthRevoked', async () => {
    const emailAddress = address();
    const gmail = provider.client(emailAddress, { provider: 'sandbox' });
    await gmail.users.getProfile({ userId: 'me' });
    sandbox.updateMailbox(emailAddress, { rejectAccessTokens: true });
    const refreshesBefore = sandbox.getCounters(emailAddress).tokenRefreshes;
    const failure = await failureOf(callGmail('getProfile', () => gmail.users.getProfile({ userId: 'me' })));

    expect(failure.type).toBe('AuthRevoked');
    expect(sandbox.getCounters(emailAddress).tokenRefreshes).toBe(refreshesBefore + 1);
  });

  it('maps watch 403 to WatchForbidden', async () => {
    const emailAddress = address();
    const topicName = 'projects/gmail-sync-test/topics/forbidden';
    sandbox.setTopicPublishRights(topicName, false);
    const gmail = provider.client(emailAddress, { provider: 'sandbox' });
    const failure = await failureOf(callGmail('watch', () => gmail.users.watch({ userId: 'me', requestBody: { topicName } })));

    expect(failure.type).toBe('WatchForbidden');
    expect(failure.nonRetryable).toBe(true);
  });

  it('maps any other 400 to InvalidRequest', async () => {
    const emailAddress = address();
    const gmail = provider.client(emailAddress, { provider: 'sandbox' });
    const failure = await failureOf(callGmail('watch', () => gmail.users.watch({ userId: 'me', requestBody: { topicName: 'not-a-topic' } })));

    expect(failure.type).toBe('InvalidRequest');
    expect(failure.nonRetryable).toBe(true);
  });

  it('maps a refused connection to a retryable failure', async () => {
    const closed = await startSandbox({ port: 0 });
    const url = closed.url;
    await closed.stop();
    const gmail = createSandboxGmailProvider(url).client(address(), { provider: 'sandbox' });
    const failure = await failureOf(callGmail('getProfile', () => gmail.users.getProfile({ userId: 'me' })));

    expect(failure.type).toBe('GmailRequestFailed');
    expect(failure.nonRetryable).toBe(false);
    expect(JSON.stringify(failure.cause)).not.toMatch(/Bearer|refresh_token/);
  });

  it('parses Retry-After as seconds or a date', () => {
    expect(retryAfterMs({ 'Retry-After': '3' })).toBe(3000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:10 GMT' }), Date.parse('2026-01-01T00:00:00Z'))).toBe(10_000);
    expect(retryAfterMs({})).toBeUndefined();
  });
});
