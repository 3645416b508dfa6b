import { createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';

/**
 * Minimal DER encoding for one self-signed X.509 certificate, because
 * node:crypto can read certificates but not create them. Google's
 * `oauth2/v1/certs` serves certificates, and a verifier that insists on one
 * (rather than a bare public key) must accept ours too.
 */
function encodeLength(length: number): Buffer {
  if (length < 0x80) {
    return Buffer.from([length]);
  }
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) {
    bytes.unshift(rest & 0xff);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));

function objectId(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = arc >> 7; value > 0; value >>= 7) {
      chunk.unshift((value & 0x7f) | 0x80);
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function utcTime(date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return tlv(0x17, Buffer.from(text, 'ascii'));
}

function commonName(name: string): Buffer {
  return sequence(tlv(0x31, sequence(objectId('2.5.4.3'), tlv(0x0c, Buffer.from(name, 'utf8')))));
}

/** sha256WithRSAEncryption, the algorithm that signs the certificate. */
const SHA256_WITH_RSA = sequence(objectId('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));

/** Creates a self-signed X.509 v1 certificate for an RSA key and returns it as PEM. */
export function createSelfSignedCertificate(privateKey: KeyObject, subject: string, notBefore: Date, notAfter: Date): string {
  const serial = randomBytes(8);
  serial[0] &= 0x7f;
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const tbs = sequence(
    tlv(0x02, serial),
    SHA256_WITH_RSA,
    commonName(subject),
    sequence(utcTime(notBefore), utcTime(notAfter)),
    commonName(subject),
    spki,
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = sequence(tbs, SHA256_WITH_RSA, tlv(0x03, Buffer.concat([Buffer.from([0x00]), signature])));
  const base64 = der.toString('base64').replace(/.{64}/g, '$&\n').trim();
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
}
