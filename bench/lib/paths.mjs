import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = dirname(dirname(fileURLToPath(import.meta.url)));
export const rootDir = dirname(benchDir);
export const distDir = join(rootDir, 'dist');
export const resultsDir = join(benchDir, 'results');

/** A file path under bench/results/ (git-ignored); its folder is created on first use. */
export function resultsFile(...parts) {
  const path = join(resultsDir, ...parts);
  mkdirSync(dirname(path), { recursive: true });
  return path;
}

/** A folder under bench/results/, created on first use. */
export function resultsFolder(...parts) {
  const path = join(resultsDir, ...parts);
  mkdirSync(path, { recursive: true });
  return path;
}
