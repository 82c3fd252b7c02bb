// A reverse proxy in front of the collector that the browser talks to, so that e2e tests can make
// /track fail the way a network or a load balancer does, without any switch inside the collector.
// Told by the test (in the same process), for a while it
//   - answers an error status itself (a 500, a 503 with Retry-After, ...): the collector never sees
//     the request;
//   - drops the connection before forwarding: the request never reaches the collector;
//   - drops the connection after the collector answered: the batch is stored, the answer is lost.
// Otherwise it forwards faithfully: method, path and query, the request's bytes as they came (gzip
// bodies untouched), its headers including Host (so pages the collector serves through the proxy
// point their endpoint at the proxy and stay same-origin), and the answer's status, headers (CORS,
// Retry-After, X-RateLimit-*, no Cache-Control added) and bytes. Like any reverse proxy it owns its
// connections: hop-by-hop headers are not forwarded, and each request goes to the collector on a
// connection of its own, closed after the answer, so that idle proxy connections never count against
// the collector's per-address cap.
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ErrorBody } from '../src/wire.js';

/** What the proxy does to a matching request while a fault is on. */
export type Fault =
  /** Answer this status with the collector's error body, and these headers (e.g. Retry-After). */
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  /** Reset the connection as soon as the request's head arrives; nothing is forwarded. */
  | { kind: 'drop-request' }
  /** Forward, read the collector's whole answer, then reset the connection instead of answering. */
  | { kind: 'drop-answer' };

export interface FaultProxyStats {
  /** Requests forwarded and answered with the collector's answer. */
  forwarded: number;
  /** Requests the proxy answered itself with an error status. */
  answered: number;
  /** Connections reset, with the request forwarded ('drop-answer') or not. */
  dropped: number;
}

export interface FaultProxy {
  /** e.g. http://localhost:41235: the browser's base URL. */
  url: string;
  /** `${url}/api`: the snippet's endpoint through the proxy. */
  endpoint: string;
  /** Applies `fault` to matching requests that arrive in the next `ms` milliseconds. */
  fail(fault: Fault, ms: number): void;
  /** Ends the fault now. */
  clear(): void;
  stats(): FaultProxyStats;
  /**
   * The body of every matching request so far, as sent (gzip bodies compressed), in the order they
   * ended, faulted or not. It sees what Playwright does not: the keepalive requests of a page being
   * unloaded.
   */
  bodies(): Buffer[];
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** Which requests a fault applies to, by path; default: /track only. */
  match?: (path: string) => boolean;
  /** Clock in ms, for tests of the proxy. */
  now?: () => number;
}

const TRACK_PATH = '/api/services/analytics/v1/track';

/** Headers that describe one connection, not the message (RFC 9110, section 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The message's headers without hop-by-hop ones (and those its Connection header names). */
function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** What the collector itself says with these statuses (docs/contract.md, "Store session recording data"). */
const MESSAGES: Record<number, string> = {
  429: 'Too Many Attempts.',
  502: 'Bad Gateway.',
  503: 'The collector is busy; try again shortly.',
};

/** An error answer with the body and headers the collector gives every answer. */
function errorAnswer(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  extra: Record<string, string>,
): void {
  const body: ErrorBody = { error: true, message: MESSAGES[status] ?? 'Server Error' };
  const payload = Buffer.from(JSON.stringify(body));
  const origin = req.headers.origin;
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'X-Content-Type-Options': 'nosniff',
    Vary: 'Origin',
    // Same-origin pages do not need these; a cross-origin page must see the status, not a CORS error.
    ...(origin
      ? {
          'Access-Control-Allow-Origin': origin,
          'Access-Control-Expose-Headers':
            'Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset',
        }
      : {}),
    ...extra,
    'Content-Length': payload.length,
  });
  res.end(payload);
}

/** Starts a proxy in front of `target` (e.g. the collector's http://localhost:41234). */
export async function startFaultProxy(target: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const upstream = new URL(target);
  const match = options.match ?? ((path: string) => path === TRACK_PATH);
  const now = options.now ?? Date.now;
  let fault: Fault | null = null;
  let until = 0;
  const stats: FaultProxyStats = { forwarded: 0, answered: 0, dropped: 0 };
  const sockets = new Set<Socket>();
  const bodies: Buffer[] = [];

  const matches = (req: IncomingMessage) => match(new URL(req.url ?? '/', 'http://proxy').pathname);
  const activeFault = (req: IncomingMessage): Fault | null =>
    fault !== null && now() < until && matches(req) ? fault : null;

  const drop = (req: IncomingMessage) => {
    stats.dropped++;
    req.socket.destroy();
  };

  const forward = (req: IncomingMessage, res: ServerResponse, dropAnswer: boolean) => {
    const out = request({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      // Host as the browser sent it: the collector builds its pages' endpoint and its own origin
      // (for CORS) from it, and both must name the proxy.
      headers: { ...endToEnd(req.headers), connection: 'close' },
      agent: false,
    });
    out.on('response', (answer) => {
      if (dropAnswer) {
        // The whole answer first: the collector has stored the batch and said so; the page never hears.
        answer.resume();
        answer.on('end', () => drop(req));
        answer.on('error', () => drop(req));
        return;
      }
      stats.forwarded++;
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    out.on('error', () => {
      // The page left first (see below): there is no one to answer.
      if (res.destroyed) return;
      // The collector is down or cut the connection: what a load balancer answers then.
      if (dropAnswer) return drop(req);
      if (res.headersSent) return res.destroy();
      stats.answered++;
      errorAnswer(req, res, 502, {});
    });
    // The page went away before its answer was sent: the collector's connection goes too, as it
    // would without a proxy.
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    req.pipe(out);
  };

  const server: Server = createServer((req, res) => {
    if (matches(req)) {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => bodies.push(Buffer.concat(chunks)));
    }
    const active = activeFault(req);
    if (active?.kind === 'drop-request') return drop(req);
    if (active?.kind === 'status') {
      // Read the upload to its end first, as the collector does, so the page reads this answer
      // rather than a reset connection.
      req.resume();
      req.on('end', () => {
        stats.answered++;
        errorAnswer(req, res, active.status, active.headers ?? {});
      });
      return;
    }
    forward(req, res, active?.kind === 'drop-answer');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const url = `http://localhost:${(server.address() as AddressInfo).port}`;

  return {
    url,
    endpoint: `${url}/api`,
    fail(next, ms) {
      fault = next;
      until = now() + ms;
    },
    clear() {
      fault = null;
      until = 0;
    },
    stats: () => ({ ...stats }),
    bodies: () => [...bodies],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
