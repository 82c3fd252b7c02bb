// The import rules (.dependency-cruiser.cjs, ARCHITECTURE.md "What may import what") fail the lint on
// a forbidden import. Each test writes a small tree with the repository's layout (src/, server/, demo/,
// e2e/) into a temporary folder and runs depcruise on it with the repository's config, exactly as
// `npm run lint` does, then reads the rule names from its report.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const config = join(repo, '.dependency-cruiser.cjs');
const depcruise = join(repo, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
/** What `npm run lint` checks. */
const FOLDERS = ['src', 'server', 'demo', 'e2e'];

type Tree = Record<string, string>;

/** A miniature of the real layout in which every import is one the rules allow, including the ones they
 *  allow narrowly: the recorder starting the signals it ships with, a dynamic import of the tracker from the npm entry, a type-only import of the wire
 *  shapes and the backoff rules from the collector, delivery naming a stored key, the Flameup mirror
 *  reusing the backoff rules and reading an option's type, a worker module reaching a request type. */
const allowed: Tree = {
  'src/wire.ts': 'export type WireEvent = { type: number };\n',
  'src/types.ts':
    "import type { WireEvent } from './wire';\nexport type Enqueue = (event: WireEvent) => void;\n",
  'src/lib/bytes.ts': 'export const byteLength = (text: string): number => text.length;\n',
  'src/api.ts':
    "import type { Enqueue } from './types';\nexport interface Tracker { stop(): void; enqueue: Enqueue }\n",
  'src/config.ts': 'export interface Options { flameup?: boolean }\n',
  'src/state/keys.ts': "export const SHARED_KEY = 'spoor';\n",
  'src/deliver/backoff.ts': 'export const classify = (status: number): boolean => status < 500;\n',
  'src/deliver/queue.ts':
    "import { byteLength } from '../lib/bytes';\nimport { SHARED_KEY } from '../state/keys';\n" +
    'export const size = (text: string): number => byteLength(text) + SHARED_KEY.length;\n',
  'src/observe/named-events.ts':
    "import { byteLength } from '../lib/bytes';\nimport type { Enqueue } from '../types';\n" +
    "export const track = (enqueue: Enqueue): number => byteLength('x') + enqueue.length;\n",
  'src/observe/signals/shared.ts':
    "import type { Enqueue } from '../../types';\nexport type Emit = Enqueue;\n",
  'src/observe/signals/signals.ts':
    "import type { Emit } from './shared';\nexport const startSignals = (emit: Emit) => emit;\n",
  'src/observe/recorder.ts':
    "import { record } from '@rrweb/record';\nimport { startSignals } from './signals/signals';\n" +
    'export const startRecorder = () => [record, startSignals];\n',
  'src/flameup/flameup.ts':
    "import type { Options } from '../config';\nimport { classify } from '../deliver/backoff';\n" +
    'export const startFlameup = (options: Options): boolean => classify(200) && !!options;\n',
  'src/tracker.ts':
    "import type { Tracker } from './api';\nimport { size } from './deliver/queue';\n" +
    "import { track } from './observe/named-events';\n" +
    'export const createTracker = (): Tracker => ({ stop: () => size(String(track)), enqueue: () => {} });\n',
  'src/entry/bootstrap.ts':
    "import type { Tracker } from '../api';\nimport { SHARED_KEY } from '../state/keys';\n" +
    'export const boot = (load: () => Promise<() => Tracker>) => load().then((create) => [create(), SHARED_KEY]);\n',
  'src/entry/core.ts': "import { createTracker } from '../tracker';\nexport const core = createTracker;\n",
  'src/index.ts':
    "import { boot } from './entry/bootstrap';\nexport type { Tracker } from './api';\n" +
    "export const init = () => boot(() => import('./tracker').then((module) => module.createTracker));\n",
  'server/http/body.ts':
    "import type { IncomingMessage } from 'node:http';\nexport const readBody = (request: IncomingMessage) => request.url;\n",
  'server/ingest/check.ts': "import { readBody } from '../http/body.js';\nexport const check = readBody;\n",
  'server/store/store.ts':
    "import Database from 'better-sqlite3';\nexport const open = () => new Database(':memory:');\n",
  'server/routes/context.ts':
    "import type { WireEvent } from '../../src/wire.js';\nexport type Deps = { events: WireEvent[] };\n",
  'server/routes/session-view.ts': 'export const sessionView = (id: string) => ({ id });\n',
  'server/routes/get-events.ts':
    "import type { Deps } from './context.js';\nimport { sessionView } from './session-view.js';\n" +
    "import { classify } from '../../src/deliver/backoff.js';\n" +
    "export const route = (deps: Deps) => [deps, sessionView('s'), classify(200)];\n",
  'demo/debug-event.ts': "import type { Tracker } from '../src/index';\nexport type Hook = Tracker;\n",
  'e2e/store.ts': "import type { WireEvent } from '../src/wire';\nexport type Stored = WireEvent[];\n",
};

/** One forbidden import each (its file added to, or replacing one of, the allowed tree), with the rule
 *  that must report it and the edge it must name. */
const forbidden: { rule: string; from: string; to: string; files: Tree }[] = [
  {
    rule: 'observe-imports-only-shared',
    from: 'src/observe/goals.ts',
    to: 'src/deliver/queue.ts',
    files: {
      'src/observe/goals.ts': "import { size } from '../deliver/queue';\nexport const goals = size;\n",
    },
  },
  {
    rule: 'observe-imports-only-shared',
    from: 'src/observe/vitals.ts',
    to: 'src/observe/signals/signals.ts',
    files: {
      'src/observe/vitals.ts':
        "import { startSignals } from './signals/signals';\nexport const startVitals = startSignals;\n",
    },
  },
  {
    rule: 'signals-belong-to-the-recorder',
    from: 'src/observe/signals/errors.ts',
    to: 'src/deliver/queue.ts',
    files: {
      'src/observe/signals/errors.ts':
        "import { size } from '../../deliver/queue';\nexport const startErrors = size;\n",
    },
  },
  {
    rule: 'deliver-knows-no-producers',
    from: 'src/deliver/transport.ts',
    to: 'src/observe/named-events.ts',
    files: {
      'src/deliver/transport.ts':
        "import { track } from '../observe/named-events';\nexport const send = track;\n",
    },
  },
  {
    rule: 'rrweb-only-in-the-recorder',
    from: 'src/deliver/compress.ts',
    to: 'node_modules/@rrweb/record/',
    files: {
      'src/deliver/compress.ts': "import { record } from '@rrweb/record';\nexport const gzip = record;\n",
    },
  },
  {
    rule: 'lib-is-a-leaf',
    from: 'src/lib/random.ts',
    to: 'src/state/keys.ts',
    files: {
      'src/lib/random.ts':
        "import { SHARED_KEY } from '../state/keys';\nexport const randomId = () => SHARED_KEY;\n",
    },
  },
  {
    rule: 'backoff-is-pure',
    from: 'src/deliver/backoff.ts',
    to: 'src/lib/bytes.ts',
    files: {
      'src/deliver/backoff.ts':
        "import { byteLength } from '../lib/bytes';\nexport const classify = (status: number): boolean => status < byteLength('xxx');\n",
    },
  },
  {
    rule: 'flameup-shares-only-backoff-and-outbox',
    from: 'src/flameup/outbox.ts',
    to: 'src/deliver/queue.ts',
    files: {
      'src/flameup/outbox.ts':
        "import { size } from '../deliver/queue';\nexport const flameupOutbox = size;\n",
    },
  },
  {
    rule: 'api-types-only',
    from: 'src/api.ts',
    to: 'src/lib/bytes.ts',
    files: {
      'src/api.ts':
        "import { byteLength } from './lib/bytes';\nexport interface Tracker { stop(): void }\nexport const measure = byteLength;\n",
    },
  },
  {
    rule: 'nothing-imports-the-entries',
    from: 'src/tracker.ts',
    to: 'src/entry/bootstrap.ts',
    files: {
      'src/tracker.ts':
        "import type { Tracker } from './api';\nimport type { boot } from './entry/bootstrap';\n" +
        'export const createTracker = (): Tracker & { boot?: typeof boot } => ({ stop: () => {} });\n',
    },
  },
  {
    rule: 'first-file-loads-heavy-parts-lazily',
    from: 'src/entry/script.ts',
    to: 'src/tracker.ts',
    files: {
      'src/entry/script.ts':
        "import { createTracker } from '../tracker';\nexport const start = createTracker;\n",
    },
  },
  {
    rule: 'first-file-static-imports',
    from: 'src/entry/page.ts',
    to: 'src/deliver/queue.ts',
    files: {
      'src/entry/page.ts': "import { size } from '../deliver/queue';\nexport const onePerPage = size;\n",
    },
  },
  {
    rule: 'script-file-entries-register-one-part',
    from: 'src/entry/vitals.ts',
    to: 'src/deliver/queue.ts',
    files: {
      'src/entry/vitals.ts': "import { size } from '../deliver/queue';\nexport const vitals = size;\n",
    },
  },
  {
    rule: 'src-no-node-builtins',
    from: 'src/lib/clock.ts',
    to: 'perf_hooks',
    files: {
      'src/lib/clock.ts':
        "import { performance } from 'node:perf_hooks';\nexport const now = performance.now;\n",
    },
  },
  {
    rule: 'src-not-to-other-parts',
    from: 'src/lib/body.ts',
    to: 'server/http/body.ts',
    files: {
      'src/lib/body.ts':
        "import { readBody } from '../../server/http/body.js';\nexport const body = readBody;\n",
    },
  },
  {
    rule: 'server-imports-only-backoff-and-wire',
    from: 'server/routes/sessions.ts',
    to: 'src/deliver/queue.ts',
    files: {
      'server/routes/sessions.ts':
        "import { size } from '../../src/deliver/queue.js';\nexport const sessions = size;\n",
    },
  },
  {
    rule: 'server-wire-type-only',
    from: 'server/routes/mint-session.ts',
    to: 'src/wire.ts',
    files: {
      'server/routes/mint-session.ts':
        "import { WireEvent } from '../../src/wire.js';\nexport const mint = (event: WireEvent) => event;\n",
    },
  },
  {
    rule: 'routes-do-not-import-routes',
    from: 'server/routes/related.ts',
    to: 'server/routes/get-events.ts',
    files: {
      'server/routes/related.ts': "import { route } from './get-events.js';\nexport const related = route;\n",
    },
  },
  {
    rule: 'worker-modules-are-pure',
    from: 'server/read/page.ts',
    to: 'server/store/store.ts',
    // Through a module that is itself allowed to read the store: reachability, not only direct imports.
    files: {
      'server/read/rows.ts': "import { open } from '../store/store.js';\nexport const rows = open;\n",
      'server/read/page.ts': "import { rows } from './rows.js';\nexport const page = rows;\n",
    },
  },
  {
    rule: 'sockets-only-in-http-server',
    from: 'server/relay/send.ts',
    to: 'https',
    files: {
      'server/relay/send.ts': "import { request } from 'node:https';\nexport const send = request;\n",
    },
  },
  {
    rule: 'database-only-in-store-and-relay',
    from: 'server/routes/sql.ts',
    to: 'node_modules/better-sqlite3/',
    files: {
      'server/routes/sql.ts':
        "import Database from 'better-sqlite3';\nexport const db = () => new Database(':memory:');\n",
    },
  },
  {
    rule: 'postgres-only-in-store',
    from: 'server/routes/pg.ts',
    to: 'node_modules/pg/',
    files: {
      'server/routes/pg.ts': "import pg from 'pg';\nexport const pool = () => new pg.Pool();\n",
    },
  },
  {
    rule: 'redis-only-in-rate-limit',
    from: 'server/routes/cache.ts',
    to: 'node_modules/ioredis/',
    files: {
      'server/routes/cache.ts': "import { Redis } from 'ioredis';\nexport const cache = () => new Redis();\n",
    },
  },
  {
    rule: 'demo-imports-public-api-only',
    from: 'demo/qa/state.ts',
    to: 'src/tracker.ts',
    files: {
      'demo/qa/state.ts':
        "import type { createTracker } from '../../src/tracker';\nexport type Core = typeof createTracker;\n",
    },
  },
  {
    rule: 'e2e-imports-only-wire',
    from: 'e2e/fixtures.ts',
    to: 'src/index.ts',
    files: { 'e2e/fixtures.ts': "import { init } from '../src/index';\nexport const start = init;\n" },
  },
  {
    rule: 'no-circular',
    from: 'src/state/session.ts',
    to: 'src/state/storage.ts',
    // Types only, as the bootstrap and the tracker were: a cycle of types is still one part in two files.
    files: {
      'src/state/session.ts':
        "import type { Store } from './storage';\nexport type Session = { store?: Store };\n",
      'src/state/storage.ts':
        "import type { Session } from './session';\nexport type Store = { session?: Session };\n",
    },
  },
];

interface Violation {
  rule: string;
  from: string;
  to: string;
}

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function writeTree(files: Tree): string {
  const root = mkdtempSync(join(tmpdir(), 'spoor-import-rules-'));
  roots.push(root);
  // The packages the fixtures import (@rrweb/record, better-sqlite3) resolve from the repository's.
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** Runs the lint's depcruise step in `root`; the violations as its report names them. */
function lint(root: string): { status: number | null; output: string; violations: Violation[] } {
  const run = spawnSync(process.execPath, [depcruise, '--config', config, ...FOLDERS], {
    cwd: root,
    encoding: 'utf8',
  });
  const output = `${run.stdout}${run.stderr}`;
  // "  error <rule>: <from> → <to>", a cycle's path continuing on the next lines.
  const violations = [...output.matchAll(/^\s*error ([\w-]+): (\S+) →\s+(\S+)/gm)].map(
    ([, rule, from, to]) => ({
      rule: rule as string,
      from: from as string,
      to: to as string,
    }),
  );
  return { status: run.status, output, violations };
}

describe('the import rules', () => {
  it('pass the allowed tree, with its lazy, type-only and shared imports', () => {
    const result = lint(writeTree(allowed));
    expect(result.violations).toEqual([]);
    expect(result.output).toContain('no dependency violations found');
    expect(result.status).toBe(0);
  });

  it('fail the lint on a producer that imports delivery, naming the rule and the import', () => {
    const result = lint(
      writeTree({
        ...allowed,
        'src/observe/named-events.ts':
          "import { size } from '../deliver/queue';\nexport const track = size;\n",
      }),
    );
    expect(result.status).not.toBe(0);
    expect(result.violations).toEqual([
      {
        rule: 'observe-imports-only-shared',
        from: 'src/observe/named-events.ts',
        to: 'src/deliver/queue.ts',
      },
    ]);
  });

  it('report every forbidden import by the rule written for it, and nothing else', () => {
    const tree = { ...allowed };
    for (const { files } of forbidden) Object.assign(tree, files);
    const result = lint(writeTree(tree));
    expect(result.status).not.toBe(0);
    for (const expected of forbidden) {
      const found = result.violations.filter((v) => v.rule === expected.rule && v.from === expected.from);
      expect(
        found.map((v) => v.to).some((to) => to.includes(expected.to)),
        `${expected.rule}\n${result.output}`,
      ).toBe(true);
    }
    // Nothing beyond them: the pure worker may be reported once per module it reaches, no other rule fires.
    const expected = new Set(forbidden.map((f) => `${f.rule} ${f.from}`));
    for (const v of result.violations)
      expect(expected, `${v.rule}: ${v.from} → ${v.to}`).toContain(`${v.rule} ${v.from}`);
  });

  it('pass the real tree', () => {
    const result = lint(repo);
    expect(result.violations, result.output).toEqual([]);
    expect(result.status).toBe(0);
  });
});
