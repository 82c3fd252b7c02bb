import { describe, expect, it } from 'vitest';
import { startTimer } from '../../src/observe/timer';

function page() {
  let visible: DocumentVisibilityState = 'visible';
  let focused = true;
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visible });
  document.hasFocus = () => focused;
  let now = 0;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    hide() {
      visible = 'hidden';
      document.dispatchEvent(new Event('visibilitychange'));
    },
    show() {
      visible = 'visible';
      document.dispatchEvent(new Event('visibilitychange'));
    },
    blur() {
      focused = false;
      window.dispatchEvent(new Event('blur'));
    },
    focus() {
      focused = true;
      window.dispatchEvent(new Event('focus'));
    },
  };
}

describe('timer', () => {
  it('counts seconds while the page is visible and focused, with one decimal', () => {
    const p = page();
    const timer = startTimer(window, p.now);
    p.advance(1234);
    expect(timer.seconds()).toBe(1.2);
    timer.stop();
  });

  it('pauses while hidden and resumes when shown again', () => {
    const p = page();
    const timer = startTimer(window, p.now);
    p.advance(2000);
    p.hide();
    p.advance(60_000);
    expect(timer.seconds()).toBe(2);
    p.show();
    p.advance(500);
    expect(timer.seconds()).toBe(2.5);
    timer.stop();
  });

  it('pauses while another window has the focus', () => {
    const p = page();
    const timer = startTimer(window, p.now);
    p.advance(1000);
    p.blur();
    p.advance(10_000);
    p.focus();
    p.advance(1000);
    expect(timer.seconds()).toBe(2);
    timer.stop();
  });

  it('starts from zero at each visit and never decreases within one', () => {
    const p = page();
    const timer = startTimer(window, p.now);
    p.advance(3000);
    expect(timer.seconds()).toBe(3);
    timer.reset();
    expect(timer.seconds()).toBe(0);
    let last = 0;
    for (let i = 0; i < 50; i++) {
      p.advance(37);
      if (i % 7 === 0) p.hide();
      if (i % 7 === 3) p.show();
      const s = timer.seconds();
      expect(s).toBeGreaterThanOrEqual(last);
      last = s;
    }
    timer.stop();
  });

  it('stops listening after stop', () => {
    const p = page();
    const timer = startTimer(window, p.now);
    p.advance(1000);
    timer.stop();
    p.show();
    p.advance(5000);
    expect(timer.seconds()).toBe(1);
  });
});
