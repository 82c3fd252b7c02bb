// `npm run collector:build`: the collector as plain JavaScript in dist-server/, a folder that runs with
// `node main.js` once `npm ci --omit=dev` has installed its runtime dependencies there (its own
// package.json and lock, copied from server/). Every module is compiled on its own, keeping its place:
// the worker pools find `worker.js` beside themselves (server/lib/worker-pool.ts) and the checkpointer
// resolves better-sqlite3 from the folder's node_modules at run time. The snippet and the dashboard it
// serves (dist/, demo/) are copied in, so the folder is the whole deployment.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(root, process.env.SPOOR_COLLECTOR_OUT || 'dist-server');

function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

if (
  !existsSync(join(root, 'dist', 'spoor.min.js')) ||
  !existsSync(join(root, 'dist', 'demo', 'dashboard.js'))
) {
  console.error('collector:build: the snippet and dashboard are not built; run `npm run build` first.');
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// The one module of src/ the collector imports (the relay retries by the snippet's rules).
const entryPoints = [...tsFiles(join(root, 'server')), join(root, 'src', 'deliver', 'backoff.ts')];
await build({
  entryPoints,
  outbase: root,
  outdir: out,
  bundle: false,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
writeFileSync(
  join(out, 'main.js'),
  "// Entry point of the built collector (scripts/build-collector.mjs).\nimport './server/main.js';\n",
);
for (const file of ['package.json', 'package-lock.json']) cpSync(join(root, 'server', file), join(out, file));
cpSync(join(root, 'dist'), join(out, 'dist'), { recursive: true });
// The demo's pages and assets; its TypeScript sources and build files stay behind.
cpSync(join(root, 'demo'), join(out, 'demo'), {
  recursive: true,
  filter: (src) => !/\.(ts|mjs)$/.test(src) && !src.endsWith('tsconfig.json'),
});
console.log(
  `collector built: ${relative(root, out)}/ (${entryPoints.length} modules); start with node ${relative(root, out)}/main.js`,
);
