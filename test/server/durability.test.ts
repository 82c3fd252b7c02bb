// Kills the real collector process (SIGKILL, no chance to flush) while batches are arriving, restarts
// it on the same data folder, and checks that every batch answered 200 was stored.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';

const V1 = '/api/services/analytics/v1';
const dir = mkdtempSync(join(tmpdir(), 'spoor-kill-'));
const children: ChildProcess[] = [];

interface Running {
  child: ChildProcess;
  url: string;
  projectKey: string;
  token: string;
}

function start(): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { ...process.env, PORT: '0', SPOOR_DATA: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.on('line', (line) => {
      lines.push(line);
      if (lines.length === 3) {
        const url = /^Spoor collector listening on (http:\/\/localhost:\d+)$/.exec(lines[0] as string)?.[1];
        if (!url) reject(new Error(`unexpected first line: ${lines[0]}`));
        resolve({
          child,
          url: (url as string).replace('localhost', '127.0.0.1'),
          projectKey: (lines[1] as string).replace('Project key: ', ''),
          token: (lines[2] as string).replace('API token: ', ''),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`collector exited early with ${code}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
  );
}

afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('durability', () => {
  it('keeps every batch answered 200 when the collector is SIGKILLed mid-stream and restarted', async () => {
    const first = await start();
    const post = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(url + path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const minted = await (
      await post(first.url, `${V1}/session`, { project: first.projectKey, url: 'https://shop.test/' })
    ).json();
    const sessionIdentifier = minted.sessionIdentifier as string;

    const acknowledged: string[] = [];
    let sent = 0;
    let killed = false;
    const worker = async (w: number) => {
      for (let i = 0; !killed; i++) {
        const name = `w${w}-b${i}`;
        sent++;
        try {
          const res = await post(first.url, `${V1}/track`, {
            sessionIdentifier,
            timer: i,
            events: [
              { type: 5, data: { tag: 'event', payload: { name, parameters: {} } }, timestamp: Date.now() },
            ],
          });
          await res.arrayBuffer();
          if (res.status === 200) acknowledged.push(name);
        } catch {
          // the connection died with the process: this batch was never acknowledged
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    // Kill once a good number of batches are through, while the others are still in flight.
    while (acknowledged.length < 150) await new Promise((r) => setTimeout(r, 5));
    first.child.kill('SIGKILL');
    killed = true;
    await Promise.all(workers);
    await exited(first.child);
    expect(first.child.signalCode).toBe('SIGKILL');
    expect(sent).toBeGreaterThan(acknowledged.length);

    const second = await start();
    expect(second.token).toBe(first.token); // the generated secrets were saved in the data folder
    const events = await (
      await post(
        second.url,
        `${V1}/sessions/get-events`,
        { session_id: 1 },
        { Authorization: `Bearer ${second.token}` },
      )
    ).json();
    const stored = new Set((events.data.named_events as { name: string }[]).map((e) => e.name));
    const lost = acknowledged.filter((name) => !stored.has(name));
    expect(lost).toEqual([]);
    second.child.kill('SIGTERM');
    await exited(second.child);
    expect(second.child.exitCode).toBe(0);
  }, 30_000);
});
