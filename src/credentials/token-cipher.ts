import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM encryption of refresh tokens at rest. The keyring maps key ids
 * to 32-byte keys. The first key encrypts and every key decrypts, so a key is
 * rotated by putting a new one first, re-encrypting with `rotate`, and then
 * removing the old one.
 */
export interface Keyring {
  activeKeyId: string;
  keys: Record<string, Buffer>;
}

export interface EncryptedToken {
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Parses `id:base64key[,id:base64key...]`, the keyring format of the token store and the payload codec.
 * Errors name the entry but never print key material.
 */
export function parseKeyring(raw: string): Keyring {
  const keys: Record<string, Buffer> = {};
  let activeKeyId: string | undefined;
  for (const [index, entry] of raw.split(',').entries()) {
    const separator = entry.indexOf(':');
    const keyId = entry.slice(0, separator).trim();
    if (separator < 0 || !KEY_ID.test(keyId)) {
      throw new Error(`entry ${index + 1} has no valid key id: write each entry as id:base64key with an id of letters, digits, _ . or -`);
    }
    const key = Buffer.from(entry.slice(separator + 1).trim(), 'base64');
    if (key.length !== 32) {
      throw new Error(`key "${keyId}" decodes to ${key.length} bytes instead of 32: generate one with \`openssl rand -base64 32\``);
    }
    if (keys[keyId]) {
      throw new Error(`key id "${keyId}" appears twice: give every key its own id`);
    }
    keys[keyId] = key;
    activeKeyId ??= keyId;
  }
  if (!activeKeyId) {
    throw new Error('no key: write at least one entry as id:base64key');
  }
  return { activeKeyId, keys };
}

/** Parses a keyring setting, for the config loader; parseKeyring's messages name entries and key ids, never keys. */
export function parseKeyringSetting(raw: string): Keyring {
  try {
    return parseKeyring(raw);
  } catch (error) {
    throw new Error(`a keyring written as id:base64key[,id:base64key], where ${(error as Error).message}`);
  }
}

/** Encrypts with the active key; the mailbox address is authenticated data, so a ciphertext moved to another row fails to decrypt. */
export function encryptToken(keyring: Keyring, emailAddress: string, token: string): EncryptedToken {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyring.keys[keyring.activeKeyId], iv);
  cipher.setAAD(Buffer.from(emailAddress, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return { keyId: keyring.activeKeyId, iv, ciphertext, tag: cipher.getAuthTag() };
}

export function decryptToken(keyring: Keyring, emailAddress: string, encrypted: EncryptedToken): string {
  const key = keyring.keys[encrypted.keyId];
  if (!key) {
    throw new Error(
      `The refresh token of ${emailAddress} is encrypted with key "${encrypted.keyId}", which the token keyring lacks. Add that key back to the keyring after the active one.`,
    );
  }
  const decipher = createDecipheriv('aes-256-gcm', key, encrypted.iv);
  decipher.setAAD(Buffer.from(emailAddress, 'utf8'));
  decipher.setAuthTag(encrypted.tag);
  return Buffer.concat([decipher.update(encrypted.ciphertext), decipher.final()]).toString('utf8');
}
