/**
 * The one place that turns configuration into the data converter of every
 * Temporal client and worker that gmail-sync creates, so that both sides
 * always agree on whether payloads are encrypted.
 */
import type { DataConverter } from '@temporalio/common';

import { ConfigError, type Config } from '../config';
import { EncryptionCodec } from './encryption-codec';

export type PayloadEncryptionConfig = Pick<Config, 'payloadEncryption' | 'payloadKeys'>;

/**
 * Returns the payload codec that configuration asks for, or undefined when
 * payload encryption is off. Throws a ConfigError when encryption is on and
 * no keyring is set, so a worker or API never starts writing plain payloads
 * by accident.
 */
export function createPayloadCodec(config: PayloadEncryptionConfig): EncryptionCodec | undefined {
  if (config.payloadEncryption === 'off') {
    return undefined;
  }
  if (config.payloadKeys === undefined) {
    throw new ConfigError([
      'GMAIL_SYNC_PAYLOAD_KEYS is missing while GMAIL_SYNC_PAYLOAD_ENCRYPTION is on: ' +
        'set GMAIL_SYNC_PAYLOAD_KEYS to id:base64key with a key from `openssl rand -base64 32` (for example payload-1:<that output>), ' +
        'or set GMAIL_SYNC_PAYLOAD_ENCRYPTION=off to keep payloads readable in Temporal.',
    ]);
  }
  return new EncryptionCodec(config.payloadKeys);
}

/**
 * Builds the data converter of gmail-sync's clients and worker. With
 * encryption on, failure messages and stack traces are moved into an encoded
 * payload too, because Temporal stores them in clear otherwise and they can
 * name a mailbox.
 */
export function createDataConverter(config: PayloadEncryptionConfig): DataConverter | undefined {
  const codec = createPayloadCodec(config);
  if (codec === undefined) {
    return undefined;
  }
  return {
    payloadCodecs: [codec],
    failureConverterPath: require.resolve('./failure-converter'),
  };
}
