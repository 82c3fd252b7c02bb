// spoor.core.min.js: registers the core for the script-tag bootstrap (see lazy.ts and bootstrap.ts).

import { createTracker } from '../tracker';
import { CORE_GLOBAL } from './lazy';

(window as unknown as Record<string, unknown>)[CORE_GLOBAL] = createTracker;
