// The collector's configuration: environment variables over defaults that are generated once and
// saved in the data folder, so a restart keeps the same app key, project key and API token.
import { randomBytes, scryptSync } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKey, parseKey } from './crypto/encrypter.js';
import {
  isPasswordHash,
  MAX_PASSWORD_LENGTH,
  PASSWORD_PARAMS,
  passwordHashString,
} from './crypto/password.js';
import type { BodyLimits } from './http/body.js';
import type { HttpOptions } from './http/server.js';
import type { CheckLimits } from './ingest/check.js';
import { DEFAULT_FLAMEUP_URL } from './relay/relay.js';

export interface Config {
  /** 0 picks a free port. */
  port: number;
  /** The address to listen on (SPOOR_HOST): loopback unless a deployment says otherwise. */
  host: string;
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
  /** Honour X-Forwarded-For / X-Forwarded-Proto (only behind a proxy you run). */
  trustProxy: boolean;
  /** A trusted proxy's country header, e.g. CF-IPCountry; null: country stays null. */
  countryHeader: string | null;
  limits: BodyLimits & CheckLimits;
  /** The repository root: `dist/` and `demo/` are served from here. */
  rootDir: string;
  /** The demo project's Flameup API key (SPOOR_FLAMEUP_API_KEY); null: no relay for it. */
  flameupApiKey: string | null;
  /** Flameup's track URL (SPOOR_FLAMEUP_URL). */
  flameupUrl: string;
  /**
   * The collector's public origin (SPOOR_PUBLIC_URL), e.g. https://collector.example.com; null: pages
   * and answers use the request's own Host, and any Host is served.
   */
  publicUrl: URL | null;
  /** Timeouts and the per-IP connection cap of the HTTP server (server/http/server.ts). */
  http: HttpOptions;
  /** The dashboard's admin password as an scrypt hash (server/crypto/password.ts); null: none set. */
  adminPasswordHash: string | null;
  /** How long a dashboard sign-in lasts (SPOOR_SESSION_HOURS, default 12). */
  sessionTtlMs: number;
  /** Sign-in attempts per minute per client IP, and (each) per account (SPOOR_SIGN_IN_LIMIT). */
  signInLimit: number;
  /**
   * Whether the dashboard signs a viewer on this machine in by itself (the demo, `npm start`): set by
   * main.ts only when it listens on loopback and has no public URL elsewhere; never from the environment.
   */
  autoSignIn: boolean;
  /** Sessions older than this many days are erased (SPOOR_RETENTION_DAYS); 0 keeps them forever. */
  retentionDays: number;
  /** pino's level (SPOOR_LOG_LEVEL): trace, debug, info, warn, error, fatal or silent. */
  logLevel: string;
  /** SPOOR_DATABASE_URL: a postgres:// URL puts the store on PostgreSQL; null keeps SQLite at dbFile. */
  databaseUrl: string | null;
  /** SPOOR_DATABASE_POOL_SIZE: connections each instance keeps to PostgreSQL. @default 10 */
  databasePoolSize: number;
  /** SPOOR_REDIS_URL: rate limits shared by every instance through this Redis; null keeps them in process. */
  redisUrl: string | null;
  /** SPOOR_REDIS_PREFIX: the start of every key this deployment keeps in Redis. @default spoor */
  redisPrefix: string;
}

/** A setup mistake, said in one line: main.ts prints its message alone, without a stack. */
export class SetupError extends Error {}

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

/** SPOOR_PUBLIC_URL as an origin (scheme, host, port); a path or anything but http(s) is refused. */
function publicUrlEnv(env: NodeJS.ProcessEnv): URL | null {
  const raw = env.SPOOR_PUBLIC_URL?.trim();
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(
      `SPOOR_PUBLIC_URL must be an absolute URL such as https://collector.example.com, got "${raw}"`,
    );
  }
  const originOnly = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !originOnly) {
    throw new Error(`SPOOR_PUBLIC_URL must be an http(s) origin without a path, got "${raw}"`);
  }
  return new URL(url.origin);
}

/** The data folder, created if needed; a folder the collector cannot write to is a SetupError. */
function writableDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    accessSync(dataDir, constants.W_OK | constants.X_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new SetupError(
      `The data folder ${dataDir} is not writable (${code}): set SPOOR_DATA to a folder this user owns`,
    );
  }
}

/** SPOOR_APP_KEY as Laravel writes it: `base64:` and 16 or 32 bytes (or 16/32 plain characters). */
function appKeyEnv(raw: string | undefined, saved: string): { appKey: string; key: Buffer } {
  if (raw !== undefined && raw.trim() === '' && raw !== '') {
    throw new SetupError('SPOOR_APP_KEY is blank: unset it (a key is generated) or give base64:<32 bytes>');
  }
  const appKey = raw || saved;
  const b64 = appKey.startsWith('base64:') ? appKey.slice(7) : null;
  const wellFormed = b64 === null || /^[A-Za-z0-9+/]+={0,2}$/.test(b64);
  const key = parseKey(appKey);
  if (!wellFormed || (key.length !== 16 && key.length !== 32)) {
    throw new SetupError(
      "SPOOR_APP_KEY must be 16 or 32 bytes in Laravel format (base64:...); make one with: node -e \"console.log('base64:' + require('crypto').randomBytes(32).toString('base64'))\"",
    );
  }
  return { appKey, key };
}

function loadSaved(file: string): Saved {
  if (existsSync(file)) {
    // Readable by the owner only, whatever an older version or the umask left it at.
    chmodSync(file, 0o600);
    return JSON.parse(readFileSync(file, 'utf8')) as Saved;
  }
  const saved: Saved = {
    appKey: generateKey(32),
    projectKey: `pk_${randomBytes(12).toString('hex')}`,
    apiToken: randomBytes(32).toString('hex'),
  };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // Secrets: readable by the owner only. `mode` only applies when the file is created and passes
  // through the umask, so the chmod states the mode outright.
  writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return saved;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, rootDir: string = REPO_ROOT): Config {
  const dataDir = resolve(env.SPOOR_DATA || '.spoor');
  writableDataDir(dataDir);
  const saved = loadSaved(join(dataDir, 'secrets.json'));
  const { appKey, key } = appKeyEnv(env.SPOOR_APP_KEY, saved.appKey);
  const origins = (env.SPOOR_ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  return {
    port: intEnv(env, 'PORT', 8787),
    host: env.SPOOR_HOST?.trim() || '127.0.0.1',
    dataDir,
    dbFile: join(dataDir, 'spoor.sqlite'),
    appKey,
    key,
    projectKey: env.SPOOR_PROJECT_KEY || saved.projectKey,
    apiToken: env.SPOOR_API_TOKEN || saved.apiToken,
    allowedOrigins: origins.length > 0 ? origins : null,
    trackLimit: intEnv(env, 'SPOOR_TRACK_LIMIT', 3600),
    readLimit: intEnv(env, 'SPOOR_READ_LIMIT', 60),
    trustProxy: env.SPOOR_TRUST_PROXY === '1',
    countryHeader: env.SPOOR_COUNTRY_HEADER ? env.SPOOR_COUNTRY_HEADER.toLowerCase() : null,
    // docs/contract.md, "Limits": each is at least ten times what the snippet sends in its largest
    // batch (50 KB of JSON; a full snapshot of a very large page goes alone and may reach megabytes).
    limits: {
      maxBytes: intEnv(env, 'SPOOR_MAX_BODY_BYTES', 8 * 1024 * 1024),
      maxDecompressedBytes: intEnv(env, 'SPOOR_MAX_DECOMPRESSED_BYTES', 8 * 1024 * 1024),
      maxDepth: intEnv(env, 'SPOOR_MAX_JSON_DEPTH', 512),
      maxEvents: intEnv(env, 'SPOOR_MAX_EVENTS', 20_000),
      maxCustomEvents: intEnv(env, 'SPOOR_MAX_CUSTOM_EVENTS', 2_000),
      maxFormBytes: intEnv(env, 'SPOOR_MAX_FORM_BYTES', 64 * 1024),
    },
    rootDir,
    flameupApiKey: env.SPOOR_FLAMEUP_API_KEY || null,
    flameupUrl: env.SPOOR_FLAMEUP_URL || DEFAULT_FLAMEUP_URL,
    publicUrl: publicUrlEnv(env),
    http: httpOptions(env),
    adminPasswordHash: adminPassword(env),
    sessionTtlMs: (intEnv(env, 'SPOOR_SESSION_HOURS', 12) || 12) * 3_600_000,
    signInLimit: intEnv(env, 'SPOOR_SIGN_IN_LIMIT', 10),
    autoSignIn: false,
    retentionDays: intEnv(env, 'SPOOR_RETENTION_DAYS', 90),
    logLevel: env.SPOOR_LOG_LEVEL || 'info',
    databaseUrl: urlEnv(env, 'SPOOR_DATABASE_URL', ['postgres:', 'postgresql:']),
    databasePoolSize: intEnv(env, 'SPOOR_DATABASE_POOL_SIZE', 10) || 10,
    redisUrl: urlEnv(env, 'SPOOR_REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: env.SPOOR_REDIS_PREFIX?.trim() || 'spoor',
  };
}

/** A URL variable of one of these schemes, or null when unset; anything else is a setup mistake. */
function urlEnv(env: NodeJS.ProcessEnv, name: string, schemes: string[]): string | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    // reported below, without the value: it may hold a password
  }
  if (!url || !schemes.includes(url.protocol)) {
    throw new SetupError(`${name} must be a ${schemes.map((s) => `${s}//`).join(' or ')} URL`);
  }
  return raw;
}

/**
 * The admin password's scrypt hash: SPOOR_ADMIN_PASSWORD_HASH as `npm run admin -- hash-password`
 * prints it, or SPOOR_ADMIN_PASSWORD hashed here, once at start (the plain text is not kept).
 */
function adminPassword(env: NodeJS.ProcessEnv): string | null {
  const hash = env.SPOOR_ADMIN_PASSWORD_HASH?.trim();
  if (hash) {
    if (!isPasswordHash(hash)) {
      throw new Error('SPOOR_ADMIN_PASSWORD_HASH must be a hash printed by `npm run admin -- hash-password`');
    }
    return hash;
  }
  const password = env.SPOOR_ADMIN_PASSWORD;
  if (!password) return null;
  if (password.length < 12 || password.length > MAX_PASSWORD_LENGTH) {
    throw new Error(`SPOOR_ADMIN_PASSWORD must be 12 to ${MAX_PASSWORD_LENGTH} characters long`);
  }
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, PASSWORD_PARAMS);
  return passwordHashString(salt, key);
}

function httpOptions(env: NodeJS.ProcessEnv): HttpOptions {
  const http: HttpOptions = {
    headersTimeoutMs: intEnv(env, 'SPOOR_HEADERS_TIMEOUT_MS', 10_000),
    requestTimeoutMs: intEnv(env, 'SPOOR_REQUEST_TIMEOUT_MS', 30_000),
    keepAliveTimeoutMs: intEnv(env, 'SPOOR_KEEP_ALIVE_TIMEOUT_MS', 5_000),
    maxConnectionsPerIp: intEnv(env, 'SPOOR_MAX_CONNECTIONS_PER_IP', 32),
  };
  if (http.headersTimeoutMs <= 0 || http.requestTimeoutMs <= 0) {
    // Node reads 0 as "no timeout": the very stall these limits exist to end.
    throw new Error('SPOOR_HEADERS_TIMEOUT_MS and SPOOR_REQUEST_TIMEOUT_MS must be positive');
  }
  if (http.headersTimeoutMs > http.requestTimeoutMs) {
    throw new Error('SPOOR_HEADERS_TIMEOUT_MS must not exceed SPOOR_REQUEST_TIMEOUT_MS');
  }
  return http;
}
