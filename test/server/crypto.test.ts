import { describe, expect, it } from 'vitest';
import {
  CIPHERS,
  DecryptError,
  decryptString,
  encryptString,
  generateKey,
  parseKey,
} from '../../server/crypto/encrypter.js';
import { mintIdentifier, readIdentifier } from '../../server/crypto/identifier.js';

const laravelVector = {
  iv: 'X4tS9MTblAjenxsyPubhUQ==',
  value: 'Dbikjvdr7yK4uKQjBgyHTQ==',
  mac: '20cef187a58a998195574a150838559a4fd8079f31a8d8c5fc539fc0da0c1b5f',
};

function envelope(fields: Record<string, string>): string {
  return Buffer.from(JSON.stringify(fields)).toString('base64');
}

describe('Laravel encrypter', () => {
  it("decrypts Laravel's own aes-128-cbc test vector to foo", () => {
    const payload = envelope({ ...laravelVector, tag: '' });
    expect(decryptString(payload, Buffer.from('bbbbbbbbbbbbbbbb'), 'aes-128-cbc')).toBe('foo');
    // and without naming the cipher: a 16-byte key and an empty tag mean aes-128-cbc
    expect(decryptString(payload, Buffer.from('bbbbbbbbbbbbbbbb'))).toBe('foo');
  });

  it('rejects the test vector with one MAC character changed', () => {
    const payload = envelope({ ...laravelVector, mac: `${laravelVector.mac.slice(0, -1)}0`, tag: '' });
    expect(() => decryptString(payload, Buffer.from('bbbbbbbbbbbbbbbb'))).toThrow(DecryptError);
  });

  it.each(CIPHERS)('round-trips a string with %s and rejects a changed value', (cipher) => {
    const key = Buffer.alloc(cipher.startsWith('aes-128') ? 16 : 32, 7);
    const payload = encryptString('{"p":1}', key, cipher);
    expect(decryptString(payload, key)).toBe('{"p":1}');
    const parsed = JSON.parse(Buffer.from(payload, 'base64').toString());
    expect(parsed.mac === '').toBe(cipher.endsWith('gcm'));
    const value = Buffer.from(parsed.value, 'base64');
    value[0] = (value[0] as number) ^ 1;
    const tampered = envelope({ ...parsed, value: value.toString('base64') });
    expect(() => decryptString(tampered, key)).toThrow(DecryptError);
  });

  it('reads keys written as base64: and generates 32-byte ones', () => {
    const key = generateKey();
    expect(key).toMatch(/^base64:/);
    expect(parseKey(key)).toHaveLength(32);
    expect(parseKey('bbbbbbbbbbbbbbbb')).toHaveLength(16);
  });

  it('rejects garbage and a payload from another key', () => {
    const key = parseKey(generateKey());
    expect(() => decryptString('not base64 json', key)).toThrow(DecryptError);
    expect(() => decryptString(encryptString('x', parseKey(generateKey())), key)).toThrow(DecryptError);
  });
});

describe('session identifier', () => {
  it('carries project, session, tab and issue time, and only for its own key', () => {
    const key = parseKey(generateKey());
    const id = mintIdentifier({ p: 1, s: 42, w: 2, iat: 1_700_000_000 }, key);
    expect(readIdentifier(id, key)).toEqual({ p: 1, s: 42, w: 2, iat: 1_700_000_000 });
    expect(readIdentifier(id, parseKey(generateKey()))).toBeNull();
    expect(readIdentifier(encryptString('{"p":"1"}', key), key)).toBeNull();
  });
});
