// spoor.recorder.min.js: registers the recorder for the script-tag build (see lazy.ts).
import { RECORDER_GLOBAL } from './lazy';
import { startRecorder } from './recorder';

(window as unknown as Record<string, unknown>)[RECORDER_GLOBAL] = startRecorder;
