// Batches and namespaces for the outbox's own tests (outbox.test.ts, outbox-indexeddb.test.ts).
import type { OutboxBatch } from '../../src/deliver/outbox';

let namespaceCounter = 0;
/** A fresh namespace per test: the memory fallback is shared by every outbox of a namespace in a page. */
export const freshNamespace = (): string => `test-${++namespaceCounter}`;

/** A batch whose body names its id, unless the test gives one. */
export const batch = (id: string, createdAt: number, bytes = 10, body = `{"id":"${id}"}`): OutboxBatch => ({
  id,
  body,
  createdAt,
  bytes,
});
