import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { ApiServer } from '../../src/api/server';
import { startMailbox } from '../../src/temporal/mailbox-client';
import type { NotifyInput } from '../../workflows/mailbox/types';
import { API_TOKEN, mailboxId, startApiHarness, TOPIC_NAME, type ApiHarness } from './helpers/api-harness';
import { notificationsQuery } from './helpers/recording-mailbox-workflow';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'pubsub');

function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

function envelope(data: string, messageId = `m-${Math.random()}`): string {
  return JSON.stringify({ message: { data, messageId, publishTime: '2026-12-04T20:00:00.000Z' }, subscription: 'projects/p/subscriptions/s' });
}

function gmailData(json: string): string {
  return Buffer.from(json, 'utf8').toString('base64');
}

describe('POST /pubsub/push', () => {
  let harness: ApiHarness;
  let api: ApiServer;

  async function notifications(emailAddress: string): Promise<NotifyInput[]> {
    return harness.env.client.workflow.getHandle(mailboxId(emailAddress)).query(notificationsQuery);
  }

  async function push(body: string, options: { token?: string | null; contentType?: string; headers?: Record<string, string> } = {}) {
    const token = options.token === undefined ? harness.issuer.sign() : options.token;
    return api.app.inject({
      method: 'POST',
      url: '/pubsub/push',
      headers: {
        'content-type': options.contentType ?? 'application/json',
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...options.headers,
      },
      payload: body,
    });
  }

  async function counter(name: string, labels: Record<string, string>): Promise<number> {
    const metric = await api.metrics.registry.getSingleMetric(name)?.get();
    const value = metric?.values.find((entry) => Object.entries(labels).every(([key, label]) => entry.labels[key] === label));
    return value?.value ?? 0;
  }

  beforeAll(async () => {
    harness = await startApiHarness();
    api = await harness.startApi();
    for (const emailAddress of ['user@example.com', 'alice@example.com', 'bob@example.com', 'a@example.com', "o'brien@example.com"]) {
      await startMailbox(harness.env.client, harness.taskQueue, {
        emailAddress,
        watch: { topicName: TOPIC_NAME },
        credential: { provider: 'sandbox' },
      });
    }
  });

  afterAll(async () => {
    await harness?.teardown();
  });

  describe('real pushes', () => {
    it('signals the push guide example byte for byte', async () => {
      const response = await push(fixture('push-guide-example.json'));

      expect(response.statusCode).toBe(204);
      expect(await notifications('user@example.com')).toEqual([
        { historyId: '1234567890', messageId: '2070443601311540', publishTime: '2021-02-26T19:13:55.749Z' },
      ]);
    });

    it('signals a numeric historyId as a decimal string', async () => {
      const response = await push(fixture('push-numeric-historyid.json'));

      expect(response.statusCode).toBe(204);
      expect(await notifications('alice@example.com')).toContainEqual({
        historyId: '4218307',
        messageId: '13524012790042133',
        publishTime: '2026-11-30T08:01:12.412Z',
      });
    });

    it('keeps every digit of a historyId above 2^53', async () => {
      const response = await push(fixture('push-large-historyid.json'));

      expect(response.statusCode).toBe(204);
      expect((await notifications('bob@example.com')).map((n) => n.historyId)).toContain('18446744073709551000');
    });

    it('keeps every digit of a numeric historyId of 2^64-1', async () => {
      const response = await push(envelope(gmailData('{"emailAddress":"bob@example.com","historyId":18446744073709551615}')));

      expect(response.statusCode).toBe(204);
      expect((await notifications('bob@example.com')).map((n) => n.historyId)).toContain('18446744073709551615');
    });

    it('acknowledges a redelivery of the same message again', async () => {
      const before = (await notifications('alice@example.com')).length;

      const first = await push(fixture('push-redelivery.json'));
      const second = await push(fixture('push-redelivery.json'));

      expect(first.statusCode).toBe(204);
      expect(second.statusCode).toBe(204);
      const received = (await notifications('alice@example.com')).slice(before);
      expect(received.map((n) => n.messageId)).toEqual(['13524012790042134', '13524012790042134']);
      expect(received.map((n) => n.historyId)).toEqual(['4218311', '4218311']);
    });

    it('accepts the unwrapped format with metadata headers', async () => {
      const response = await push('{"emailAddress":"alice@example.com","historyId":4218400}', {
        headers: { 'x-goog-pubsub-message-id': 'unwrapped-1', 'x-goog-pubsub-publish-time': '2026-12-04T20:00:01.000Z' },
      });

      expect(response.statusCode).toBe(204);
      expect(await notifications('alice@example.com')).toContainEqual({
        historyId: '4218400',
        messageId: 'unwrapped-1',
        publishTime: '2026-12-04T20:00:01.000Z',
      });
    });

    it('accepts base64url data without padding', async () => {
      const data = Buffer.from('{"emailAddress":"alice@example.com","historyId":"4218500"}').toString('base64url');

      const response = await push(envelope(data, 'b64url'));

      expect(response.statusCode).toBe(204);
      expect((await notifications('alice@example.com')).map((n) => n.historyId)).toContain('4218500');
    });

    it('lower-cases the address before signalling', async () => {
      const response = await push(envelope(gmailData('{"emailAddress":"Alice@Example.COM","historyId":"4218600"}')));

      expect(response.statusCode).toBe(204);
      expect((await notifications('alice@example.com')).map((n) => n.historyId)).toContain('4218600');
    });

    it('signals an address with an apostrophe', async () => {
      // Google Workspace user names may contain apostrophes.
      const response = await push(envelope(gmailData('{"emailAddress":"o\'brien@example.com","historyId":"4218601"}')));

      expect(response.statusCode).toBe(204);
      expect((await notifications("o'brien@example.com")).map((n) => n.historyId)).toContain('4218601');
    });

    it('signals without an oversized messageId or a bad publishTime', async () => {
      const body = JSON.stringify({
        message: { data: gmailData('{"emailAddress":"alice@example.com","historyId":"4218700"}'), messageId: 'm'.repeat(129), publishTime: 'yesterday' },
      });

      const response = await push(body);

      expect(response.statusCode).toBe(204);
      expect(await notifications('alice@example.com')).toContainEqual({ historyId: '4218700' });
      expect(harness.logText()).not.toContain('m'.repeat(129));
    });

    it('counts signalled pushes', async () => {
      expect(await counter('gmail_sync_pushes_total', { outcome: 'signalled' })).toBeGreaterThanOrEqual(8);
    });
  });

  describe('malformed pushes from the fixtures', () => {
    const cases = JSON.parse(readFileSync(path.join(FIXTURES, 'push-malformed.json'), 'utf8')) as {
      name: string;
      expectStatus: number;
      body: unknown;
    }[];

    it.each(cases.map((entry) => [entry.name, entry] as const))('returns the listed status for %s', async (_name, entry) => {
      const before = (await notifications('a@example.com')).length;

      const response = await push(JSON.stringify(entry.body));

      expect(response.statusCode).toBe(entry.expectStatus);
      expect(await notifications('a@example.com')).toHaveLength(before);
    });
  });

  describe('bad input', () => {
    async function expectNoSignal<T>(action: () => Promise<T>): Promise<T> {
      const before = (await notifications('alice@example.com')).length;
      const result = await action();
      expect(await notifications('alice@example.com')).toHaveLength(before);
      return result;
    }

    const valid = (): string => envelope(gmailData('{"emailAddress":"alice@example.com","historyId":"999999"}'));

    it('rejects a non-JSON body with 400', async () => {
      const response = await expectNoSignal(() => push('this is not json'));

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'PUSH_NOT_PUBSUB' });
      expect(response.json<{ message: string }>().message).toContain('not JSON');
    });

    it('rejects JSON without message with 400', async () => {
      const response = await expectNoSignal(() => push('{"subscription":"projects/p/subscriptions/s"}'));

      expect(response.statusCode).toBe(400);
      expect(response.json<{ message: string }>().message).toContain('"message" is missing');
    });

    it('rejects a message without data with 400', async () => {
      const response = await expectNoSignal(() => push('{"message":{"messageId":"1"}}'));

      expect(response.statusCode).toBe(400);
      expect(response.json<{ message: string }>().message).toContain('"message.data" is missing');
    });

    it('rejects a JSON array with 400', async () => {
      const response = await expectNoSignal(() => push('[]'));

      expect(response.statusCode).toBe(400);
    });

    it('rejects a wrong content type with 415', async () => {
      const response = await expectNoSignal(() => push(valid(), { contentType: 'text/plain' }));

      expect(response.statusCode).toBe(415);
      expect(response.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
      expect(await counter('gmail_sync_pushes_total', { outcome: 'unsupported_media_type' })).toBeGreaterThanOrEqual(1);
    });

    it('rejects a missing content type with 415', async () => {
      const response = await expectNoSignal(() =>
        api.app.inject({ method: 'POST', url: '/pubsub/push', headers: { authorization: `Bearer ${harness.issuer.sign()}` }, payload: Buffer.from(valid()) }),
      );

      expect(response.statusCode).toBe(415);
    });

    it('rejects a 10 MB body with 413', async () => {
      const big = envelope('A'.repeat(10 * 1024 * 1024));

      const response = await expectNoSignal(() => push(big));

      expect(response.statusCode).toBe(413);
      expect(response.json()).toMatchObject({ code: 'BODY_TOO_LARGE' });
      expect(await counter('gmail_sync_pushes_total', { outcome: 'payload_too_large' })).toBeGreaterThanOrEqual(1);
    });

    it.each([
      ['data that is not base64', '%%%', 'invalid_base64'],
      ['data that decodes to non-JSON', gmailData('hello'), 'invalid_json'],
      ['JSON without emailAddress', gmailData('{"historyId":"5"}'), 'not_gmail_notification'],
      ['JSON without historyId', gmailData('{"emailAddress":"alice@example.com"}'), 'not_gmail_notification'],
      ['a negative historyId', gmailData('{"emailAddress":"alice@example.com","historyId":-5}'), 'invalid_history_id'],
      ['a fractional historyId', gmailData('{"emailAddress":"alice@example.com","historyId":5.5}'), 'invalid_history_id'],
      ['a historyId above 2^64-1', gmailData('{"emailAddress":"alice@example.com","historyId":18446744073709551616}'), 'invalid_history_id'],
      ['a historyId with trailing garbage', gmailData('{"emailAddress":"alice@example.com","historyId":"12abc"}'), 'invalid_history_id'],
      ['an emailAddress that is not an address', gmailData('{"emailAddress":"alice at example","historyId":"5"}'), 'invalid_email_address'],
      ['a local part over 64 characters', gmailData(`{"emailAddress":"${'a'.repeat(65)}@example.com","historyId":"5"}`), 'invalid_email_address'],
      ['a zero-padded historyId string', gmailData('{"emailAddress":"alice@example.com","historyId":"000123"}'), 'invalid_history_id'],
    ])('acknowledges %s as a dead letter', async (_name, data, reason) => {
      const messageId = `dead-${reason}-${Math.random()}`;
      const before = await counter('gmail_sync_dead_letters_total', { source: 'push', reason });

      const response = await expectNoSignal(() => push(envelope(data, messageId)));

      expect(response.statusCode).toBe(204);
      expect(await counter('gmail_sync_dead_letters_total', { source: 'push', reason })).toBe(before + 1);
      const line = harness.logs.find((entry) => entry.messageId === messageId && entry.reason === reason);
      expect(line?.msg).toContain('dead letter');
      expect(line?.level).toBe(40);
      expect(harness.logText()).not.toContain(data.length > 8 ? data : '\u0000');
    });

    it.each([
      ['a missing token', () => null, 401, 'PUSH_TOKEN_MISSING', 'unauthenticated', 'no OIDC bearer token'],
      ['a malformed token', () => 'not.a.jwt', 401, 'PUSH_TOKEN_INVALID', 'unauthenticated', 'token_malformed'],
      [
        'an expired token',
        () => harness.issuer.sign({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }),
        401,
        'PUSH_TOKEN_INVALID',
        'unauthenticated',
        'token_expired',
      ],
      ['a wrong-audience token', () => harness.issuer.sign({ aud: 'https://elsewhere.example.com' }), 403, 'PUSH_TOKEN_FORBIDDEN', 'forbidden', 'wrong_audience'],
      ['a wrong-email token', () => harness.issuer.sign({ email: 'other@example.iam.gserviceaccount.com' }), 403, 'PUSH_TOKEN_FORBIDDEN', 'forbidden', 'wrong_email'],
      ['an unverified-email token', () => harness.issuer.sign({ email_verified: false }), 403, 'PUSH_TOKEN_FORBIDDEN', 'forbidden', 'email_not_verified'],
      [
        'a token whose nbf is ten minutes ahead',
        () => harness.issuer.sign({ nbf: Math.floor(Date.now() / 1000) + 600 }),
        401,
        'PUSH_TOKEN_INVALID',
        'unauthenticated',
        'token_not_yet_valid',
      ],
    ])('rejects %s', async (_name, token, status, code, outcome, reason) => {
      const tokenValue = token();
      const before = await counter('gmail_sync_pushes_total', { outcome });

      const response = await expectNoSignal(() => push(valid(), { token: tokenValue }));

      expect(response.statusCode).toBe(status);
      expect(response.json()).toMatchObject({ code });
      expect(await counter('gmail_sync_pushes_total', { outcome })).toBe(before + 1);
      const line = harness.logs.find((entry) => entry.reqId === response.headers['x-request-id'] && entry.code === code);
      expect(line?.level).toBe(30);
      expect(String(line?.reason)).toContain(reason);
      if (tokenValue !== null) {
        expect(harness.logText()).not.toContain(tokenValue);
      }
    });

    it('accepts a token whose nbf is within the clock skew', async () => {
      const token = harness.issuer.sign({ nbf: Math.floor(Date.now() / 1000) + 60 });

      const response = await push(envelope(gmailData('{"emailAddress":"alice@example.com","historyId":"4218800"}')), { token });

      expect(response.statusCode).toBe(204);
    });

    it.each(['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const)('rejects %s with 405 and Allow: POST', async (method) => {
      const response = await api.app.inject({ method, url: '/pubsub/push' });

      expect(response.statusCode).toBe(405);
      expect(response.headers.allow).toBe('POST');
      expect(response.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    });

    it('acknowledges a push for an unknown mailbox and counts it', async () => {
      const before = await counter('gmail_sync_pushes_total', { outcome: 'no_mailbox' });

      const response = await push(envelope(gmailData('{"emailAddress":"nobody@example.com","historyId":"5"}')));

      expect(response.statusCode).toBe(204);
      expect(await counter('gmail_sync_pushes_total', { outcome: 'no_mailbox' })).toBe(before + 1);
    });

    it('never logs a token or a raw body', async () => {
      const token = harness.issuer.sign();
      const body = envelope(gmailData('{"emailAddress":"alice@example.com","historyId":"777777"}'));

      await push(body, { token });
      await push(body, { token: `${token}x` });

      expect(harness.logText()).not.toContain(token);
      expect(harness.logText()).not.toContain(API_TOKEN);
      expect(harness.logText()).not.toContain((JSON.parse(body) as { message: { data: string } }).message.data);
    });
  });

  describe('over a real socket', () => {
    it('signals a push sent over HTTP', async () => {
      const address = await api.app.listen({ port: 0, host: '127.0.0.1' });

      const response = await fetch(`${address}/pubsub/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${harness.issuer.sign()}` },
        body: envelope(gmailData('{"emailAddress":"alice@example.com","historyId":"5550000"}'), 'socket-1'),
      });

      expect(response.status).toBe(204);
      expect((await notifications('alice@example.com')).map((n) => n.messageId)).toContain('socket-1');
    });

    it('exposes push counters on /metrics', async () => {
      const response = await api.app.inject({ method: 'GET', url: '/metrics' });

      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('gmail_sync_pushes_total{outcome="signalled"}');
      expect(response.body).toContain('gmail_sync_dead_letters_total{source="push",reason="invalid_base64"}');
      expect(response.body).toContain('gmail_sync_signal_seconds_bucket');
      expect(response.body).toContain('gmail_sync_http_requests_total{method="POST",route="/pubsub/push",status="204"}');
    });
  });
});
