// Laravel's Encrypter, string flavour (encryptString / decryptString), so that a Laravel backend holding
// the same APP_KEY can mint and read our session identifiers (docs/contract.md, "The session identifier"). Nothing here is
// ever PHP-unserialised: the plaintext is a plain string.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type Cipher = 'aes-128-cbc' | 'aes-256-cbc' | 'aes-128-gcm' | 'aes-256-gcm';

export const CIPHERS: readonly Cipher[] = ['aes-128-cbc', 'aes-256-cbc', 'aes-128-gcm', 'aes-256-gcm'];

/** Thrown for every payload that must not be trusted; the message never reaches a client. */
export class DecryptError extends Error {}

/** Reads a key the way Laravel writes it: `base64:...`, or the raw string's bytes. */
export function parseKey(key: string): Buffer {
  return key.startsWith('base64:') ? Buffer.from(key.slice(7), 'base64') : Buffer.from(key, 'utf8');
}

/** A new key in Laravel's `base64:` format (32 bytes: aes-256). */
export function generateKey(bytes = 32): string {
  return `base64:${randomBytes(bytes).toString('base64')}`;
}

function keyBytesFor(cipher: Cipher): number {
  return cipher.startsWith('aes-128') ? 16 : 32;
}

function isAead(cipher: Cipher): boolean {
  return cipher.endsWith('-gcm');
}

function mac(key: Buffer, iv: string, value: string): string {
  return createHmac('sha256', key)
    .update(iv + value)
    .digest('hex');
}

/** The cipher Laravel would be configured with for this key: CBC by default, GCM when asked. */
export function defaultCipher(key: Buffer, aead = false): Cipher {
  const bits = key.length === 16 ? '128' : '256';
  return `aes-${bits}-${aead ? 'gcm' : 'cbc'}` as Cipher;
}

export function encryptString(plaintext: string, key: Buffer, cipher: Cipher = defaultCipher(key)): string {
  if (key.length !== keyBytesFor(cipher))
    throw new Error(`A ${cipher} key must be ${keyBytesFor(cipher)} bytes`);
  const ivBytes = randomBytes(isAead(cipher) ? 12 : 16);
  const enc = createCipheriv(cipher, key, ivBytes);
  const value = Buffer.concat([enc.update(plaintext, 'utf8'), enc.final()]).toString('base64');
  const iv = ivBytes.toString('base64');
  const tag = isAead(cipher)
    ? (enc as ReturnType<typeof createCipheriv> & { getAuthTag(): Buffer }).getAuthTag()
    : null;
  const envelope = {
    iv,
    value,
    mac: tag ? '' : mac(key, iv, value),
    tag: tag ? tag.toString('base64') : '',
  };
  return Buffer.from(JSON.stringify(envelope), 'utf8').toString('base64');
}

interface Envelope {
  iv: string;
  value: string;
  mac: string;
  tag: string;
}

function readEnvelope(payload: string): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
  } catch {
    throw new DecryptError('The payload is invalid.');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new DecryptError('The payload is invalid.');
  const p = parsed as Record<string, unknown>;
  for (const field of ['iv', 'value', 'mac'] as const) {
    if (typeof p[field] !== 'string') throw new DecryptError('The payload is invalid.');
  }
  const tag = p.tag === undefined || p.tag === null ? '' : p.tag;
  if (typeof tag !== 'string') throw new DecryptError('The payload is invalid.');
  return { iv: p.iv as string, value: p.value as string, mac: p.mac as string, tag };
}

/**
 * Decrypts a Laravel encrypted string. Without an explicit cipher it is inferred the way a Laravel
 * app configured for this key length would see it: a non-empty `tag` means GCM, else CBC.
 */
export function decryptString(payload: string, key: Buffer, cipher?: Cipher): string {
  const env = readEnvelope(payload);
  const chosen = cipher ?? defaultCipher(key, env.tag !== '');
  if (key.length !== keyBytesFor(chosen)) throw new DecryptError('The key does not fit the cipher.');
  const iv = Buffer.from(env.iv, 'base64');
  if (isAead(chosen)) {
    const tag = Buffer.from(env.tag, 'base64');
    if (tag.length !== 16) throw new DecryptError('Could not decrypt the data.');
    try {
      const dec = createDecipheriv(chosen, key, iv) as ReturnType<typeof createDecipheriv> & {
        setAuthTag(tag: Buffer): void;
      };
      dec.setAuthTag(tag);
      return Buffer.concat([dec.update(Buffer.from(env.value, 'base64')), dec.final()]).toString('utf8');
    } catch {
      throw new DecryptError('Could not decrypt the data.');
    }
  }
  if (iv.length !== 16) throw new DecryptError('The payload is invalid.');
  // Constant-time comparison of equal-length buffers: the MAC must not leak through timing.
  const expected = Buffer.from(mac(key, env.iv, env.value), 'utf8');
  const given = Buffer.from(env.mac, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new DecryptError('The MAC is invalid.');
  }
  try {
    const dec = createDecipheriv(chosen, key, iv);
    return Buffer.concat([dec.update(Buffer.from(env.value, 'base64')), dec.final()]).toString('utf8');
  } catch {
    throw new DecryptError('Could not decrypt the data.');
  }
}
