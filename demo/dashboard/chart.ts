// The overview's charts, drawn as SVG by hand: a column chart of a series over days, and bar lists
// (a label, a number and a bar of its share). No library and no inline style attribute: SVG geometry
// is attributes, and bar widths are set through the CSSOM, which the dashboard's CSP allows. Every
// chart carries its numbers as text too (a table or a list), for screen readers and for copying.
import { h } from '../dom';

const SVG = 'http://www.w3.org/2000/svg';

export interface Point {
  /** The x label, e.g. `2026-12-01`. */
  label: string;
  value: number;
  /** A part of `value` drawn over it (e.g. sessions with frustration). */
  part?: number;
}

function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return el;
}

/** The value axis's top: four gridlines at a round step (1, 2 or 5 times a power of ten, at least 1:
 *  the charts count sessions), so that every gridline is a whole, round number. */
export function niceMax(max: number): number {
  const raw = Math.max(0, max) / 4;
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  return 4 * step;
}

export interface ColumnChartOptions {
  /** Names the chart for a screen reader (the SVG's <title> and the table's caption). */
  title: string;
  valueName: string;
  partName?: string;
  /** Drawing units; the SVG scales to its box (viewBox). */
  width?: number;
  height?: number;
}

/**
 * A column per point, the part drawn over the bottom of its column, with a value axis rounded up to a
 * nice number. Returns a figure holding the SVG (role img, named) and a visually hidden table of the
 * same numbers.
 */
export function columnChart(points: Point[], opts: ColumnChartOptions): HTMLElement {
  const width = opts.width ?? 640;
  const height = opts.height ?? 200;
  const pad = { top: 8, right: 8, bottom: 22, left: 32 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const top = niceMax(Math.max(0, ...points.map((p) => p.value)));
  const y = (v: number) => pad.top + innerH - (v / top) * innerH;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': `${opts.title}: ${points.length} days, ${points.reduce((n, p) => n + p.value, 0)} ${opts.valueName} in all`,
    class: 'chart',
    preserveAspectRatio: 'none',
  });
  const title = svg('title', {});
  title.textContent = opts.title;
  chart.append(title);
  for (let i = 0; i <= 4; i++) {
    const v = (top / 4) * i;
    chart.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: 'grid' }));
    const label = svg('text', { x: pad.left - 4, y: y(v) + 3, class: 'axis', 'text-anchor': 'end' });
    label.textContent = String(Math.round(v * 10) / 10);
    chart.append(label);
  }
  const slot = points.length > 0 ? innerW / points.length : innerW;
  const barW = Math.max(1, Math.min(40, slot * 0.7));
  // Label every nth day so that labels never overlap (about 56 units each).
  const every = Math.max(1, Math.ceil(points.length / Math.max(1, Math.floor(innerW / 56))));
  points.forEach((point, i) => {
    const x = pad.left + slot * i + (slot - barW) / 2;
    const column = svg('rect', {
      x,
      y: y(point.value),
      width: barW,
      height: Math.max(0, pad.top + innerH - y(point.value)),
      class: 'bar',
      'data-label': point.label,
      'data-value': point.value,
    });
    const tip = svg('title', {});
    tip.textContent = `${point.label}: ${point.value} ${opts.valueName}${
      opts.partName && point.part !== undefined ? `, ${point.part} ${opts.partName}` : ''
    }`;
    column.append(tip);
    chart.append(column);
    if (point.part !== undefined && point.part > 0) {
      chart.append(
        svg('rect', {
          x,
          y: y(point.part),
          width: barW,
          height: Math.max(0, pad.top + innerH - y(point.part)),
          class: 'bar part',
        }),
      );
    }
    if (i % every === 0) {
      const label = svg('text', { x: x + barW / 2, y: height - 6, class: 'axis', 'text-anchor': 'middle' });
      label.textContent = point.label.slice(5);
      chart.append(label);
    }
  });
  const table = h('table', { class: 'visually-hidden' }, [
    h('caption', {}, [opts.title]),
    h('thead', {}, [
      h('tr', {}, [
        h('th', { scope: 'col' }, ['Day']),
        h('th', { scope: 'col' }, [opts.valueName]),
        opts.partName ? h('th', { scope: 'col' }, [opts.partName]) : null,
      ]),
    ]),
    h(
      'tbody',
      {},
      points.map((p) =>
        h('tr', {}, [
          h('th', { scope: 'row' }, [p.label]),
          h('td', {}, [String(p.value)]),
          opts.partName ? h('td', {}, [String(p.part ?? 0)]) : null,
        ]),
      ),
    ),
  ]);
  return h('figure', { class: 'chart-figure' }, [chart as unknown as HTMLElement, table]);
}

export interface BarItem {
  label: string;
  value: number;
  /** What the number says, e.g. `12 sessions` or `33.3 %`; defaults to the value. */
  display?: string;
  /** Full text for the label's title (a long URL). */
  title?: string;
  /** A link the label leads to (e.g. the list filtered to it). */
  href?: string;
}

/**
 * A ranked list: each item's label, its number and a bar whose length is its share of the largest
 * (or of `max`). An ordered list, so that a screen reader reads rank, label and number.
 */
export function barList(items: BarItem[], opts: { empty: string; max?: number; label: string }): HTMLElement {
  if (items.length === 0) return h('p', { class: 'muted' }, [opts.empty]);
  const max = opts.max ?? Math.max(1, ...items.map((i) => i.value));
  return h(
    'ol',
    { class: 'bar-list', 'aria-label': opts.label },
    items.map((item) => {
      const bar = h('span', { class: 'bar-fill', 'aria-hidden': 'true' });
      // CSSOM, not a style attribute: allowed by the CSP's style-src 'self'.
      bar.style.width = `${Math.max(0, Math.min(100, (item.value / max) * 100))}%`;
      const label = item.href
        ? h('a', { href: item.href, class: 'bar-label', title: item.title ?? item.label }, [item.label])
        : h('span', { class: 'bar-label', title: item.title ?? item.label }, [item.label]);
      return h('li', { class: 'bar-item', 'data-value': String(item.value) }, [
        h('span', { class: 'bar-track' }, [bar]),
        label,
        h('span', { class: 'bar-value' }, [item.display ?? String(item.value)]),
      ]);
    }),
  );
}
