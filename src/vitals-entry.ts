// spoor.vitals.min.js: registers web-vitals reporting for the script-tag build (see lazy.ts).
import { VITALS_GLOBAL } from './lazy';
import { startVitals } from './vitals';

(window as unknown as Record<string, unknown>)[VITALS_GLOBAL] = startVitals;
