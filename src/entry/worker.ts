// spoor.worker.min.js: the compressor's worker, for pages that serve the snippet from their own origin
// (a strict `script-src 'self'` allows it; compressor.ts).
import { workerMain } from '../deliver/compressor';

workerMain();
