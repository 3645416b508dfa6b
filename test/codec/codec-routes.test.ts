import { randomBytes } from 'node:crypto';

import Fastify, { type FastifyInstance } from 'fastify';

import { hasApiToken } from '../../src/api/api-token';
import { codecRoutes } from '../../src/codec/codec-routes';
import { EncryptionCodec } from '../../src/codec/encryption-codec';
import { parseKeyring } from '../../src/credentials/token-cipher';

const API_TOKEN = 'codec-routes-test-api-token';

describe('codec routes', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = Fastify();
    await app.register(codecRoutes, {
      prefix: '/codec',
      codec: new EncryptionCodec(parseKeyring(`k1:${randomBytes(32).toString('base64')}`)),
      authorize: hasApiToken(API_TOKEN),
      allowedOrigins: [],
    });
    await app.ready();
  });

  afterAll(() => app.close());

  const post = (path: string, payload: unknown) =>
    app.inject({ method: 'POST', url: `/codec/${path}`, headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' }, payload: payload as object });

  it('decodes a body without payloads as an empty batch', async () => {
    const response = await post('decode', {});

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ payloads: [] });
  });

  it('rejects payloads that are not a list', async () => {
    const response = await post('decode', { payloads: 'abc' });

    expect(response.statusCode).toBe(400);
    expect(response.json<{ code: string }>().code).toBe('INVALID_CODEC_REQUEST');
  });
});
