// Where the Flameup mirror keeps its events: an outbox namespace of its own per Flameup URL. It lives in
// the core, not in the lazily loaded spoor.flameup.min.js, so that withdrawing consent forgets the kept
// events without loading that file, and so that the mirror uses the core's one copy of the outbox (its
// page-wide memory backend and locks) instead of a second one bundled into its own file.

import { createOutbox, type Outbox } from '../deliver/outbox';

/** Flameup's public track endpoint, the default of the `flameup.url` option. */
export const FLAMEUP_URL = 'https://api.flameup.ai/api/v1/track';

/** The outbox of the events mirrored to this Flameup URL. */
export function flameupOutbox(url: string, maxBytes: number, onDrop: (count: number) => void): Outbox {
  return createOutbox({ namespace: `flameup:${url}`, maxBytes, onDrop });
}

/** Forgets every event kept for this Flameup URL (consent withdrawn). Never rejects. */
export async function forgetFlameup(url: string): Promise<void> {
  try {
    const outbox = flameupOutbox(url, Number.POSITIVE_INFINITY, () => {});
    for (const kept of await outbox.list()) await outbox.remove(kept.id);
  } catch {
    // storage that throws holds nothing we could remove
  }
}
