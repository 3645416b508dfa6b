import { randomBytes } from 'node:crypto';

import pino from 'pino';

import { runApi } from '../../src/api/run-api';
import { withDevPayloadEncryptionDefault } from '../../src/codec/codec-settings';
import { createDataConverter, createPayloadCodec } from '../../src/codec/data-converter';
import { EncryptionCodec } from '../../src/codec/encryption-codec';
import { ConfigError, loadConfig } from '../../src/config';
import { codecEndpointUrl, devServerCodecArgs } from '../../src/temporal/dev-server';
import { createWorker } from '../../src/worker';

const API_SETTINGS = {
  GMAIL_SYNC_API_TOKEN: 'payload-test-api-token-0123456789',
  GMAIL_SYNC_PUSH_AUDIENCE: 'https://sync.example.com/pubsub/push',
  GMAIL_SYNC_PUSH_SERVICE_ACCOUNT: 'push@my-project.iam.gserviceaccount.com',
};

function caught(work: () => unknown): Error {
  try {
    work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('payload encryption settings', () => {
  it('defaults to on with the Temporal UI origins', () => {
    const config = loadConfig({});

    expect(config.payloadEncryption).toBe('on');
    expect(config.payloadKeys).toBeUndefined();
    expect(config.codecCorsOrigins).toEqual(['http://localhost:8233', 'http://127.0.0.1:8233']);
  });

  it('defaults to off under npm run dev', () => {
    expect(loadConfig(withDevPayloadEncryptionDefault({})).payloadEncryption).toBe('off');
    expect(loadConfig(withDevPayloadEncryptionDefault({ GMAIL_SYNC_PAYLOAD_ENCRYPTION: '' })).payloadEncryption).toBe('off');
    expect(loadConfig(withDevPayloadEncryptionDefault({ GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'on' })).payloadEncryption).toBe('on');
  });

  it('parses a keyring with the first key active', () => {
    const first = randomBytes(32);
    const second = randomBytes(32);

    const config = loadConfig({ GMAIL_SYNC_PAYLOAD_KEYS: `new:${first.toString('base64')}, old:${second.toString('base64')}` });

    expect(config.payloadKeys?.activeKeyId).toBe('new');
    expect(config.payloadKeys?.keys.new.equals(first)).toBe(true);
    expect(config.payloadKeys?.keys.old.equals(second)).toBe(true);
  });

  it.each([
    ['a short key', (key: string) => `k1:${key.slice(0, 20)}`, 'decodes to'],
    ['a missing key id', (key: string) => key, 'no valid key id'],
    ['a repeated key id', (key: string) => `k1:${key},k1:${key}`, 'appears twice'],
  ])('rejects %s without printing key material', (_case, write, reason) => {
    const key = randomBytes(32).toString('base64');

    const error = caught(() => loadConfig({ GMAIL_SYNC_PAYLOAD_KEYS: write(key) }));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('GMAIL_SYNC_PAYLOAD_KEYS=(hidden,');
    expect(error.message).toContain(reason);
    expect(error.message).not.toContain(key.slice(0, 12));
  });

  it('rejects an unknown mode and an origin with a path', () => {
    expect(() => loadConfig({ GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'yes' })).toThrow('GMAIL_SYNC_PAYLOAD_ENCRYPTION="yes" is invalid: expected one of on, off.');
    expect(() => loadConfig({ GMAIL_SYNC_CODEC_CORS_ORIGINS: 'http://localhost:8233/' })).toThrow('"http://localhost:8233/" is not one');
  });
});

describe('createDataConverter', () => {
  it('returns no converter when encryption is off', () => {
    expect(createDataConverter(loadConfig({ GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'off' }))).toBeUndefined();
  });

  it('encrypts payloads and failure messages when on', () => {
    const config = loadConfig({ GMAIL_SYNC_PAYLOAD_KEYS: `k1:${randomBytes(32).toString('base64')}` });

    const converter = createDataConverter(config);

    expect(converter?.payloadCodecs?.[0]).toBeInstanceOf(EncryptionCodec);
    expect(converter?.failureConverterPath).toMatch(/failure-converter/);
  });

  it('rejects encryption without keys, naming both settings', () => {
    const error = caught(() => createPayloadCodec(loadConfig({})));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('GMAIL_SYNC_PAYLOAD_KEYS is missing');
    expect(error.message).toContain('GMAIL_SYNC_PAYLOAD_ENCRYPTION');
    expect(error.message).toContain('openssl rand -base64 32');
  });
});

describe('startup without payload keys', () => {
  it('stops the API before it connects', async () => {
    // TEMPORAL_ADDRESS names a closed loopback port, so a connect attempt would fail with a different error.
    const config = loadConfig({ ...API_SETTINGS, TEMPORAL_ADDRESS: '127.0.0.1:1' });

    const started = runApi(config, pino({ level: 'silent' }));

    await expect(started).rejects.toBeInstanceOf(ConfigError);
    await expect(started).rejects.toThrow(/GMAIL_SYNC_PAYLOAD_KEYS is missing while GMAIL_SYNC_PAYLOAD_ENCRYPTION is on/);
  });

  it('stops the worker before it is created', async () => {
    const config = loadConfig({});

    await expect(createWorker({ connection: undefined as never, config })).rejects.toThrow('GMAIL_SYNC_PAYLOAD_KEYS is missing');
  });
});

describe('dev server codec endpoint', () => {
  it('points the UI at the API when encryption is on', () => {
    const config = loadConfig({ GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'on' });

    expect(devServerCodecArgs(config)).toEqual(['--ui-codec-endpoint', 'http://127.0.0.1:3000/codec']);
  });

  it('adds nothing when encryption is off', () => {
    expect(devServerCodecArgs(loadConfig({ GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'off' }))).toEqual([]);
  });

  it.each([
    ['0.0.0.0', 'http://127.0.0.1:8080/codec'],
    ['::1', 'http://[::1]:8080/codec'],
    ['localhost', 'http://localhost:8080/codec'],
  ])('reaches an API on %s', (apiHost, url) => {
    expect(codecEndpointUrl({ apiHost, apiPort: 8080 })).toBe(url);
  });
});
