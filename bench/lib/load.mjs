// A closed-loop HTTP load generator: `concurrency` clients, each sending its next body as soon as the
// previous answer has been read to the end, over kept-alive connections (as a browser tab's batches do).
import { Agent, request } from 'node:http';
import { percentile } from './stats.mjs';

function post(agent, url, body) {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': body.length },
      },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/**
 * @param {{ url: string; bodies: Buffer[]; start?: number; cycle?: boolean; concurrency: number;
 *   durationMs: number }} options
 *   Bodies are taken in order from `start`; the run ends at the deadline or when the bodies run out
 *   (with `cycle`, it starts over from the first body instead).
 * @returns {Promise<{ requests: number; seconds: number; rps: number; p50: number; p99: number;
 *   latencies: number[]; statuses: Record<string, number>; next: number }>}
 */
export async function load({ url, bodies, start = 0, cycle = false, concurrency, durationMs }) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = [];
  const statuses = {};
  let next = start;
  const began = performance.now();
  const deadline = began + durationMs;
  const client = async () => {
    while (performance.now() < deadline && (cycle || next < bodies.length)) {
      const body = bodies[next++ % bodies.length];
      const sent = performance.now();
      const status = await post(agent, url, body);
      latencies.push(performance.now() - sent);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const seconds = (performance.now() - began) / 1000;
  agent.destroy();
  return {
    requests: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    latencies,
    statuses,
    next,
  };
}
