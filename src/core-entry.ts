// spoor.core.min.js: registers the core for the script-tag bootstrap (see lazy.ts and bootstrap.ts).
import { CORE_GLOBAL } from './lazy';
import { createTracker } from './tracker';

(window as unknown as Record<string, unknown>)[CORE_GLOBAL] = createTracker;
