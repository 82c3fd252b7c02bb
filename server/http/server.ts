// The collector's HTTP server: Node's server with the timeouts and the per-address connection cap that
// keep a slow or greedy client from holding it. main.ts and the tests both build it here, so the tests
// run under the limits production runs under.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';

export interface HttpOptions {
  /** The request line and headers must arrive within this many ms (else 408). */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this many ms (else 408). */
  requestTimeoutMs: number;
  /** A kept-alive connection with no request is closed after this many ms. */
  keepAliveTimeoutMs: number;
  /** Connections one client address may hold open at once; 0: no cap. */
  maxConnectionsPerIp: number;
}

const REFUSED_BODY = JSON.stringify({ error: true, message: 'Too many connections from this address.' });
// Written straight to the socket: a refused connection costs no parsing, routing or allocation.
const REFUSED = Buffer.from(
  'HTTP/1.1 503 Service Unavailable\r\n' +
    'Connection: close\r\n' +
    'Retry-After: 1\r\n' +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(REFUSED_BODY)}\r\n` +
    '\r\n' +
    REFUSED_BODY,
);

/**
 * The key connections are counted under: the IPv4 address, or an IPv6 address's /64 prefix, since one
 * IPv6 client is usually handed a whole /64 and could otherwise open each connection from a new address.
 */
export function addressKey(address: string): string {
  const plain = address.split('%')[0] as string;
  if (plain.startsWith('::ffff:') && plain.includes('.')) return plain.slice(7);
  if (!plain.includes(':')) return plain;
  const [head = '', tail] = plain.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const width = (parts: string[]) => parts.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(Math.max(0, 8 - width(left) - width(right))).fill('0'), ...right];
  const prefix = all.slice(0, 4).map((g) => (Number.parseInt(g, 16) || 0).toString(16));
  return `${prefix.join(':')}::/64`;
}

/** How often Node checks the header and request timeouts: its 30 s default let a 300 s limit run to 317 s. */
function checkingInterval(options: HttpOptions): number {
  return Math.max(
    50,
    Math.min(1000, Math.floor(Math.min(options.headersTimeoutMs, options.requestTimeoutMs) / 4)),
  );
}

/** An HTTP server for `listener` under the collector's timeouts and per-address connection cap. */
export function createCollectorServer(listener: RequestListener, options: HttpOptions): Server {
  // Sockets answered 503 at connect time; a request Node still parses on one never reaches the app.
  const refused = new WeakSet<Socket>();
  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      connectionsCheckingInterval: checkingInterval(options),
    },
    (req, res) => {
      if (refused.has(req.socket)) {
        req.socket.destroy();
        return;
      }
      listener(req, res);
    },
  );

  if (options.maxConnectionsPerIp > 0) {
    // Open connections per address key.
    const open = new Map<string, number>();
    // Before Node's own connection handler: the count is settled before any byte is parsed.
    server.prependListener('connection', (socket: Socket) => {
      if (socket.remoteAddress === undefined) return;
      const key = addressKey(socket.remoteAddress);
      const count = open.get(key) ?? 0;
      if (count >= options.maxConnectionsPerIp) {
        refused.add(socket);
        socket.on('error', () => {});
        socket.end(REFUSED, () => socket.destroy());
        return;
      }
      open.set(key, count + 1);
      socket.once('close', () => {
        const left = (open.get(key) ?? 1) - 1;
        if (left > 0) open.set(key, left);
        else open.delete(key);
      });
    });
  }
  return server;
}
