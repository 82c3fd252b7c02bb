// The admin password, kept as an scrypt hash: a person chooses it, so unlike the random API tokens it
// could be guessed from a fast hash. Hashing runs on libuv's thread pool (crypto.scrypt), never on the
// event loop. The stored form is `scrypt$N$r$p$salt$hash` (salt and hash in base64url).
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

export const PASSWORD_PARAMS = { N: 16384, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
/** Longer attempts are refused before hashing: scrypt's cost grows with its input only a little, but
 *  a sign-in form has no use for a megabyte. */
export const MAX_PASSWORD_LENGTH = 1024;

function derive(password: string, salt: Buffer, params: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem: N * r * 128 bytes is needed; twice that leaves room for Node's own bookkeeping.
    const options = { ...params, maxmem: 2 * 128 * (params.N ?? 0) * (params.r ?? 0) + 1024 * 1024 };
    scrypt(password, salt, KEY_BYTES, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** The stored form of a key derived under PASSWORD_PARAMS. */
export function passwordHashString(salt: Buffer, key: Buffer): string {
  const { N, r, p } = PASSWORD_PARAMS;
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return passwordHashString(salt, await derive(password, salt, PASSWORD_PARAMS));
}

/** Whether `stored` is a hash this module made (checked at start, so a typo fails there, not at sign-in). */
export function isPasswordHash(stored: string): boolean {
  return parse(stored) !== null;
}

function parse(stored: string): { params: ScryptOptions; salt: Buffer; key: Buffer } | null {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
  if (!m) return null;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounds that keep one check well under a second: a hash with absurd costs is refused, not run.
  if (N < 1024 || N > 1 << 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return null;
  const key = Buffer.from(m[5] as string, 'base64url');
  if (key.length !== KEY_BYTES) return null;
  return { params: { N, r, p }, salt: Buffer.from(m[4] as string, 'base64url'), key };
}

/** Whether `password` matches `stored`, compared in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed || password.length > MAX_PASSWORD_LENGTH) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  return timingSafeEqual(key, parsed.key);
}
