// The session identifier's plaintext: which project, session and tab it names, and when it was minted.
import { DecryptError, decryptString, encryptString } from './encrypter.js';

export interface IdentifierClaims {
  /** project id */
  p: number;
  /** session id */
  s: number;
  /** tab number within the session, from 1 */
  w: number;
  /** minted at, unix seconds */
  iat: number;
}

export function mintIdentifier(claims: IdentifierClaims, key: Buffer): string {
  return encryptString(JSON.stringify({ p: claims.p, s: claims.s, w: claims.w, iat: claims.iat }), key);
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

/** The claims of a genuine identifier, or null for anything tampered, foreign or malformed. */
export function readIdentifier(identifier: string, key: Buffer): IdentifierClaims | null {
  let plaintext: string;
  try {
    plaintext = decryptString(identifier, key);
  } catch (error) {
    if (error instanceof DecryptError) return null;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const c = parsed as Record<string, unknown>;
  if (!isPositiveInt(c.p) || !isPositiveInt(c.s) || !isPositiveInt(c.w) || typeof c.iat !== 'number')
    return null;
  return { p: c.p, s: c.s, w: c.w, iat: c.iat };
}
