import { expect, it } from 'vitest';
import type { DebugEvent } from '../../src/debug';

it('reads data-* attributes, replays the stub queue in order and answers spoor("debug", listener)', async () => {
  const script = document.createElement('script');
  script.setAttribute('src', 'https://cdn.example/spoor/spoor.min.js');
  script.dataset.endpoint = 'https://c.example/api';
  script.dataset.project = 'pk';
  script.dataset.consent = 'pending'; // nothing leaves the page in this test
  script.dataset.allowAutomation = 'true'; // happy-dom reports navigator.webdriver
  document.head.appendChild(script);
  const calls: unknown[][] = [['track', 'queued before load', { a: 1 }]];
  (window as unknown as { spoor: unknown }).spoor = Object.assign(() => {}, { q: calls });

  await import('../../src/script');

  const spoor = (window as unknown as { spoor: (...args: unknown[]) => unknown }).spoor;
  const seen: DebugEvent[] = [];
  expect(() => spoor('debug', (event: DebugEvent) => seen.push(event))).not.toThrow();
  expect(seen[0]).toMatchObject({ kind: 'state', tracking: false, reason: 'consent-pending' });
  // The queued track call was replayed, and dropped because consent is pending.
  expect(seen).toContainEqual(expect.objectContaining({ kind: 'drop', reason: 'consent-pending', count: 1 }));
  expect(() => spoor('no-such-command')).not.toThrow();
});
