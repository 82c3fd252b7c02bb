// Starts the real collector (`server/main.ts`) as its own process, on a free port and a temporary
// data folder, the way `npm start` runs it. The fault tests restart it on the same folder, and put a
// proxy in front of it for the faults of the network between (e2e/fault-proxy.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Fixed secrets, so that a test can read what the collector minted (and a restart keeps them). */
export const TEST_KEYS = {
  SPOOR_APP_KEY: 'base64:c3Bvb3ItZTJlLWFwcC1rZXktMzItYnl0ZXMtbG9uZyE=',
  SPOOR_PROJECT_KEY: 'pk_e2e_fernwood',
  SPOOR_API_TOKEN: 'e2e-read-token-0123456789abcdef',
} as const;

export interface Collector {
  /** e.g. http://localhost:41234 */
  url: string;
  /** `${url}/api`: the snippet's endpoint. */
  endpoint: string;
  dataDir: string;
  /** Everything the process printed, for failure messages. */
  output(): string;
  /** SIGTERM, and wait for the process to exit. */
  stop(): Promise<void>;
  /** SIGKILL: the collector dies with requests in flight. */
  kill(): Promise<void>;
}

export interface CollectorOptions {
  dataDir?: string;
  /** Extra environment, e.g. SPOOR_TRACK_LIMIT. */
  env?: Record<string, string>;
  /** Reuse a port (a restart must come back where the pages expect it). Default 0: a free one. */
  port?: number;
  /** Start as `npm start` does, signing the dashboard's viewer on loopback in by itself. Default true. */
  demoSignIn?: boolean;
}

export async function makeDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'spoor-e2e-'));
}

export async function removeDataDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function startCollector(options: CollectorOptions = {}): Promise<Collector> {
  const dataDir = options.dataDir ?? (await makeDataDir());
  const args = [
    '--import',
    'tsx',
    'server/main.ts',
    ...(options.demoSignIn === false ? [] : ['--demo-sign-in']),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      ...TEST_KEYS,
      PORT: String(options.port ?? 0),
      SPOOR_DATA: dataDir,
      // The harness polls the read endpoints; the published 60 a minute would throttle the polling,
      // not the code under test.
      SPOOR_READ_LIMIT: '100000',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    output += chunk;
  });

  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`collector did not start within 20 s:\n${output}`)),
      20_000,
    );
    child.stdout?.on('data', (chunk: string) => {
      output += chunk;
      const match = /Spoor collector listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`collector exited with ${code} before listening:\n${output}`));
    });
  });

  return {
    url,
    endpoint: `${url}/api`,
    dataDir,
    output: () => output,
    stop: () => end(child, 'SIGTERM'),
    kill: () => end(child, 'SIGKILL'),
  };
}

function end(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveEnd) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolveEnd();
    });
    child.kill(signal);
  });
}
