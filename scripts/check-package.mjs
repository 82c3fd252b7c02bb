// `npm run test:package`: packs the built snippet once, as `npm publish` would, and checks the tarball
// a front-end developer installs: only the snippet's files; publint and @arethetypeswrong/cli clean;
// its types strict under moduleResolution bundler, node16 and nodenext; importable (and require-able
// where Node has require(esm)) in Node, where it answers with an inert tracker; the script-tag files
// reachable through `exports`. Run after `node build.mjs`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { installInto, pack } from './pack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The only files the tarball may hold: the script-tag files, the npm entry, its chunks and types. */
const ALLOWED =
  /^(package\.json|README\.md|LICENSE(\.\w+)?|dist\/(spoor(\.\w+)?\.min\.js|index\.js|index\.d\.ts|chunks\/[\w-]+\.js))$/;
const REQUIRED = ['dist/index.js', 'dist/index.d.ts', 'dist/spoor.min.js', 'dist/spoor.core.min.js'];

const failures = [];
const check = (ok, message) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${message}`);
  if (!ok) failures.push(message);
};

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'spoor-package-'));
  try {
    const { tarball, info } = pack(work);
    const files = info.files.map((file) => file.path);
    console.log(
      `${info.filename}: ${files.length} files, ${info.size} B tarball, ${info.unpackedSize} B unpacked`,
    );
    const stray = files.filter((file) => !ALLOWED.test(file));
    check(
      stray.length === 0,
      `only the snippet's files are packed${stray.length ? `; also: ${stray.join(', ')}` : ''}`,
    );
    const missing = REQUIRED.filter((file) => !files.includes(file));
    check(
      missing.length === 0,
      `the entry, its types and the script-tag files are packed${missing.length ? `; missing: ${missing.join(', ')}` : ''}`,
    );

    // publint on the very tarball, warnings counted as errors.
    const { messages, pkg } = await publint({
      pack: { tarball: readFileSync(tarball).buffer },
      strict: true,
    });
    for (const message of messages)
      console.log(`     publint ${message.type}: ${formatMessage(message, pkg)}`);
    check(messages.filter((m) => m.type !== 'suggestion').length === 0, 'publint --strict finds nothing');

    // arethetypeswrong: ESM-only by decision (see README, "npm"), so CommonJS resolution modes are not
    // asked for; every ESM mode (bundler, node16 from ESM) must resolve to typed, matching files. The
    // script-tag files are exported as files to serve, not modules to import: they have no types.
    const scriptFiles = Object.keys(
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports,
    ).filter((entry) => entry.endsWith('.min.js'));
    try {
      const out = execFileSync(
        join(root, 'node_modules', '.bin', 'attw'),
        [
          tarball,
          '--profile',
          'esm-only',
          '--format',
          'table-flipped',
          '--exclude-entrypoints',
          ...scriptFiles,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      console.log(out.trimEnd());
      check(true, 'attw --profile esm-only finds no problem');
    } catch (error) {
      console.log(String(error.stdout ?? error));
      check(false, 'attw --profile esm-only finds no problem');
    }

    // A consumer project with the tarball installed: strict types in each resolution mode.
    const app = join(work, 'consumer');
    mkdirSync(app);
    installInto(tarball, app);
    writeFileSync(join(app, 'package.json'), '{"name":"consumer","private":true,"type":"module"}\n');
    writeFileSync(
      join(app, 'consumer.ts'),
      [
        "import { type DebugEvent, init, type Options, type Tracker } from 'spoor';",
        "const options: Options = { endpoint: 'https://collector.example.com/api', project: 'pk' };",
        'const tracker: Tracker = init(options);',
        "tracker.track('signup', { plan: 'pro' });",
        'tracker.onDebug((event: DebugEvent) => event.kind);',
        'void tracker.flush();',
        '// @ts-expect-error the endpoint is a string: if the types were lost, this line would pass',
        'init({ endpoint: 1 });',
        '// @ts-expect-error no such option',
        "init({ endpoint: 'e', flushEvery: 5 });",
        '',
      ].join('\n'),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const modes = [
      { module: 'preserve', moduleResolution: 'bundler', skipLibCheck: false },
      { module: 'node16', moduleResolution: 'node16', skipLibCheck: true },
      { module: 'nodenext', moduleResolution: 'nodenext', skipLibCheck: false },
    ];
    for (const mode of modes) {
      const config = {
        compilerOptions: {
          ...mode,
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          types: [],
        },
        files: ['consumer.ts'],
      };
      writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(config));
      try {
        execFileSync(process.execPath, [tsc, '-p', app], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        check(
          true,
          `types are strict under moduleResolution ${mode.moduleResolution} (skipLibCheck ${mode.skipLibCheck})`,
        );
      } catch (error) {
        console.log(String(error.stdout ?? error));
        check(
          false,
          `types are strict under moduleResolution ${mode.moduleResolution} (skipLibCheck ${mode.skipLibCheck})`,
        );
      }
    }

    // Node: import, require (Node 20.19+ and 22.12+ load ES modules with require()), the script files.
    const probe = [
      "import { createRequire } from 'node:module';",
      'const require = createRequire(import.meta.url);',
      "const { init } = await import('spoor');",
      "const tracker = init({ endpoint: 'https://collector.example.com/api' });",
      "tracker.track('ssr'); await tracker.flush(); tracker.stop();",
      "const [major, minor] = process.versions.node.split('.').map(Number);",
      'const requireEsm = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);',
      "const required = requireEsm ? typeof require('spoor').init : 'function';",
      "console.log(JSON.stringify({ required, script: require.resolve('spoor/spoor.min.js'), dist: require.resolve('spoor/dist/spoor.recorder.min.js') }));",
    ].join('\n');
    writeFileSync(join(app, 'probe.mjs'), probe);
    try {
      const out = JSON.parse(
        execFileSync(process.execPath, ['probe.mjs'], {
          cwd: app,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      check(
        out.required === 'function',
        `Node ${process.versions.node} imports and requires it, and init() is inert there`,
      );
      check(
        out.script.endsWith(join('spoor', 'dist', 'spoor.min.js')) &&
          out.dist.endsWith(join('spoor', 'dist', 'spoor.recorder.min.js')),
        'spoor/spoor.min.js and spoor/dist/*.min.js resolve to the script-tag files',
      );
    } catch (error) {
      console.log(String(error.stderr ?? error));
      check(false, 'Node imports and requires it, and init() is inert there');
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log(
    `${failures.length === 0 ? 'package checks passed' : `${failures.length} package check(s) failed`}`,
  );
  if (failures.length > 0) process.exit(1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
