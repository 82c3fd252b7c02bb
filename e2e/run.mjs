// `npm run test:e2e`: runs Playwright against Debian's Chromium, or says in one line how to get one.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const candidate = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
try {
  accessSync(candidate, constants.X_OK);
} catch {
  console.error(
    'No Chromium found: install it with `apt-get install chromium` (or `npx playwright install chromium` where downloads work), or set CHROMIUM_PATH.',
  );
  process.exit(1);
}

// The journeys load the built snippet and the demo's bundles from dist/. The snippet's build ends with
// the demo's; if that step did not run (a failed size budget stops the build first), build it here.
if (!existsSync(join(root, 'dist', 'spoor.min.js')) || !existsSync(join(root, 'dist', 'index.js'))) {
  console.error('The snippet is not built: run `node build.mjs` first.');
  process.exit(1);
}
if (!existsSync(join(root, 'dist', 'demo', 'dashboard.js'))) {
  const { buildDemo } = await import('../demo/build.mjs');
  await buildDemo();
}

const child = spawn('npx', ['playwright', 'test', ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, CHROMIUM_PATH: candidate },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
