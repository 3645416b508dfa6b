import { randomBytes, randomUUID } from 'node:crypto';

import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import Fastify from 'fastify';

import { codecRoutes } from '../../src/codec/codec-routes';
import { EncryptionCodec } from '../../src/codec/encryption-codec';
import { parseKeyring } from '../../src/credentials/token-cipher';
import { echoWorkflow } from '../fixture-workflows';
import { createDevServerEnv } from '../helpers/temporal';

const SECRET_SUBJECT = 'Quarterly numbers: confidential subject line';

function keyring(id = 'k1') {
  return parseKeyring(`${id}:${randomBytes(32).toString('base64')}`);
}

describe('EncryptionCodec', () => {
  it('round-trips payloads', async () => {
    const codec = new EncryptionCodec(keyring());
    const payload = defaultPayloadConverter.toPayload({ subject: SECRET_SUBJECT });

    const [encrypted] = await codec.encode([payload]);
    const [decrypted] = await codec.decode([encrypted]);

    expect(Buffer.from(encrypted.data!).includes(Buffer.from('confidential'))).toBe(false);
    expect(Buffer.from(encrypted.metadata!.encoding).toString()).toBe('binary/encrypted');
    expect(Buffer.from(encrypted.metadata!['encryption-key-id']).toString()).toBe('k1');
    expect(defaultPayloadConverter.fromPayload(decrypted)).toEqual({ subject: SECRET_SUBJECT });
  });

  it('names a missing key', async () => {
    const [encrypted] = await new EncryptionCodec(keyring('old')).encode([defaultPayloadConverter.toPayload('x')]);

    await expect(new EncryptionCodec(keyring('new')).decode([encrypted])).rejects.toThrow('encrypted with key "old", which the payload keyring lacks');
  });

  it('passes unencrypted payloads through', async () => {
    const payload = defaultPayloadConverter.toPayload('plain');

    const [decoded] = await new EncryptionCodec(keyring()).decode([payload]);

    expect(decoded).toBe(payload);
  });
});

describe('EncryptionCodec on Temporal', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createDevServerEnv();
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it('keeps workflow history unreadable', async () => {
    const codec = new EncryptionCodec(keyring());
    const taskQueue = `codec-${randomUUID()}`;
    const client = new Client({ connection: env.connection, dataConverter: { payloadCodecs: [codec] } });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../fixture-workflows'),
      dataConverter: { payloadCodecs: [codec] },
    });
    const workflowId = `codec-${randomUUID()}`;

    const result = await worker.runUntil(
      client.workflow.execute(echoWorkflow, { taskQueue, workflowId, args: [{ subject: SECRET_SUBJECT }] }),
    );
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const raw = JSON.stringify(history);

    expect(result).toEqual({ subject: SECRET_SUBJECT });
    expect(history.events?.length).toBeGreaterThan(3);
    expect(raw).not.toContain('confidential');
    expect(raw).not.toContain(Buffer.from(SECRET_SUBJECT).toString('base64').slice(0, 20));
  });
});

describe('codec routes', () => {
  const codec = new EncryptionCodec(keyring());
  const app = Fastify();
  void app.register(codecRoutes, {
    prefix: '/codec',
    codec,
    authorize: (request) => request.headers.authorization === 'Bearer api-token',
    allowedOrigins: ['http://localhost:8233'],
  });

  afterAll(() => app.close());

  async function encryptedJson(): Promise<{ metadata: Record<string, string>; data: string }> {
    const [payload] = await codec.encode([defaultPayloadConverter.toPayload({ subject: SECRET_SUBJECT })]);
    return {
      metadata: Object.fromEntries(Object.entries(payload.metadata!).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
      data: Buffer.from(payload.data!).toString('base64'),
    };
  }

  it('decodes for an authorised caller', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { authorization: 'Bearer api-token', origin: 'http://localhost:8233' },
      payload: { payloads: [await encryptedJson()] },
    });

    expect(response.statusCode).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe('http://localhost:8233');
    const decoded = response.json<{ payloads: { data: string }[] }>().payloads[0];
    expect(JSON.parse(Buffer.from(decoded.data, 'base64').toString())).toEqual({ subject: SECRET_SUBJECT });
  });

  it('rejects a caller without the token', async () => {
    const response = await app.inject({ method: 'POST', url: '/codec/decode', payload: { payloads: [await encryptedJson()] } });

    expect(response.statusCode).toBe(401);
    expect(response.body).not.toContain('confidential');
  });

  it('rejects payloads that are not base64', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { authorization: 'Bearer api-token' },
      payload: { payloads: [{ metadata: { encoding: '!!!' }, data: '' }] },
    });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INVALID_CODEC_REQUEST', message: 'payloads[0].metadata.encoding is not base64; send bytes as base64.' });
  });

  it('omits CORS headers for other origins', async () => {
    const response = await app.inject({ method: 'OPTIONS', url: '/codec/decode', headers: { origin: 'https://evil.example.com' } });

    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});
