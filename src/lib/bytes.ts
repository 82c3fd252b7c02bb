// UTF-8 byte counting for text the snippet sends or keeps: batch and body sizes, the size cap on named
// events, the Flameup mirror's outbox. A leaf helper so that producers, delivery and the mirror can all
// count bytes without importing each other.

// Matches the first UTF-16 unit outside ASCII, where counting has to start.
const NON_ASCII = /[\x80-\uffff]/;

/**
 * The UTF-8 byte length of text, as TextEncoder would encode it, without encoding it: encoding every
 * event and body cost ~200 ms of main thread per benchmark run, counting costs a tenth.
 * Rrweb's JSON is mostly ASCII, so a regex scan finds most strings pure and returns their length.
 */
export function byteLength(text: string): number {
  const first = text.search(NON_ASCII);
  if (first < 0) return text.length;
  let bytes = text.length;
  for (let i = first; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
    } else if (code >= 0xd800 && code < 0xdc00 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: two UTF-16 units, four bytes.
      bytes += 2;
      i++;
    } else {
      // Three bytes; a lone surrogate too, which TextEncoder writes as U+FFFD.
      bytes += 2;
    }
  }
  return bytes;
}
