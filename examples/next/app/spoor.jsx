'use client';
// A client component, so it also runs on the server while the page is rendered there: init() answers
// with a tracker that does nothing where there is no page, and starts Spoor once in the browser.
import { init } from 'spoor';

export const tracker = init({
  endpoint: process.env.NEXT_PUBLIC_SPOOR_ENDPOINT,
  project: process.env.NEXT_PUBLIC_SPOOR_PROJECT,
  // Automated browsers are not tracked unless asked: only the end-to-end test sets this.
  allowAutomation: process.env.NEXT_PUBLIC_SPOOR_ALLOW_AUTOMATION === 'true',
});

/** Rendered once by the root layout, so that this module is part of every page. */
export default function Spoor() {
  return null;
}

export function LikeButton({ id }) {
  return (
    <button type="button" onClick={() => tracker.track('item-liked', { id })}>
      Like
    </button>
  );
}
