// The real collector (server/main.ts, as `npm run collector` starts it) as a child process on a data
// folder of the test's choosing. A request that blocks or crashes it cannot stall the test's own event
// loop, so the test can still time it, see that it is stuck, and start a fresh one; "alive" means
// the process has not exited.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

export { freePort };

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CollectorProcess {
  /** e.g. http://127.0.0.1:41234 (the collector prints localhost; tests call the IPv4 loopback). */
  url: string;
  port: number;
  projectKey: string;
  apiToken: string;
  dataDir: string;
  child: ChildProcess;
  /** What the collector wrote to stderr so far (its 5xx details go there). */
  stderr(): string;
  alive(): boolean;
  /** SIGTERM (requests in flight finish, the database closes), SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** SIGKILL: for a collector that is stuck and would finish nothing. */
  kill(): Promise<void>;
}

export interface StartOptions {
  dataDir: string;
  env?: Record<string, string>;
  /** 0 lets the system pick. */
  port?: number;
  timeoutMs?: number;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((done) =>
    child.exitCode !== null || child.signalCode !== null ? done() : child.once('exit', () => done()),
  );
}

export function startCollectorProcess(options: StartOptions): Promise<CollectorProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(options.port ?? 0), SPOOR_DATA: options.dataDir, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr?.on('data', (chunk) => {
    // Bounded: a collector logging a stack per request must not fill the test's memory.
    if (errors.length < 1_000_000) errors += chunk;
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const signal = async (name: NodeJS.Signals, graceMs: number) => {
    if (!alive()) return;
    child.kill(name);
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited(child);
    clearTimeout(force);
  };

  return new Promise((resolvePromise, reject) => {
    const lines: string[] = [];
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`collector did not start in time\nstderr:\n${errors}`));
    }, options.timeoutMs ?? 30_000);
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`collector exited early (${code})\nstderr:\n${errors}`));
    };
    child.once('exit', early);
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.on('line', (line) => {
      if (lines.length >= 3) return;
      lines.push(line);
      if (lines.length < 3) return;
      clearTimeout(timer);
      child.removeListener('exit', early);
      // The first three lines are a documented interface (README, collector section): keep in step.
      const port = Number(
        /^Spoor collector listening on http:\/\/localhost:(\d+)$/.exec(lines[0] ?? '')?.[1],
      );
      const projectKey = /^Project key: (\S+)$/.exec(lines[1] ?? '')?.[1];
      const apiToken = /^API token: (\S+)$/.exec(lines[2] ?? '')?.[1];
      if (!port || !projectKey || !apiToken) {
        child.kill('SIGKILL');
        reject(new Error(`unexpected startup lines: ${JSON.stringify(lines)}`));
        return;
      }
      resolvePromise({
        url: `http://127.0.0.1:${port}`,
        port,
        projectKey,
        apiToken,
        dataDir: options.dataDir,
        child,
        stderr: () => errors,
        alive,
        stop: () => signal('SIGTERM', 5000),
        kill: () => signal('SIGKILL', 0),
      });
    });
  });
}
