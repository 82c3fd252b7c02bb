// spoor.compress.min.js: registers the compressor for the script-tag core (see lazy.ts).
import { startCompressor } from '../deliver/compressor';
import { COMPRESS_GLOBAL } from './lazy';

(window as unknown as Record<string, unknown>)[COMPRESS_GLOBAL] = startCompressor;
