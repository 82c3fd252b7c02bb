import { describe, expect, it } from 'vitest';
import { browserOptOut, type PrivacySignals, sampleSession } from '../../src/state/privacy';

const defaults = { respectGlobalPrivacyControl: true, respectDoNotTrack: false, allowAutomation: false };
const human: PrivacySignals = { doNotTrack: null, webdriver: false };

describe('browserOptOut', () => {
  it('lets an ordinary browser be tracked', () => {
    expect(browserOptOut(defaults, human)).toBeNull();
  });

  it('opts out a browser driven by automation unless allowAutomation is on', () => {
    expect(browserOptOut(defaults, { ...human, webdriver: true })).toBe('automation');
    expect(browserOptOut({ ...defaults, allowAutomation: true }, { ...human, webdriver: true })).toBeNull();
  });

  it('opts out a browser sending Global Privacy Control, by default, and not when told to ignore it', () => {
    const gpc = { ...human, globalPrivacyControl: true };
    expect(browserOptOut(defaults, gpc)).toBe('global-privacy-control');
    expect(browserOptOut({ ...defaults, respectGlobalPrivacyControl: false }, gpc)).toBeNull();
  });

  it('respects Do Not Track only when respectDoNotTrack is on', () => {
    expect(browserOptOut(defaults, { ...human, doNotTrack: '1' })).toBeNull();
    expect(browserOptOut({ ...defaults, respectDoNotTrack: true }, { ...human, doNotTrack: '1' })).toBe(
      'do-not-track',
    );
    expect(browserOptOut({ ...defaults, respectDoNotTrack: true }, { ...human, doNotTrack: 'yes' })).toBe(
      'do-not-track',
    );
    expect(browserOptOut({ ...defaults, respectDoNotTrack: true }, { ...human, doNotTrack: '0' })).toBeNull();
  });

  it('names automation first, then Do Not Track, then Global Privacy Control (which stops only recording)', () => {
    const all = { doNotTrack: '1', webdriver: true, globalPrivacyControl: true };
    const respectAll = { ...defaults, respectDoNotTrack: true };
    expect(browserOptOut(respectAll, all)).toBe('automation');
    expect(browserOptOut({ ...respectAll, allowAutomation: true }, all)).toBe('do-not-track');
    expect(browserOptOut({ ...respectAll, allowAutomation: true, respectDoNotTrack: false }, all)).toBe(
      'global-privacy-control',
    );
  });
});

describe('sampleSession', () => {
  it('keeps the stored decision whatever the rate and the draw', () => {
    const never = () => {
      throw new Error('must not draw');
    };
    expect(sampleSession(0, true, never)).toBe(true);
    expect(sampleSession(1, false, never)).toBe(false);
  });

  it('draws a new decision against the rate when none is stored', () => {
    expect(sampleSession(0.25, undefined, () => 0.24)).toBe(true);
    expect(sampleSession(0.25, undefined, () => 0.25)).toBe(false);
  });

  it('clamps the rate to 0..1 and treats a rate that is not a number as 1', () => {
    expect(sampleSession(1, undefined, () => 0.999999)).toBe(true);
    expect(sampleSession(5, undefined, () => 0.999999)).toBe(true);
    expect(sampleSession(0, undefined, () => 0)).toBe(false);
    expect(sampleSession(-1, undefined, () => 0)).toBe(false);
    expect(sampleSession(Number.NaN, undefined, () => 0.5)).toBe(true);
  });

  it('uses Math.random when no random function is given', () => {
    expect(sampleSession(1, undefined)).toBe(true);
    expect(sampleSession(0, undefined)).toBe(false);
  });
});
