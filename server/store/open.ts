// Opens the store the configuration names: PostgreSQL when SPOOR_DATABASE_URL is set, else the
// SQLite file in the data folder (ARCHITECTURE.md, "Store engines").
import type { Config } from '../config.js';
import { openPostgresStore } from './postgres.js';
import { openStore } from './sqlite.js';
import type { Store } from './store.js';

export function openConfiguredStore(
  config: Config,
  options: { logError?: (message: string, error: unknown) => void } = {},
): Promise<Store> {
  if (config.databaseUrl) {
    return openPostgresStore(config.databaseUrl, { ...options, poolSize: config.databasePoolSize });
  }
  return Promise.resolve(openStore(config.dbFile, options));
}
