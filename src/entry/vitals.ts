// spoor.vitals.min.js: registers web-vitals reporting for the script-tag build (see lazy.ts).

import { startVitals } from '../observe/vitals';
import { VITALS_GLOBAL } from './lazy';

(window as unknown as Record<string, unknown>)[VITALS_GLOBAL] = startVitals;
