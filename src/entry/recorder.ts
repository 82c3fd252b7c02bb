// spoor.recorder.min.js: registers the recorder for the script-tag build (see lazy.ts).

import { startRecorder } from '../observe/recorder';
import { RECORDER_GLOBAL } from './lazy';

(window as unknown as Record<string, unknown>)[RECORDER_GLOBAL] = startRecorder;
