// Starts the real collector (server/main.ts) as a child process, the way `npm run collector` does, on a
// free port and a data folder of the caller's choosing, and reads what it prints on startup.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startChild } from './child.mjs';
import { rootDir } from './paths.mjs';

export const collectorEntry = join(rootDir, 'server', 'main.ts');

export function collectorAvailable() {
  return existsSync(collectorEntry);
}

// The collector's first line is exact; the next ones print the demo project's key and token.
const ready =
  /^Spoor collector listening on (http:\/\/\S+)\r?\nProject key: (\S+)\r?\nAPI token: (\S+)\r?\n/m;

/**
 * @param {{ data: string; env?: Record<string, string> }} options
 * @returns {Promise<{ url: string; api: string; projectKey: string; apiToken: string; pid: number;
 *   stop: () => Promise<void> }>}
 */
export async function startCollector({ data, env = {} }) {
  const child = await startChild(['--import', 'tsx', collectorEntry], ready, {
    env: { PORT: '0', SPOOR_DATA: data, ...env },
    cwd: rootDir,
    timeoutMs: 60_000,
  });
  const [, url, projectKey, apiToken] = child.match;
  return { url, api: `${url}/api`, projectKey, apiToken, pid: child.pid, stop: child.stop };
}
