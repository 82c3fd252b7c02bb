// Packs the built snippet as `npm publish` would and installs the tarball into a project, for the
// package checks (check-package.mjs) and the framework examples' end-to-end test.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Packs the package into `dir` (scripts off: the build already ran) and returns the tarball's path. */
export function pack(dir) {
  if (!existsSync(join(root, 'dist', 'index.js'))) {
    throw new Error('The snippet is not built: run `node build.mjs` first.');
  }
  const [info] = JSON.parse(
    execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  return { tarball: join(dir, info.filename), info };
}

/** Unpacks the tarball as `node_modules/spoor` of a fresh project in `dir` (spoor has no dependencies,
 * so this is what `npm install <tarball>` leaves there). */
export function installInto(tarball, dir) {
  const target = join(dir, 'node_modules', 'spoor');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
}
