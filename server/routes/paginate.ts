// Laravel's LengthAwarePaginator as JSON (toArray), including its `links` window (UrlWindow with
// onEachSide = 3) and the `&laquo; Previous` / `Next &raquo;` labels of Laravel's en pagination lang
// (docs/contract.md, "List sessions").
import type { PageLink, Paginator } from '../../src/wire.js';

const ON_EACH_SIDE = 3;

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/** Laravel's UrlWindow: the page numbers shown, with null for each `...` separator. */
export function pageWindow(current: number, last: number): (number | null)[] {
  const window = ON_EACH_SIDE + 4;
  if (last < ON_EACH_SIDE * 2 + 8) return range(1, last);
  if (current <= window) return [...range(1, window + ON_EACH_SIDE), null, ...range(last - 1, last)];
  if (current > last - window)
    return [...range(1, 2), null, ...range(last - (window + (ON_EACH_SIDE - 1)), last)];
  return [
    ...range(1, 2),
    null,
    ...range(current - ON_EACH_SIDE, current + ON_EACH_SIDE),
    null,
    ...range(last - 1, last),
  ];
}

/** The page asked for in the query string (Laravel: anything not an integer >= 1 is page 1). */
export function requestedPage(url: URL): number {
  const raw = url.searchParams.get('page');
  const n = raw !== null && /^\d+$/.test(raw) ? Number(raw) : 1;
  return n >= 1 && Number.isSafeInteger(n) ? n : 1;
}

export function paginate<T>(
  rows: T[],
  total: number,
  page: number,
  perPage: number,
  path: string,
): Paginator<T> {
  const last = Math.max(1, Math.ceil(total / perPage));
  const url = (p: number) => `${path}?page=${p}`;
  const from = rows.length > 0 ? (page - 1) * perPage + 1 : null;
  const prev = page > 1 ? url(page - 1) : null;
  const next = page < last ? url(page + 1) : null;
  const links: PageLink[] = [
    { url: prev, label: '&laquo; Previous', page: page > 1 ? page - 1 : null, active: false },
    ...pageWindow(page, last).map((p) =>
      p === null
        ? { url: null, label: '...', page: null, active: false }
        : { url: url(p), label: String(p), page: p, active: p === page },
    ),
    { url: next, label: 'Next &raquo;', page: page < last ? page + 1 : null, active: false },
  ];
  return {
    current_page: page,
    data: rows,
    first_page_url: url(1),
    from,
    last_page: last,
    last_page_url: url(last),
    links,
    next_page_url: next,
    path,
    per_page: perPage,
    prev_page_url: prev,
    to: from === null ? null : from + rows.length - 1,
    total,
  };
}
