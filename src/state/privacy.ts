import type { DropReason } from '../types';

/** The browser signals `browserOptOut` reads; `globalPrivacyControl` is not in TypeScript's DOM lib yet. */
export type PrivacySignals = Pick<Navigator, 'doNotTrack' | 'webdriver'> & { globalPrivacyControl?: boolean };

/**
 * Why this browser must not be tracked at all (or recorded), before consent and sampling.
 * Checked in this order: automation (a bot is not a visitor, whatever it signals), then Do Not Track,
 * then Global Privacy Control: the first two stop all tracking, GPC only the recording, so a
 * browser sending both DNT and GPC must be named for the stronger one. The caller decides what each
 * reason stops.
 */
export function browserOptOut(
  opts: { respectGlobalPrivacyControl: boolean; respectDoNotTrack: boolean; allowAutomation: boolean },
  nav: PrivacySignals,
): DropReason | null {
  if (nav.webdriver === true && !opts.allowAutomation) return 'automation';
  // Firefox before version 32 answered 'yes' instead of '1'.
  if ((nav.doNotTrack === '1' || nav.doNotTrack === 'yes') && opts.respectDoNotTrack) return 'do-not-track';
  if (nav.globalPrivacyControl === true && opts.respectGlobalPrivacyControl) return 'global-privacy-control';
  return null;
}

/**
 * Sampling decided once per session: returns the stored decision or draws and returns a new one.
 * The caller stores the result with the session so that every tab of the session agrees.
 * `rate` is clamped to 0..1; a rate that is not a number counts as the default, 1.
 */
export function sampleSession(
  rate: number,
  stored: boolean | undefined,
  random: () => number = Math.random,
): boolean {
  if (stored !== undefined) return stored;
  const clamped = Number.isNaN(rate) ? 1 : Math.min(1, Math.max(0, rate));
  // random() is in [0, 1): a rate of 1 always keeps the session and a rate of 0 never does.
  return random() < clamped;
}
