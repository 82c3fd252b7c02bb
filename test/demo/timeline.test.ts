// The session timeline (demo/dashboard/timeline.ts): a marker for each visit, named event, conversion
// and signal, named for a screen reader, placed by time, and one tab stop moved by the arrow keys.
import { describe, expect, it, vi } from 'vitest';
import { createTimeline, markerOfEvent } from '../../demo/dashboard/timeline';

const custom = (tag: string, payload: unknown, timestamp: number) => ({
  type: 5,
  data: { tag, payload },
  timestamp,
});

describe('markerOfEvent', () => {
  it('names each signal and conversion by what happened, and leaves other events out', () => {
    expect(markerOfEvent(custom('rage_click', { selector: 'button#pay' }, 10), 1)).toEqual({
      kind: 'rage',
      tab: 1,
      at: 10,
      label: 'Rage click on button#pay',
    });
    expect(markerOfEvent(custom('dead_click', { selector: 'a#x' }, 11), 2)?.label).toBe('Dead click on a#x');
    expect(markerOfEvent(custom('error', { message: 'boom' }, 12), 1)?.label).toBe('Error: boom');
    expect(
      markerOfEvent(
        custom('request_failed', { method: 'GET', url: 'https://s.test/api?q=1', status: 0 }, 13),
        1,
      )?.label,
    ).toBe('Failed request: GET s.test/api (network error)');
    expect(markerOfEvent(custom('conversion', { goal: 'buy' }, 14), 1)?.label).toBe('Conversion: buy');
    expect(markerOfEvent(custom('visit', { url: 'https://s.test/' }, 15), 1)).toBeNull();
    expect(markerOfEvent({ type: 3, data: { source: 2 }, timestamp: 16 }, 1)).toBeNull();
    expect(markerOfEvent(custom('error', 'not an object', 17), 1)?.label).toBe('Error: unknown');
  });
});

describe('createTimeline', () => {
  const visits = [{ id: 1, tab: 1, url: 'https://s.test/qa', started_at: 1000 }];
  const named = [
    { id: 1, tab: 1, visit_id: 1, name: 'signup', parameters: {}, timestamp: 3000, created_at: '' },
  ];

  it('places markers by time and seeks the replay to a marker when it is clicked', () => {
    const seek = vi.fn();
    const timeline = createTimeline(visits, named, seek);
    document.body.append(timeline.element);
    timeline.addEvents(1, [
      { type: 2, data: {}, timestamp: 1000 },
      custom('rage_click', { selector: 'b' }, 2000),
      { type: 3, data: {}, timestamp: 5000 },
    ]);
    const markers = [...timeline.element.querySelectorAll<HTMLButtonElement>('.marker-track .marker')];
    expect(markers.map((m) => [m.dataset.kind, m.style.left])).toEqual([
      ['visit', '0%'],
      ['rage', '25%'],
      ['event', '50%'],
    ]);
    expect(markers[1]?.getAttribute('aria-label')).toBe('Rage click on b at 0:01, tab 1');
    markers[1]?.click();
    expect(seek).toHaveBeenCalledWith(1, 2000);
    timeline.element.remove();
  });

  it('is one tab stop whose arrow keys, Home and End move between markers', () => {
    const timeline = createTimeline(visits, named, vi.fn());
    document.body.append(timeline.element);
    timeline.addEvents(1, [custom('error', { message: 'x' }, 2000)]);
    const track = timeline.element.querySelector('.marker-track') as HTMLElement;
    const buttons = () => [...track.querySelectorAll<HTMLButtonElement>('button')];
    expect(buttons().map((b) => b.tabIndex)).toEqual([0, -1, -1]);
    buttons()[0]?.focus();
    track.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    expect(document.activeElement).toBe(buttons()[1]);
    expect(buttons().map((b) => b.tabIndex)).toEqual([-1, 0, -1]);
    track.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true }));
    expect(document.activeElement).toBe(buttons()[2]);
    track.dispatchEvent(new KeyboardEvent('keydown', { key: 'Home', bubbles: true }));
    expect(document.activeElement).toBe(buttons()[0]);
    timeline.element.remove();
  });

  it('lists the markers as text, with a count per kind', () => {
    const timeline = createTimeline(visits, named, vi.fn());
    const legend = [...timeline.element.querySelectorAll('.legend-item')].map((li) => li.textContent);
    expect(legend).toContain('Visits 1');
    expect(legend).toContain('Named events 1');
    expect(legend).toContain('Rage clicks 0');
    expect(
      [...timeline.element.querySelectorAll('.marker-list .marker-label')].map((l) => l.textContent),
    ).toEqual(['Visit: s.test/qa', 'Event: signup']);
  });
});
