// Reads a request body within limits: the bytes on the wire (413), the bytes after gunzip (413, so a
// gzip bomb costs us at most the limit), and the JSON nesting depth (422, checked before parsing).
import type { IncomingMessage } from 'node:http';
import { gunzip, gzip } from 'node:zlib';
import { fieldError, httpError } from './errors.js';

export interface BodyLimits {
  /** Bytes on the wire (compressed or not), on /track. */
  maxBytes: number;
  /** Bytes on the wire and decompressed of every other endpoint's body: small JSON forms. */
  maxFormBytes: number;
  /** Bytes after decompression. */
  maxDecompressedBytes: number;
  /** Deepest nesting of arrays and objects. */
  maxDepth: number;
}

function tooLarge(): Error {
  return httpError(413, 'The request body is too large.');
}

/**
 * A refused upload is read to its end and thrown away before the 413 goes out, up to this many bytes
 * past the limit: a client still sending when the answer comes and the connection closes (Node closes
 * it when a request's body was not read) sees a reset, not the 413 that tells the snippet to split its
 * batch, and would send the same batch again. Past this, the connection is cut; the request timeout
 * bounds the time either way.
 */
const DRAIN_BYTES = 16 * 1024 * 1024;

function readRaw(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + DRAIN_BYTES) {
    req.destroy();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Set once the body is over the limit: the rest is discarded as it arrives.
    let over = Number.isFinite(declared) && declared > maxBytes;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (!over && size > maxBytes) {
        over = true;
        chunks.length = 0;
      }
      if (!over) {
        chunks.push(chunk);
      } else if (size > maxBytes + DRAIN_BYTES && !settled) {
        settled = true;
        req.destroy();
        reject(tooLarge());
      }
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      if (over) reject(tooLarge());
      else resolve(Buffer.concat(chunks, size));
    });
    req.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
  });
}

function isGzip(req: IncomingMessage, raw: Buffer): boolean {
  const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
  // The snippet sends gzip as text/plain without Content-Encoding to stay a CORS-simple request:
  // the magic bytes are the signal then (docs/contract.md, "Store session recording data").
  return encoding.includes('gzip') || (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b);
}

function gunzipLimited(raw: Buffer, maxOutputLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxOutputLength makes zlib stop inflating at the limit instead of filling memory.
    gunzip(raw, { maxOutputLength }, (error, out) => {
      if (!error) return resolve(out);
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
        return reject(tooLarge());
      }
      reject(fieldError('body', 'The request body could not be decompressed.'));
    });
  });
}

export interface Body {
  /** The body's bytes, decompressed. */
  bytes: Buffer;
  /** The bytes as they came when they came gzip-compressed, else null. */
  gzip: Buffer | null;
}

/** The body, decompressed, and its compressed form when it came compressed. */
export async function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Body> {
  const raw = await readRaw(req, limits.maxBytes);
  if (!isGzip(req, raw)) return { bytes: raw, gzip: null };
  return { bytes: await gunzipLimited(raw, limits.maxDecompressedBytes), gzip: raw };
}

/** The body gzip-compressed: as it came, or compressed on libuv's thread pool, not the event loop. */
export function gzippedBody(body: Body): Promise<Buffer> {
  if (body.gzip) return Promise.resolve(body.gzip);
  return new Promise((resolve, reject) => {
    gzip(body.bytes, (error, out) => (error ? reject(error) : resolve(out)));
  });
}

/** Deepest nesting of `[`/`{` in JSON text, skipping strings; stops counting past the limit. */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** The body as a JSON object; anything else is a 422 on `body`. */
export function parseJsonObject(bytes: Buffer, maxDepth: number): Record<string, unknown> {
  const text = bytes.toString('utf8');
  if (jsonDepth(text, maxDepth) > maxDepth) {
    throw fieldError('body', `The request body must not be nested deeper than ${maxDepth} levels.`);
  }
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw fieldError('body', 'The request body must be valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw fieldError('body', 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}
