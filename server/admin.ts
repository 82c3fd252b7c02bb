// The admin command: projects as data. `npm run admin -- project add --name Shop --origin https://shop.example`
// creates a project and prints its public key and API token once (the store keeps only the token's
// hash); the other commands list, rotate, re-point and delete projects. It opens the same database file
// as the collector (SPOOR_DATA), which may be running: SQLite's WAL lets both work on it, and the
// collector reads projects from the database on every request, so changes apply at once.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { hashPassword } from './crypto/password.js';
import { openFlameupStore } from './relay/queue.js';
import { DEFAULT_FLAMEUP_URL } from './relay/relay.js';
import { openConfiguredStore } from './store/open.js';
import type { Project, Store } from './store/store.js';

const USAGE = `Usage: npm run admin -- <command> [options]

  project add --name NAME [--origin ORIGIN ...]   create a project; prints its key and API token once
  project list                                    every project, its origins and sessions
  project rotate-token PROJECT                    a new API token (printed once); the old one stops working
  project set-origins PROJECT --origin ORIGIN ... allowed origins (--origin '*' for any; --self for none
                                                   but the collector's own)
  project set-flameup-key PROJECT --key-stdin [--url URL] | --none
                                                  the key the relay forwards named events with
  project delete PROJECT --yes                    the project and everything recorded for it
  hash-password                                   reads a password on stdin, prints SPOOR_ADMIN_PASSWORD_HASH

PROJECT is a project's public key (pk_...) or its id. The database is SPOOR_DATA's (default .spoor).`;

class UsageError extends Error {}

/** An origin as browsers send it: scheme, host and port, nothing else. */
function checkOrigin(raw: string): string {
  if (raw === '*') return raw;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`not an origin: ${raw} (e.g. https://shop.example.com)`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== raw.replace(/\/+$/, '')) {
    throw new UsageError(`not an http(s) origin without a path: ${raw}`);
  }
  return url.origin;
}

async function findProject(store: Store, ref: string | undefined): Promise<Project> {
  if (!ref) throw new UsageError('name the project: its public key (pk_...) or its id');
  const project = /^\d+$/.test(ref) ? await store.projectById(Number(ref)) : await store.projectByKey(ref);
  if (!project) throw new UsageError(`no project ${ref} (see: npm run admin -- project list)`);
  return project;
}

function newToken(): string {
  return randomBytes(32).toString('hex');
}

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8').trim();
  } catch {
    return '';
  }
}

export async function runAdmin(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      origin: { type: 'string', multiple: true },
      self: { type: 'boolean' },
      'key-stdin': { type: 'boolean' },
      url: { type: 'string' },
      none: { type: 'boolean' },
      yes: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [group, command, ref] = positionals;
  if (values.help || !group) {
    out(USAGE);
    return;
  }
  if (group === 'hash-password') {
    const password = readStdin();
    if (password.length < 12) throw new UsageError('give a password of at least 12 characters on stdin');
    out(`SPOOR_ADMIN_PASSWORD_HASH='${await hashPassword(password)}'`);
    return;
  }
  if (group !== 'project' || !command) throw new UsageError(USAGE);

  const config = loadConfig(env);
  const store = await openConfiguredStore(config);
  try {
    const flameup = await openFlameupStore(store.engine);
    switch (command) {
      case 'add': {
        const name = values.name?.trim();
        if (!name) throw new UsageError('project add needs --name');
        const origins = (values.origin ?? []).map(checkOrigin);
        const token = newToken();
        const project = await store.ensureProject({
          publicKey: `pk_${randomBytes(12).toString('hex')}`,
          apiToken: token,
          name,
          allowedOrigins: origins.length > 0 ? origins : null,
        });
        out(`Created project ${project.id} "${project.name}"`);
        out(`Public key: ${project.public_key}`);
        out(`API token: ${token}`);
        out('The API token is shown only now: the collector keeps its hash. Store it in a secret manager.');
        return;
      }
      case 'list': {
        const sessions = await store.sessionCounts();
        for (const p of await store.projects()) {
          const origins = p.allowed_origins ? p.allowed_origins.join(' ') : '(its own origin only)';
          const demo = p.public_key === config.projectKey ? ' (demo, from the environment)' : '';
          const relay = (await flameup.setting(p.id)) ? 'Flameup key set' : 'no Flameup key';
          out(
            `${p.id}\t${p.public_key}\t${p.name}${demo}\t${origins}\t${sessions.get(p.id) ?? 0} sessions\t${relay}`,
          );
        }
        return;
      }
      case 'rotate-token': {
        const project = await findProject(store, ref);
        if (project.public_key === config.projectKey) {
          throw new UsageError(
            'the demo project takes its token from SPOOR_API_TOKEN or secrets.json at every start: change it there',
          );
        }
        const token = newToken();
        await store.setProjectToken(project.id, token);
        out(`API token: ${token}`);
        out('The old token and the dashboard sign-ins made with it no longer work.');
        return;
      }
      case 'set-origins': {
        const project = await findProject(store, ref);
        const origins = (values.origin ?? []).map(checkOrigin);
        if (origins.length === 0 && !values.self) {
          throw new UsageError("give --origin ORIGIN (repeatable, '*' for any) or --self");
        }
        await store.setProjectOrigins(project.id, origins.length > 0 ? origins : null);
        out(
          `Allowed origins of ${project.public_key}: ${origins.length > 0 ? origins.join(' ') : '(its own origin only)'}`,
        );
        return;
      }
      case 'set-flameup-key': {
        const project = await findProject(store, ref);
        if (values.none) {
          await flameup.configure(project.id, null, Date.now());
          out(`Flameup relay off for ${project.public_key}.`);
          return;
        }
        // From stdin, so the key stays out of the shell's history and the process list.
        const key = values['key-stdin'] ? readStdin() : '';
        if (!key) throw new UsageError('give the key on stdin with --key-stdin, or --none');
        const url = values.url ? checkUrl(values.url) : DEFAULT_FLAMEUP_URL;
        await flameup.configure(project.id, { apiKey: key, url, events: null }, Date.now());
        out(
          `Flameup key set for ${project.public_key} (sent to ${url}); it is stored in the database file, mode 0600.`,
        );
        return;
      }
      case 'delete': {
        const project = await findProject(store, ref);
        if (!values.yes)
          throw new UsageError(`this deletes ${project.public_key} and all its recordings: add --yes`);
        const sessionIds = await store.sessionIdsOf(project.id);
        // The relay's rows go in the same transaction as the project's.
        const { flameup: forwarded = 0, ...counts } = await store.deleteProject(project.id, () =>
          flameup.forgetProjectProgram(project.id, sessionIds),
        );
        const rows = Object.entries(counts)
          .map(([table, n]) => `${table} ${n}`)
          .join(', ');
        out(`Deleted project ${project.public_key}: ${rows}, flameup rows ${forwarded}.`);
        if (project.public_key === config.projectKey) {
          out('It is the demo project: the collector makes it again from the environment at its next start.');
        }
        return;
      }
      default:
        throw new UsageError(USAGE);
    }
  } finally {
    // The store's checkpointer thread does not keep a process alive: without a timer of its own this
    // process would end inside close(), before an error could be printed.
    let keepAlive: NodeJS.Timeout | undefined;
    await Promise.race([
      store.close(),
      new Promise((resolve) => {
        keepAlive = setTimeout(resolve, 5000);
      }),
    ]);
    clearTimeout(keepAlive);
  }
}

function checkUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url.href;
  } catch {
    // refused below
  }
  throw new UsageError(`not an http(s) URL: ${raw}`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  runAdmin(process.argv.slice(2), process.env, (line) => console.log(line)).catch((error: unknown) => {
    // One line, no stack: these are the operator's mistakes, not the program's.
    console.error(error instanceof UsageError ? error.message : `admin: ${String(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  });
}
