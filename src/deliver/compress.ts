// Gzip of /track bodies: the types the transport needs, in the core. The compressor itself (in a worker
// where the page allows one, else on the main thread) is compressor.ts, a lazily loaded file.

/** Bodies smaller than this gain too little from gzip to pay for it. */
export const COMPRESS_MIN_BYTES = 1024;

/** A body's gzip bytes and the exact UTF-8 length of the text they hold. */
export interface Compressed {
  bytes: Uint8Array;
  rawBytes: number;
}

/** Gzips text somewhere; null when it cannot, and the body then goes as it is. */
export interface Compressor {
  gzip(text: string): Promise<Compressed | null>;
}
