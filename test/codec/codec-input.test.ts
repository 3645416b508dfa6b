/**
 * The codec routes of the API server against malformed batches and
 * oversized bodies: each gets a 4xx that names the value and the limit.
 */
import { randomBytes } from 'node:crypto';

import type { ApiServer } from '../../src/api/server';
import { CODEC_BODY_LIMIT_BYTES } from '../../src/codec/codec-routes';
import { parseKeyring } from '../../src/credentials/token-cipher';
import { API_TOKEN, startApiHarness, type ApiHarness } from '../api/helpers/api-harness';

const auth = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };

describe('codec routes with bad input', () => {
  let harness: ApiHarness;
  let api: ApiServer;

  beforeAll(async () => {
    harness = await startApiHarness({ worker: false });
    const config = { ...harness.config, payloadEncryption: 'on' as const, payloadKeys: parseKeyring(`k1:${randomBytes(32).toString('base64')}`) };
    api = await harness.startApi({ config });
  });

  afterAll(async () => {
    await harness?.teardown();
  });

  const decode = (payload: string) => api.app.inject({ method: 'POST', url: '/codec/decode', headers: auth, payload });

  it.each([
    ['null', '{"payloads":[null]}', 'payloads[0] is not an object'],
    ['a number', '{"payloads":[5]}', 'payloads[0] is not an object'],
    ['a list', '{"payloads":[[]]}', 'payloads[0] is not an object'],
    ['metadata that is a string', '{"payloads":[{"metadata":"abcd"}]}', 'payloads[0].metadata is not an object'],
  ])('rejects a payload that is %s with 400', async (_case, body, message) => {
    const response = await decode(body);

    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INVALID_CODEC_REQUEST' });
    expect(response.json<{ message: string }>().message).toContain(message);
  });

  it('names the codec limit for an oversized batch', async () => {
    const response = await decode(JSON.stringify({ payloads: [{ data: 'A'.repeat(CODEC_BODY_LIMIT_BYTES) }] }));

    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ code: 'BODY_TOO_LARGE' });
    expect(response.json<{ message: string }>().message).toContain(`${CODEC_BODY_LIMIT_BYTES} bytes`);
    expect(response.json<{ message: string }>().message).not.toContain('GMAIL_SYNC_API_BODY_LIMIT_BYTES');
  });

  it('names the sign-in limit for an oversized form', async () => {
    const response = await api.app.inject({
      method: 'POST',
      url: '/codec/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${'a'.repeat(5000)}`,
    });

    expect(response.statusCode).toBe(413);
    expect(response.json<{ message: string }>().message).toContain('4096 bytes');
  });

  it('names the API limit for an oversized start', async () => {
    const response = await api.app.inject({ method: 'POST', url: '/v1/mailboxes', headers: auth, payload: JSON.stringify({ emailAddress: 'a'.repeat(70_000) }) });

    expect(response.statusCode).toBe(413);
    expect(response.json<{ message: string }>().message).toContain(`${harness.config.apiBodyLimitBytes} bytes, the GMAIL_SYNC_API_BODY_LIMIT_BYTES limit`);
  });
});
