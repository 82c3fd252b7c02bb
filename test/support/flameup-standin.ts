// A local Flameup for the collector's tests: a real HTTP server on 127.0.0.1 that checks every request
// against the published API (flameup-api.ts) and can simulate an outage, a dropped connection, a stall
// and a 429 with Retry-After. Nothing leaves the machine.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Accepted,
  createFlameupApi,
  type Fault,
  type FlameupApi,
  type FlameupRequest,
  TRACK_PATH,
} from './flameup-api.js';

export type { Accepted, Fault, FlameupRequest };

export interface FlameupStandin {
  /** The track URL to configure, e.g. http://127.0.0.1:41234/api/v1/track */
  url: string;
  readonly requests: FlameupApi['requests'];
  readonly accepted: Accepted[];
  fail(fault: Fault, times?: number): void;
  recover(): void;
  /** Resolves once `accepted` holds at least n events; rejects after `timeoutMs`. */
  waitForAccepted(n: number, timeoutMs?: number): Promise<Accepted[]>;
  close(): Promise<void>;
}

export async function startFlameupStandin(opts: {
  apiKey: string;
  failFor?: Fault & { times?: number };
}): Promise<FlameupStandin> {
  const api = createFlameupApi(opts);
  const server: Server = createServer((req, res) => {
    void readAll(req).then((body) => {
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const answer = api.answer({
        method: req.method ?? 'GET',
        path: new URL(req.url ?? '/', 'http://localhost').pathname,
        headers,
        body,
      });
      if (answer.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (answer.kind === 'stall') return; // answered never; close() cuts it
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${TRACK_PATH}`,
    requests: api.requests,
    accepted: api.accepted,
    fail: (fault, times) => api.fail(fault, times),
    recover: () => api.recover(),
    async waitForAccepted(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (api.accepted.length < n) {
        if (Date.now() > deadline) {
          throw new Error(`Flameup stand-in: ${api.accepted.length} of ${n} events after ${timeoutMs} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return api.accepted;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
