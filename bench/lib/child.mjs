// Starts a Node script as a child process and waits for the line that says where it listens.
import { spawn } from 'node:child_process';

// Children still running, so that an interrupted bench (Ctrl-C) does not leave servers behind.
const running = new Set();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));

/**
 * @param {string[]} args node arguments (script and its options)
 * @param {RegExp} ready matched against stdout; its first group is returned as `url`, the whole match
 *   as `match`
 */
export function startChild(args, ready, { env = {}, cwd = process.cwd(), timeoutMs = 20_000 } = {}) {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  child.stderr.on('data', (chunk) => {
    errors += chunk;
  });
  running.add(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.once('exit', () => running.delete(child));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  return new Promise((resolve, reject) => {
    const early = (code, signal) => fail(`${args.join(' ')} exited early (${code ?? signal})`);
    const timer = setTimeout(() => fail(`${args.join(' ')} did not start in time`), timeoutMs);
    function fail(message) {
      clearTimeout(timer);
      void stop();
      reject(new Error(`${message}\nstdout:\n${output}\nstderr:\n${errors}`));
    }
    child.once('exit', early);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        child.removeListener('exit', early);
        child.stdout.on('data', () => {});
        resolve({ url: match[1], match, pid: child.pid ?? 0, stop });
      }
    });
  });
}
