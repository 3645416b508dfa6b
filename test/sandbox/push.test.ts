import { createPublicKey, verify, X509Certificate } from 'node:crypto';

import { OAuth2Client } from 'google-auth-library';
import { parse } from 'lossless-json';

import { startSandbox, type Sandbox } from '../../src/sandbox';
import pushFixture from '../fixtures/gmail/pubsub-push-numeric-historyid.json';
import { gmailClient, pushData, PushReceiver, shapeOf } from './helpers';

const TOPIC = 'projects/sandbox-test/topics/gmail';
const AUDIENCE = 'https://gmail-sync.example.com/pubsub/push';
const SERVICE_ACCOUNT = 'push@sandbox-test.iam.gserviceaccount.com';

describe('Gmail sandbox push notifications', () => {
  let sandbox: Sandbox;
  let receiver: PushReceiver;
  let address: string;
  let counter = 0;

  beforeAll(async () => {
    sandbox = await startSandbox({ frozenClock: true, pushAudience: AUDIENCE, pushServiceAccountEmail: SERVICE_ACCOUNT });
  });

  afterAll(async () => {
    await sandbox.stop();
  });

  beforeEach(async () => {
    receiver = await new PushReceiver().start();
    sandbox.configurePush({ endpoint: receiver.url, format: 'wrapped', minBackoffMs: 10, maxBackoffMs: 40, deadLetterMaxAttempts: undefined });
    counter += 1;
    address = `push${counter}@example.com`;
    sandbox.createMailbox({ emailAddress: address, historyId: '4218300' });
    await gmailClient(sandbox, address).users.watch({ userId: 'me', requestBody: { topicName: TOPIC } });
    // A second between tests keeps one test's notification from rate-limiting the next.
    sandbox.advanceClock(1000);
  });

  afterEach(async () => {
    sandbox.clearNotificationFaults();
    await receiver.stop();
  });

  it('sends the Pub/Sub push envelope', async () => {
    const delivered = sandbox.deliverMessage(address);
    const [push] = await receiver.waitFor(1);
    const envelope = JSON.parse(push.body) as typeof pushFixture;

    expect(shapeOf(envelope)).toEqual(shapeOf(pushFixture));
    expect(envelope.message.messageId).toBe(envelope.message.message_id);
    expect(envelope.message.publishTime).toBe(envelope.message.publish_time);
    expect(envelope.message.attributes).toEqual({});
    expect(envelope.subscription).toBe('projects/sandbox-test/subscriptions/gmail-sandbox-push');
    expect(push.headers['content-type']).toBe('application/json');
    expect(pushData(push)).toBe(`{"emailAddress":"${address}","historyId":${delivered.historyId}}`);
  });

  it('carries historyIds above 2^53 exactly as JSON numbers', async () => {
    const big = `big${counter}@example.com`;
    sandbox.createMailbox({ emailAddress: big, historyId: '18446744073709551000' });
    await gmailClient(sandbox, big).users.watch({ userId: 'me', requestBody: { topicName: TOPIC } });
    const delivered = sandbox.deliverMessage(big);
    const [push] = await receiver.waitFor(1);
    const data = parse(pushData(push)) as { historyId: { value: string } };

    expect(data.historyId.value).toBe(delivered.historyId);
  });

  it('signs a push token that google-auth-library verifies', async () => {
    sandbox.deliverMessage(address);
    const [push] = await receiver.waitFor(1);
    const token = String(push.headers.authorization).replace(/^Bearer /, '');
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as Record<string, string>;
    const certs = (await (await fetch(sandbox.pemCertsUrl)).json()) as Record<string, string>;

    const client = new OAuth2Client();
    const ticket = await client.verifySignedJwtWithCertsAsync(token, certs, AUDIENCE, ['https://accounts.google.com']);
    const payload = ticket.getPayload()!;

    expect(header).toEqual({ alg: 'RS256', kid: header.kid, typ: 'JWT' });
    expect(Object.keys(certs)).toEqual([header.kid]);
    expect(payload).toMatchObject({ iss: 'https://accounts.google.com', aud: AUDIENCE, email: SERVICE_ACCOUNT, email_verified: true });
    expect(payload.exp - payload.iat).toBe(3600);
    expect(typeof payload.sub).toBe('string');
    expect(typeof payload.azp).toBe('string');
  });

  it('push token passes verifyIdToken with sandbox endpoints', async () => {
    sandbox.deliverMessage(address);
    const [push] = await receiver.waitFor(1);
    const idToken = String(push.headers.authorization).replace(/^Bearer /, '');
    const client = new OAuth2Client({
      endpoints: { oauth2FederatedSignonPemCertsUrl: sandbox.pemCertsUrl },
      transporterOptions: { fetchImplementation: fetch },
    });

    const ticket = await client.verifyIdToken({ idToken, audience: AUDIENCE });
    const wrongAudience = client.verifyIdToken({ idToken, audience: 'https://elsewhere.example.com' });

    expect(ticket.getPayload()!.email).toBe(SERVICE_ACCOUNT);
    await expect(wrongAudience).rejects.toThrow(/audience/i);
  });

  it('serves a real X.509 certificate and a matching JWK', async () => {
    const certs = (await (await fetch(sandbox.pemCertsUrl)).json()) as Record<string, string>;
    const jwks = (await (await fetch(sandbox.jwksUrl)).json()) as { keys: Record<string, string>[] };
    const [kid, pem] = Object.entries(certs)[0];
    const certificate = new X509Certificate(pem);
    const jwk = jwks.keys[0];
    const jwkKey = createPublicKey({ key: jwk, format: 'jwk' });
    sandbox.deliverMessage(address);
    const [push] = await receiver.waitFor(1);
    const [head, body, signature] = String(push.headers.authorization).replace(/^Bearer /, '').split('.');

    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(jwk).toMatchObject({ kid, alg: 'RS256', use: 'sig', kty: 'RSA' });
    expect(jwkKey.export({ format: 'pem', type: 'spki' })).toBe(certificate.publicKey.export({ format: 'pem', type: 'spki' }));
    expect(verify('sha256', Buffer.from(`${head}.${body}`), jwkKey, Buffer.from(signature, 'base64url'))).toBe(true);
  });

  it('turns a burst of 20 changes into one notification', async () => {
    const cursor = sandbox.getMailbox(address).historyId;
    const delivered = Array.from({ length: 20 }, (_, index) => sandbox.deliverMessage(address, { subject: `burst ${index}` }));
    await receiver.waitFor(1);
    const history = await gmailClient(sandbox, address).users.history.list({ userId: 'me', startHistoryId: cursor });

    expect(sandbox.notifications(address)).toHaveLength(1);
    expect(sandbox.notifications(address)[0].historyId).toBe(delivered[0].historyId);
    expect(sandbox.getCounters(address).notifications.rateLimited).toBe(19);
    expect(history.data.history!.map((record) => record.messagesAdded![0].message!.id)).toEqual(delivered.map((message) => message.id));
  });

  it('notifies again once a second has passed', async () => {
    sandbox.deliverMessage(address);
    sandbox.advanceClock(999);
    sandbox.deliverMessage(address);
    sandbox.advanceClock(1);
    sandbox.deliverMessage(address);

    expect(sandbox.notifications(address)).toHaveLength(2);
    await receiver.waitFor(2);
  });

  it('redelivers a nacked push with backoff until acked', async () => {
    receiver.statuses.push(500, 429, 404);
    sandbox.deliverMessage(address);
    const pushes = await receiver.waitFor(4);
    while (sandbox.notifications(address)[0].state === 'pending') {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const ids = pushes.map((push) => (JSON.parse(push.body) as typeof pushFixture).message.messageId);

    expect(pushes.map((push) => push.status)).toEqual([500, 429, 404, 204]);
    expect(new Set(ids).size).toBe(1);
    expect(sandbox.notifications(address)[0].attempts).toEqual([500, 429, 404, 204]);
    expect(sandbox.notifications(address)[0].state).toBe('acked');
    expect(sandbox.getCounters(address).notifications).toMatchObject({ nacked: 3, acked: 1 });
  });

  // 102 is on Pub/Sub's ack list too, but it is an interim status that an
  // HTTP/1.1 server cannot send as a final response, so it is not tested here.
  it.each([200, 201, 202, 204])('treats status %i as an ack', async (status) => {
    receiver.statuses.push(status);
    sandbox.deliverMessage(address);
    await receiver.waitFor(1);
    while (sandbox.notifications(address)[0].state === 'pending') {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    expect(sandbox.notifications(address)[0].state).toBe('acked');
  });

  it('stops at the dead-letter limit and counts attempts', async () => {
    sandbox.configurePush({ deadLetterMaxAttempts: 5 });
    receiver.statuses.push(500, 500, 500, 500, 500, 500);
    sandbox.deliverMessage(address);
    const pushes = await receiver.waitFor(5);
    while (sandbox.notifications(address)[0].state === 'pending') {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    expect(pushes.map((push) => (JSON.parse(push.body) as { deliveryAttempt: number }).deliveryAttempt)).toEqual([1, 2, 3, 4, 5]);
    expect(sandbox.notifications(address)[0].state).toBe('dead-lettered');
    expect(sandbox.getCounters(address).notifications.deadLettered).toBe(1);
  });

  it('sends the unwrapped format with metadata headers', async () => {
    sandbox.configurePush({ format: 'unwrapped' });
    const delivered = sandbox.deliverMessage(address);
    const [push] = await receiver.waitFor(1);
    const record = sandbox.notifications(address)[0];

    expect(push.body).toBe(`{"emailAddress":"${address}","historyId":${delivered.historyId}}`);
    expect(push.headers['x-goog-pubsub-message-id']).toBe(record.messageId);
    expect(push.headers['x-goog-pubsub-subscription-name']).toBe('projects/sandbox-test/subscriptions/gmail-sandbox-push');
    expect(push.headers['x-goog-pubsub-publish-time']).toBe(record.publishTime);
    expect(String(push.headers.authorization)).toMatch(/^Bearer /);
  });

  it('stops notifying after watch expiry and after stop', async () => {
    const other = `stopped${counter}@example.com`;
    await gmailClient(sandbox, other).users.watch({ userId: 'me', requestBody: { topicName: TOPIC } });
    await gmailClient(sandbox, other).users.stop({ userId: 'me' });
    sandbox.deliverMessage(other);
    sandbox.advanceClock(7 * 86_400_000);
    sandbox.deliverMessage(address);

    expect(sandbox.notifications(other)).toHaveLength(0);
    expect(sandbox.notifications(address)).toHaveLength(0);
  });

  it('applies the watch label filter', async () => {
    const other = `filtered${counter}@example.com`;
    const gmail = gmailClient(sandbox, other);
    await gmail.users.watch({ userId: 'me', requestBody: { topicName: TOPIC, labelIds: ['INBOX'], labelFilterBehavior: 'include' } });
    sandbox.deliverMessage(other, { labelIds: ['SPAM'] });
    sandbox.advanceClock(1000);
    sandbox.deliverMessage(other, { labelIds: ['INBOX'] });
    await gmail.users.watch({ userId: 'me', requestBody: { topicName: TOPIC, labelIds: ['SPAM'], labelFilterAction: 'exclude' } });
    sandbox.advanceClock(1000);
    sandbox.deliverMessage(other, { labelIds: ['SPAM'] });

    expect(sandbox.notifications(other)).toHaveLength(1);
    await receiver.waitFor(1);
  });

  it('drops, duplicates and reorders notifications on request', async () => {
    sandbox.addNotificationFault({ kind: 'drop', emailAddress: address });
    sandbox.deliverMessage(address);
    sandbox.advanceClock(1000);
    sandbox.addNotificationFault({ kind: 'duplicate', emailAddress: address });
    const duplicated = sandbox.deliverMessage(address);
    sandbox.advanceClock(1000);
    sandbox.addNotificationFault({ kind: 'reorder', emailAddress: address });
    const held = sandbox.deliverMessage(address);
    sandbox.advanceClock(1000);
    const overtaking = sandbox.deliverMessage(address);

    expect(sandbox.notifications(address).map((record) => record.historyId)).toEqual([
      duplicated.historyId, duplicated.historyId, overtaking.historyId, held.historyId,
    ]);
    expect(sandbox.getCounters(address).notifications).toMatchObject({ dropped: 1, duplicated: 1, reordered: 1 });
    await receiver.waitFor(4);
  });

  it('delays a notification on request', async () => {
    sandbox.addNotificationFault({ kind: 'delay', emailAddress: address, delayMs: 50 });
    const delivered = sandbox.deliverMessage(address);

    expect(sandbox.notifications(address)).toHaveLength(0);
    const [push] = await receiver.waitFor(1);
    expect(pushData(push)).toContain(delivered.historyId);
  });
});
