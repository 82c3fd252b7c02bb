// The collector's configuration: environment variables over defaults that are generated once and
// saved in the data folder, so a restart keeps the same app key, project key and API token.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BodyLimits } from './body.js';
import { generateKey, parseKey } from './crypto.js';
import { DEFAULT_FLAMEUP_URL } from './flameup.js';

export interface Config {
  /** 0 picks a free port. */
  port: number;
  dataDir: string;
  dbFile: string;
  /** Laravel-format app key (`base64:...`) and its bytes. */
  appKey: string;
  key: Buffer;
  /** The demo project's public key and API token. */
  projectKey: string;
  apiToken: string;
  /** null: the collector's own origin only. `*` in the list allows any origin. */
  allowedOrigins: string[] | null;
  /** Requests per minute per client IP on /track and (separately) on /session. */
  trackLimit: number;
  /** Requests per minute per token on the read endpoints. */
  readLimit: number;
  testFaults: boolean;
  /** Honour X-Forwarded-For / X-Forwarded-Proto (only behind a proxy you run). */
  trustProxy: boolean;
  /** A trusted proxy's country header, e.g. CF-IPCountry; null: country stays null. */
  countryHeader: string | null;
  limits: BodyLimits;
  /** The repository root: `dist/` and `demo/` are served from here. */
  rootDir: string;
  /** The demo project's Flameup API key (SPOOR_FLAMEUP_API_KEY); null: no relay for it. */
  flameupApiKey: string | null;
  /** Flameup's track URL (SPOOR_FLAMEUP_URL). */
  flameupUrl: string;
}

interface Saved {
  appKey: string;
  projectKey: string;
  apiToken: string;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

function loadSaved(file: string): Saved {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Saved;
  const saved: Saved = {
    appKey: generateKey(32),
    projectKey: `pk_${randomBytes(12).toString('hex')}`,
    apiToken: randomBytes(32).toString('hex'),
  };
  mkdirSync(dirname(file), { recursive: true });
  // Secrets: readable by the owner only.
  writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  return saved;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, rootDir: string = REPO_ROOT): Config {
  const dataDir = resolve(env.SPOOR_DATA || '.spoor');
  const saved = loadSaved(join(dataDir, 'secrets.json'));
  const appKey = env.SPOOR_APP_KEY || saved.appKey;
  const key = parseKey(appKey);
  if (key.length !== 16 && key.length !== 32) {
    throw new Error('SPOOR_APP_KEY must be 16 or 32 bytes (Laravel format: base64:...)');
  }
  const origins = (env.SPOOR_ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  return {
    port: intEnv(env, 'PORT', 8787),
    dataDir,
    dbFile: join(dataDir, 'spoor.sqlite'),
    appKey,
    key,
    projectKey: env.SPOOR_PROJECT_KEY || saved.projectKey,
    apiToken: env.SPOOR_API_TOKEN || saved.apiToken,
    allowedOrigins: origins.length > 0 ? origins : null,
    trackLimit: intEnv(env, 'SPOOR_TRACK_LIMIT', 3600),
    readLimit: intEnv(env, 'SPOOR_READ_LIMIT', 60),
    testFaults: env.SPOOR_TEST_FAULTS === '1',
    trustProxy: env.SPOOR_TRUST_PROXY === '1',
    countryHeader: env.SPOOR_COUNTRY_HEADER ? env.SPOOR_COUNTRY_HEADER.toLowerCase() : null,
    limits: {
      maxBytes: intEnv(env, 'SPOOR_MAX_BODY_BYTES', 5 * 1024 * 1024),
      maxDecompressedBytes: intEnv(env, 'SPOOR_MAX_DECOMPRESSED_BYTES', 20 * 1024 * 1024),
      maxDepth: intEnv(env, 'SPOOR_MAX_JSON_DEPTH', 512),
    },
    rootDir,
    flameupApiKey: env.SPOOR_FLAMEUP_API_KEY || null,
    flameupUrl: env.SPOOR_FLAMEUP_URL || DEFAULT_FLAMEUP_URL,
  };
}
