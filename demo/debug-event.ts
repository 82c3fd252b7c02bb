// The snippet's debug events as the QA panel reads them: the public types of the npm entry, so that the
// panel breaks at compile time when the snippet's debug hooks change.
import type { DebugEvent } from '../src/index';

export type { DebugEvent };
export type DebugListener = (event: DebugEvent) => void;
export type Unsubscribe = () => void;
