// rage_click: three or more clicks within a second on the same spot (docs/contract.md, "Events").
// A double-click is two, and clicks a few pixels apart on one control still count as one spot.

import type { Stop } from '../../types';
import { type Emit, selectorOf } from './shared';

/** Clicks it takes, the window they fall in (ms), and how far apart still counts as one spot (px). */
export const RAGE_CLICKS = 3;
export const RAGE_WINDOW_MS = 1000;
export const RAGE_RADIUS_PX = 30;

export function startRageClicks(doc: Document, emit: Emit, now: () => number = Date.now): Stop {
  let burst: { x: number; y: number; times: number[]; reported: boolean } | null = null;
  const onClick = (event: MouseEvent): void => {
    const t = now();
    const { clientX: x, clientY: y } = event;
    const near = burst && Math.hypot(x - burst.x, y - burst.y) <= RAGE_RADIUS_PX;
    if (!burst || !near) burst = { x, y, times: [], reported: false };
    burst.times = burst.times.filter((at) => t - at < RAGE_WINDOW_MS);
    burst.times.push(t);
    // One report per burst: the clicks that follow it in the same second belong to it.
    if (!burst.reported && burst.times.length >= RAGE_CLICKS) {
      burst.reported = true;
      const target = event.target instanceof Element ? event.target : null;
      emit('rage_click', {
        selector: selectorOf(target),
        x: Math.round(x),
        y: Math.round(y),
        clicks: burst.times.length,
      });
    } else if (burst.reported && burst.times.length === 1) {
      burst.reported = false;
    }
  };
  doc.addEventListener('click', onClick, true);
  return () => doc.removeEventListener('click', onClick, true);
}
