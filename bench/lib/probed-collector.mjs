// The real collector (server/main.ts) as a child process with the event-loop delay probe loaded
// (bench/lib/loop-delay-probe.mjs) and an IPC channel to ask it: reset before a request, read after.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { collectorEntry } from './collector.mjs';
import { benchDir, rootDir } from './paths.mjs';

const probe = join(benchDir, 'lib', 'loop-delay-probe.mjs');
// The first three lines are a documented interface (README, collector section).
const ready =
  /^Spoor collector listening on (http:\/\/\S+)\r?\nProject key: (\S+)\r?\nAPI token: (\S+)\r?\n/m;

/**
 * @param {{ data: string; env?: Record<string, string>; timeoutMs?: number }} options
 * @returns {Promise<{ url: string; projectKey: string; apiToken: string; pid: number;
 *   loopDelay: (action: 'reset' | 'read') => Promise<{ maxMs: number; p99Ms: number; meanMs: number;
 *   samples: number; resolutionMs: number }>; stop: () => Promise<void>; kill: () => Promise<void> }>}
 */
export function startProbedCollector({ data, env = {}, timeoutMs = 60_000 }) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', probe, collectorEntry], {
    cwd: rootDir,
    env: { ...process.env, PORT: '0', SPOOR_DATA: data, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const signal = async (name, graceMs) => {
    if (!alive()) return;
    child.kill(name);
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(force);
  };
  // A bench interrupted (Ctrl-C) or failing must not leave a collector behind.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  child.once('exit', () => process.removeListener('exit', onExit));

  let errors = '';
  child.stderr.on('data', (chunk) => {
    if (errors.length < 100_000) errors += chunk;
  });

  const loopDelay = (action) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.removeListener('message', onMessage);
        reject(new Error(`the collector did not answer a loop-delay ${action} (is the probe loaded?)`));
      }, 5000);
      function onMessage(message) {
        if (!message || typeof message !== 'object' || !('loopDelay' in message)) return;
        clearTimeout(timer);
        child.removeListener('message', onMessage);
        resolve(message.loopDelay);
      }
      child.on('message', onMessage);
      child.send({ loopDelay: action });
    });

  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail('did not start in time'), timeoutMs);
    const early = (code, sig) => fail(`exited early (${code ?? sig})`);
    function fail(why) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`collector ${why}\nstdout:\n${output}\nstderr:\n${errors}`));
    }
    child.once('exit', early);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = ready.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.removeListener('exit', early);
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      const [, url, projectKey, apiToken] = match;
      resolve({
        url: url.replace('//localhost:', '//127.0.0.1:'),
        projectKey,
        apiToken,
        pid: child.pid ?? 0,
        loopDelay,
        stop: () => signal('SIGTERM', 5000),
        kill: () => signal('SIGKILL', 0),
      });
    });
  });
}
