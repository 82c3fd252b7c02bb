// Gzip with the browser's CompressionStream when it has one (Chrome 80, Firefox 113, Safari 16.4).

/** Bodies smaller than this gain too little from gzip to pay for it. */
export const COMPRESS_MIN_BYTES = 1024;

export function canCompress(): boolean {
  return typeof CompressionStream === 'function';
}

/** The gzip bytes of text, or null when the browser cannot compress or compressing failed. */
export async function gzip(text: string): Promise<Uint8Array | null> {
  if (!canCompress()) return null;
  try {
    const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    return null;
  }
}
