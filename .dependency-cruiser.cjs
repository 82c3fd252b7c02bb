// The import rules of ARCHITECTURE.md ("What may import what"), checked by `npm run lint`
// (`depcruise src server demo e2e`, after Biome). A violation prints the rule's name; its comment says
// why. Paths are relative to the repository root. Most rules say, for one folder, what its modules may
// import: so each forbidden import is reported once, by the rule of the folder it is made in.
// "At runtime" means other than `import type`: type-only imports vanish from the bundles, so some
// rules allow them, but cycles count them too. test/ is not checked: tests may import anything.

/** The modules the first file (spoor.min.js, and the npm entry's own chunk) is made of: the entries
 *  and the bootstrap. They may import statically only FIRST_FILE_DEPS, whose own rules keep them within
 *  the same set, and load LAZY_PARTS only by dynamic import() (or as separate script files). */
const FIRST_FILE = '^src/(index\\.ts|entry/(script|bootstrap|page|lazy)\\.ts)$';
const FIRST_FILE_DEPS = [
  '^src/(types|wire|config|api)\\.ts$',
  '^src/lib/',
  '^src/state/',
  '^src/entry/(bootstrap|page|lazy)\\.ts$',
];
const LAZY_PARTS = '^src/(tracker\\.ts$|observe/(recorder|vitals)\\.ts$|flameup/)';

/** The modules every snippet module may import: shared types, the contract's shapes, small helpers. */
const SHARED = '^src/((types|wire)\\.ts$|lib/)';

/** Node modules that hold a socket (listening or connecting). */
const SOCKETS = '^(node:)?(http|https|http2|net|tls|dgram)$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // ---- everywhere
    {
      name: 'no-circular',
      comment:
        'A cycle, even of types only, means two modules are one part split in two files: move what both need where both can import it.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment:
        "An import that resolves to no file and no package. The demo's ES-module page imports the built snippet by its URL (/dist/...), which the demo server answers.",
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, pathNot: '^/dist/' },
    },

    // ---- the snippet as a whole
    {
      name: 'src-not-to-other-parts',
      comment:
        "The snippet is built on its own into dist/ and runs in the visitor's browser: it imports nothing of the collector, the demo, the tests or the tooling.",
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(server|demo|e2e|test|bench|scripts|examples)/' },
    },
    {
      name: 'src-no-node-builtins',
      comment: 'The snippet runs in browsers (and is imported by server-side rendering): no Node built-ins.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'src-packages',
      comment:
        "The snippet's only packages are @rrweb/record and web-vitals, each bundled into its own lazily loaded file.",
      severity: 'error',
      from: { path: '^src/' },
      to: { path: 'node_modules/', pathNot: 'node_modules/(@rrweb/record|web-vitals)/' },
    },
    {
      name: 'rrweb-only-in-the-recorder',
      comment: 'Only src/observe/recorder.ts knows rrweb, so that rrweb stays in spoor.recorder.min.js.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/observe/recorder\\.ts$' },
      to: { path: 'node_modules/@rrweb/' },
    },
    {
      name: 'web-vitals-only-in-vitals',
      comment: 'Only src/observe/vitals.ts knows web-vitals, so that it stays in spoor.vitals.min.js.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/observe/vitals\\.ts$' },
      to: { path: 'node_modules/web-vitals/' },
    },

    // ---- the leaves: shared types, the contract's shapes, the bootstrap/core seam, options, helpers
    {
      name: 'types-import-only-wire',
      comment:
        "src/types.ts (the events and callbacks every module shares) imports nothing but the contract's shapes.",
      severity: 'error',
      from: { path: '^src/types\\.ts$' },
      to: { pathNot: '^src/wire\\.ts$' },
    },
    {
      name: 'wire-imports-nothing',
      comment:
        "src/wire.ts (the contract's shapes) imports nothing, so that server/, demo/ and e2e/ can import it without any of the snippet.",
      severity: 'error',
      from: { path: '^src/wire\\.ts$' },
      to: {},
    },
    {
      name: 'api-types-only',
      comment:
        'src/api.ts (the Tracker interface and the seam between the bootstrap and the core) is types only, so that importing it costs the first file nothing.',
      severity: 'error',
      from: { path: '^src/api\\.ts$' },
      to: { dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'config-imports-only-shared',
      comment:
        'src/config.ts (the options and their defaults) is part of the first file: at runtime it imports only types and lib/.',
      severity: 'error',
      from: { path: '^src/config\\.ts$' },
      to: { path: '^src/', pathNot: SHARED, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'lib-is-a-leaf',
      comment:
        'src/lib/ holds small helpers shared by every part: they import nothing of the snippet but types and each other.',
      severity: 'error',
      from: { path: '^src/lib/' },
      to: { path: '^src/', pathNot: SHARED },
    },

    // ---- the parts; only src/tracker.ts (and an entry, one part each) imports more than one of them
    {
      name: 'observe-imports-only-shared',
      comment:
        'Producers (src/observe/) receive `enqueue` as an argument: they import only types, lib/ and their own package; never delivery, state, the Flameup mirror, the tracker, an entry or each other.',
      severity: 'error',
      from: { path: '^src/observe/', pathNot: '^src/observe/(recorder\\.ts$|signals/)' },
      to: { path: '^src/', pathNot: SHARED },
    },
    {
      name: 'signals-belong-to-the-recorder',
      comment:
        'The frustration and failure signals (src/observe/signals/) emit into the recording and ship in its lazily loaded file: the recorder starts them, and they import only types, lib/ and each other.',
      severity: 'error',
      from: { path: '^src/observe/(recorder\\.ts$|signals/)' },
      to: { path: '^src/', pathNot: [SHARED, '^src/observe/signals/'] },
    },
    {
      name: 'state-imports-only-shared-and-state',
      comment: 'Stored state (src/state/) is part of the first file: it imports only types, lib/ and state/.',
      severity: 'error',
      from: { path: '^src/state/' },
      to: { path: '^src/', pathNot: [SHARED, '^src/state/'] },
    },
    {
      name: 'deliver-knows-no-producers',
      comment:
        'Delivery (src/deliver/) knows nothing of producers, rrweb or web-vitals: it imports only types, lib/, deliver/ and the names of stored keys (state/keys.ts, so that forgetting everything finds the outbox).',
      severity: 'error',
      from: { path: '^src/deliver/' },
      to: { path: '^src/', pathNot: [SHARED, '^src/deliver/', '^src/state/keys\\.ts$'] },
    },
    {
      name: 'backoff-is-pure',
      comment:
        "src/deliver/backoff.ts is shared with the collector's Flameup relay: it imports nothing, so the collector gets no more of the snippet than this file.",
      severity: 'error',
      from: { path: '^src/deliver/backoff\\.ts$' },
      to: {},
    },
    {
      name: 'flameup-shares-only-backoff-and-outbox',
      comment:
        "The Flameup mirror (src/flameup/) has its own queue: of /track's delivery it shares only the backoff rules and the outbox; it reads its option's type from config.ts.",
      severity: 'error',
      from: { path: '^src/flameup/' },
      to: {
        path: '^src/',
        pathNot: [SHARED, '^src/flameup/', '^src/deliver/(backoff|outbox)\\.ts$', '^src/config\\.ts$'],
      },
    },
    {
      name: 'flameup-config-type-only',
      comment: 'The Flameup mirror may read the option types of config.ts, not its code.',
      severity: 'error',
      from: { path: '^src/flameup/' },
      to: { path: '^src/config\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'nothing-imports-the-entries',
      comment:
        'The entries (src/index.ts, src/entry/) are where the builds start: the core and the leaves never import them (the folder rules keep the parts from them). The types both sides need live in src/api.ts.',
      severity: 'error',
      from: { path: '^src/(tracker|config|api)\\.ts$' },
      to: { path: '^src/(index\\.ts$|entry/)' },
    },

    // ---- the entries; the first file stays small
    {
      name: 'first-file-loads-heavy-parts-lazily',
      comment:
        'The first file (src/index.ts; src/entry/script.ts with the bootstrap) loads the tracker, the recorder, web-vitals and the Flameup mirror only by dynamic import() or as separate script files, so that a page that is not tracked pays for none of them.',
      severity: 'error',
      from: { path: FIRST_FILE },
      to: { path: LAZY_PARTS, dependencyTypesNot: ['dynamic-import', 'type-only'] },
    },
    {
      name: 'first-file-static-imports',
      comment:
        "The first file's modules import statically only types, wire, config, api, lib/, state/ and the bootstrap's entry modules; the rules of those keep them within the same set.",
      severity: 'error',
      from: { path: FIRST_FILE },
      to: {
        path: '^src/',
        pathNot: [...FIRST_FILE_DEPS, LAZY_PARTS],
        dependencyTypesNot: ['dynamic-import', 'type-only'],
      },
    },
    {
      name: 'script-file-entries-register-one-part',
      comment:
        'Each lazily loaded script-tag file (src/entry/core|recorder|vitals|flameup.ts) registers its one part on its global: it imports that part and entry/lazy.ts.',
      severity: 'error',
      from: { path: '^src/entry/(core|recorder|vitals|flameup)\\.ts$' },
      to: {
        path: '^src/',
        pathNot: '^src/(entry/lazy\\.ts|tracker\\.ts|observe/(recorder|vitals)\\.ts|flameup/flameup\\.ts)$',
      },
    },

    // ---- the collector
    {
      name: 'server-imports-only-backoff-and-wire',
      comment:
        "The collector shares with the snippet only the pure backoff rules (the Flameup relay retries as the snippet does) and the contract's shapes.",
      severity: 'error',
      from: { path: '^server/' },
      to: { path: '^src/', pathNot: '^src/(deliver/backoff|wire)\\.ts$' },
    },
    {
      name: 'server-wire-type-only',
      comment: 'src/wire.ts holds types: the collector imports it with `import type`.',
      severity: 'error',
      from: { path: '^server/' },
      to: { path: '^src/wire\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'server-not-to-demo-or-tests',
      comment: 'The collector runs alone in production: nothing of the demo, e2e, the tests or the tooling.',
      severity: 'error',
      from: { path: '^server/' },
      to: { path: '^(demo|e2e|test|bench|scripts|examples)/' },
    },
    {
      name: 'routes-do-not-import-routes',
      comment:
        'Each route stands alone; what routes share is in routes/context.ts (the request context), routes/paginate.ts and routes/session-view.ts (a session row as the read endpoints show it).',
      severity: 'error',
      from: { path: '^server/routes/' },
      to: { path: '^server/routes/', pathNot: '^server/routes/(context|paginate|session-view)\\.ts$' },
    },
    {
      name: 'database-only-in-store-and-relay',
      comment:
        "Only server/store/ (and the Flameup relay's queue in server/relay/, inside the store's transactions) touches SQLite.",
      severity: 'error',
      from: { path: '^server/', pathNot: '^server/(store|relay)/' },
      to: { path: 'node_modules/better-sqlite3/' },
    },
    {
      name: 'postgres-only-in-store',
      comment:
        'Only server/store/ connects to PostgreSQL (node-postgres): everything else, the relay included, runs programs on the engine the store hands it.',
      severity: 'error',
      from: { path: '^server/', pathNot: '^server/store/' },
      to: { path: 'node_modules/pg/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'redis-only-in-rate-limit',
      comment:
        'Redis holds the shared rate limits and nothing else: only server/http/rate-limit.ts talks to it (ioredis, rate-limiter-flexible).',
      severity: 'error',
      from: { path: '^server/', pathNot: '^server/http/rate-limit\\.ts$' },
      to: { path: 'node_modules/(ioredis|rate-limiter-flexible)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'relay-uses-the-store-database',
      comment: "The relay writes through the store's open database and opens none itself (its types only).",
      severity: 'error',
      from: { path: '^server/relay/' },
      to: { path: 'node_modules/better-sqlite3/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'sockets-only-in-http-server',
      comment:
        'Only server/http/server.ts makes the HTTP server; other modules take requests and sockets as arguments (their types only).',
      severity: 'error',
      from: { path: '^server/', pathNot: '^server/http/server\\.ts$' },
      to: { path: SOCKETS, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'worker-modules-are-pure',
      comment:
        "The worker threads' modules (ingest/check.ts, read/page.ts) parse, check and serialise only: they reach no database, socket, route, worker pool or the app, directly or through what they import. node:http is left to sockets-only-in-http-server, which keeps it in server/http/server.ts (forbidden here): reachability cannot tell the request type that server/http/body.ts imports from code.",
      severity: 'error',
      from: { path: '^server/(ingest/check|read/page)\\.ts$' },
      to: {
        reachable: true,
        path: [
          'node_modules/(better-sqlite3|piscina)/',
          '^(node:)?(https|http2|net|tls|dgram|worker_threads|child_process)$',
          '^server/(store|relay|routes)/',
          '^server/(app|main)\\.ts$',
          '^server/http/server\\.ts$',
          '^server/(ingest|read)/pool\\.ts$',
          '^server/lib/worker-pool\\.ts$',
        ],
      },
    },

    // ---- the demo and the e2e harness
    {
      name: 'demo-imports-public-api-only',
      comment:
        "The demo uses the snippet as a site would, through its public API (src/index.ts), and the contract's shapes (src/wire.ts).",
      severity: 'error',
      from: { path: '^demo/' },
      to: { path: '^src/', pathNot: '^src/(index|wire)\\.ts$' },
    },
    {
      name: 'demo-talks-http-to-the-collector',
      comment: 'The demo talks to the collector over HTTP only.',
      severity: 'error',
      from: { path: '^demo/' },
      to: { path: '^server/' },
    },
    {
      name: 'e2e-imports-only-wire',
      comment:
        "The e2e harness drives the built snippet in a browser: of src/ it imports only the contract's shapes.",
      severity: 'error',
      from: { path: '^e2e/' },
      to: { path: '^src/', pathNot: '^src/wire\\.ts$' },
    },
  ],
  options: {
    // Type-only imports count (a cycle of types is a cycle) and are told apart as `type-only`.
    tsPreCompilationDeps: true,
    // server/ imports its TypeScript files by their `.js` names (NodeNext); dependency-cruiser maps
    // those to the `.ts` files by itself.
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.mjs', '.js', '.d.ts'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
