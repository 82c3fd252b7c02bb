// A TCP port for a server that must know its URL before it starts (a collector, nginx, an example app),
// and whether a server the tests need (PostgreSQL, Redis) listens at all.
import { createServer, Socket } from 'node:net';

/** A TCP port free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/** Whether something listens at the URL's host and port (`port` when the URL names none): a TCP connect,
 *  nothing more, so that tests needing a server can say how to get one instead of timing out. */
export function answers(raw: string, port: number): Promise<boolean> {
  const url = new URL(raw);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(url.port) || port, url.hostname, () => done(true));
  });
}
