// Random tokens for ids that only have to be unique: batch ids, the page load's claim on a tab
// identifier, the owner of an outbox lease, the Flameup mirror's batch ids.

/** A random token of 32 hex digits; crypto.randomUUID is missing on plain-HTTP pages,
 *  getRandomValues is not. */
export function randomId(): string {
  const bytes = new Uint8Array(16);
  try {
    crypto.getRandomValues(bytes);
  } catch {
    for (let i = 0; i < 16; i++) bytes[i] = (Math.random() * 256) | 0;
  }
  let out = '';
  for (const byte of bytes) out += (byte + 256).toString(16).slice(1);
  return out;
}
