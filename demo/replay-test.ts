// A bare replayer for the end-to-end tests: `window.replayToEnd(events)` rebuilds a stored recording
// with rrweb's Replayer at scale 1 and stops at its last event, so that the test can measure it.
import { Replayer } from '@rrweb/replay';
import type { eventWithTime } from '@rrweb/types';

declare global {
  interface Window {
    replayToEnd(events: unknown[]): Promise<{ width: number; height: number; totalTime: number }>;
  }
}

window.replayToEnd = async (events) => {
  const stage = document.getElementById('stage');
  if (!stage) throw new Error('no #stage');
  stage.replaceChildren();
  const replayer = new Replayer(events as eventWithTime[], {
    root: stage,
    mouseTail: false,
    showWarning: false,
    showDebug: false,
    triggerFocus: false,
  });
  const { totalTime } = replayer.getMetaData();
  // pause(offset) applies every event up to the offset at once instead of playing them in time.
  replayer.pause(totalTime);
  const iframe = replayer.iframe;
  const doc = iframe.contentDocument;
  // Inlined stylesheets and images settle after the rebuild; wait for them before anyone measures.
  if (doc) {
    await Promise.all(
      [...doc.images].map((img) =>
        img.complete
          ? undefined
          : new Promise((resolve) => img.addEventListener('load', resolve, { once: true })),
      ),
    );
    await doc.fonts?.ready;
  }
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return { width: iframe.clientWidth, height: iframe.clientHeight, totalTime };
};
