// Loads the Flameup mirror (spoor.flameup.min.js, or an npm chunk) for the `flameup` option and stands
// in for it while it loads: named events tracked meanwhile are mirrored, in order, once it has; if it
// never loads, they are reported dropped. Only types come from flameup.ts, so the core stays free of it.

import type { FlameupOption } from '../config';
import type { DropReason } from '../types';
import type { Flameup, FlameupOptions } from './flameup';
import { FLAMEUP_URL, flameupOutbox, forgetFlameup } from './outbox';

/** Bytes of events kept for Flameup while undelivered; the oldest are dropped beyond it. */
const FLAMEUP_OUTBOX_BYTES = 1_000_000;

/** What the core hands the mirror as it is (the external id only until the mirror is stopped). */
export type MirrorParts = Required<
  Pick<FlameupOptions, 'getExternalId' | 'report' | 'onDrop' | 'fetch' | 'now' | 'random'>
>;

/** Starts loading the mirror and returns its stand-in at once; undefined (reported) without an apiKey. */
export function loadFlameup(
  option: FlameupOption,
  load: () => Promise<(opts: FlameupOptions) => Flameup>,
  dropped: (reason: DropReason, count: number, detail: string) => void,
  parts: MirrorParts,
): Flameup | undefined {
  const { report, onDrop } = parts;
  if (typeof option.apiKey !== 'string' || option.apiKey === '') {
    report(new Error('spoor: the flameup option needs an apiKey; nothing is mirrored'));
    return undefined;
  }
  // Named events tracked while the mirror loads; mirrored once it has.
  const early: Parameters<Flameup['mirror']>[] = [];
  // The mirror once loaded.
  let loaded: Flameup | undefined;
  // Stopped, or failed to load: events are no longer kept, and a mirror that arrives late never starts.
  let ended = false;
  const url = option.url || FLAMEUP_URL;
  load().then(
    (startFlameup) => {
      if (ended) return;
      // A queue and an outbox namespace of its own, never keepalive: a slow Flameup never holds up /track.
      loaded = startFlameup({
        ...parts,
        apiKey: option.apiKey,
        url,
        events: option.events,
        // Kept with the session by identify(), so a reload or another tab of the session mirrors.
        getExternalId: () => (ended ? undefined : parts.getExternalId()),
        outbox: flameupOutbox(url, FLAMEUP_OUTBOX_BYTES, (count) =>
          onDrop('outbox-full', `flameup: ${count} undelivered events dropped`),
        ),
      });
      for (const event of early.splice(0)) loaded.mirror(...event);
    },
    (error) => {
      report(error);
      ended = true;
      if (early.length > 0) dropped('load-failed', early.length, 'flameup: the mirror did not load');
    },
  );
  return {
    mirror(...event) {
      if (loaded) loaded.mirror(...event);
      else if (!ended) early.push(event);
    },
    wake() {
      loaded?.wake();
    },
    stop() {
      ended = true;
      loaded?.stop();
    },
  };
}

/** Forgets every event kept for the option's Flameup URL (consent withdrawn). Never rejects. */
export function forgetFlameupEvents(option: FlameupOption): Promise<void> {
  return forgetFlameup(option.url || FLAMEUP_URL);
}
