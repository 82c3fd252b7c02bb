// The overview's hand-drawn charts (demo/dashboard/chart.ts): geometry from the numbers, a nice value
// axis, bars as shares, and the numbers as text for screen readers.
import { describe, expect, it } from 'vitest';
import { barList, columnChart, niceMax } from '../../demo/dashboard/chart';

describe('niceMax', () => {
  it('tops the axis at four gridlines of a whole step of 1, 2 or 5 times a power of ten', () => {
    expect(niceMax(0)).toBe(4);
    expect(niceMax(2)).toBe(4);
    expect(niceMax(7)).toBe(8);
    expect(niceMax(37)).toBe(40);
    expect(niceMax(41)).toBe(80);
    expect(niceMax(1234)).toBe(2000);
  });
});

describe('columnChart', () => {
  const points = [
    { label: '2026-12-01', value: 4, part: 1 },
    { label: '2026-12-02', value: 0, part: 0 },
    { label: '2026-12-03', value: 8, part: 8 },
  ];

  it('draws one column per day, heights in proportion, the part over its column', () => {
    const figure = columnChart(points, {
      title: 'Sessions per day',
      valueName: 'sessions',
      partName: 'frustrated',
      width: 400,
      height: 200,
    });
    const bars = [...figure.querySelectorAll('rect.bar:not(.part)')];
    expect(bars.map((b) => b.getAttribute('data-value'))).toEqual(['4', '0', '8']);
    const height = (b: Element) => Number(b.getAttribute('height'));
    expect(height(bars[2] as Element)).toBeCloseTo(2 * height(bars[0] as Element));
    expect(height(bars[1] as Element)).toBe(0);
    const parts = [...figure.querySelectorAll('rect.bar.part')];
    // Day 2 has no part; day 3's part is its whole column.
    expect(parts).toHaveLength(2);
    expect(height(parts[1] as Element)).toBeCloseTo(height(bars[2] as Element));
  });

  it('is named for a screen reader and carries its numbers as a table', () => {
    const figure = columnChart(points, {
      title: 'Sessions per day',
      valueName: 'sessions',
      partName: 'frustrated',
    });
    const svg = figure.querySelector('svg');
    expect(svg?.getAttribute('role')).toBe('img');
    expect(svg?.getAttribute('aria-label')).toBe('Sessions per day: 3 days, 12 sessions in all');
    const rows = [...figure.querySelectorAll('tbody tr')].map((tr) => tr.textContent);
    expect(rows).toEqual(['2026-12-0141', '2026-12-0200', '2026-12-0388']);
    expect(figure.innerHTML).not.toMatch(/style=/);
  });
});

describe('barList', () => {
  it('lists items in order with bars as shares of the largest, widths set without a style attribute', () => {
    const list = barList(
      [
        { label: 'shop.test/', value: 10 },
        { label: 'shop.test/cart', value: 5, href: '#/?url=x' },
      ],
      { empty: 'none', label: 'Top pages' },
    );
    const fills = [...list.querySelectorAll<HTMLElement>('.bar-fill')];
    expect(fills.map((f) => f.style.width)).toEqual(['100%', '50%']);
    expect(list.querySelector('a')?.getAttribute('href')).toBe('#/?url=x');
    expect(list.getAttribute('aria-label')).toBe('Top pages');
  });

  it('says so when there is nothing to list', () => {
    expect(barList([], { empty: 'No visit in this range.', label: 'x' }).textContent).toBe(
      'No visit in this range.',
    );
  });
});
