// The snippet's debug events as the QA panel reads them (interfaces.md, "Debug hooks"). Kept here as a
// structural copy so that the demo depends on the snippet's public behaviour only, not on src/ files.

export type DebugEvent =
  | { kind: 'state'; at: number; tracking: boolean; recording: boolean; reason?: string }
  | { kind: 'session'; at: number; sessionIdentifier: string; tab?: number; minted: boolean }
  | {
      kind: 'batch';
      at: number;
      id: number;
      phase: 'sent' | 'answered';
      events: number;
      rawBytes: number;
      sentBytes: number;
      compressed: boolean;
      transport: 'fetch' | 'keepalive' | 'beacon';
      status?: number;
      rateLimit?: { limit: number; remaining: number };
      retryAfter?: number;
      error?: string;
    }
  | { kind: 'queue'; at: number; events: number; bytes: number }
  | { kind: 'outbox'; at: number; batches: number; bytes: number }
  | { kind: 'drop'; at: number; reason: string; count: number; detail?: string }
  | { kind: 'timer'; at: number; seconds: number };

export type DebugListener = (event: DebugEvent) => void;
export type Unsubscribe = () => void;
