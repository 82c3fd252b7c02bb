// spoor.flameup.min.js: registers the Flameup direct mode for the script-tag core (see lazy.ts).
import { startFlameup } from '../flameup/flameup';
import { FLAMEUP_GLOBAL } from './lazy';

(window as unknown as Record<string, unknown>)[FLAMEUP_GLOBAL] = startFlameup;
