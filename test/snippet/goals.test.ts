import { afterEach, beforeEach, describe, expect, it, type Mock, vi } from 'vitest';
import { describeElement, type Goal, startGoals } from '../../src/observe/goals';
import type { WireEvent } from '../../src/types';

let log: string[];
let events: WireEvent[];
let report: Mock<(error: unknown) => void>;
let goals: ReturnType<typeof startGoals> | undefined;

function start(list: Goal[]): ReturnType<typeof startGoals> {
  goals = startGoals({
    goals: list,
    enqueue: (event) => {
      events.push(event);
      log.push('enqueue');
    },
    report,
    onClickConversion: () => log.push('flush'),
  });
  return goals;
}

const payloads = () => events.map((e) => (e.data as { tag: string; payload: unknown }).payload);

function click(el: Element): void {
  el.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));
}

beforeEach(() => {
  document.body.innerHTML = '';
  log = [];
  events = [];
  report = vi.fn<(error: unknown) => void>();
});

afterEach(() => {
  goals?.stop();
  goals = undefined;
});

describe('click goals', () => {
  it('enqueues a conversion for a click on an element matching a goal selector, then asks for a flush', () => {
    document.body.innerHTML = '<button id="buy" class="btn primary">Buy</button>';
    start([{ type: 'click', name: 'buy', selector: '#buy' }]);
    click(document.getElementById('buy') as Element);
    expect(events[0]?.type).toBe(5);
    expect(events[0]?.data).toEqual({
      tag: 'conversion',
      payload: { type: 'click', goal: 'buy', target: 'button#buy.btn.primary' },
    });
    expect(log).toEqual(['enqueue', 'flush']);
  });

  it('counts a click on a child of the goal element', () => {
    document.body.innerHTML = '<a class="cta" href="/signup"><span><b>Sign up</b></span></a>';
    start([{ type: 'click', name: 'signup', selector: 'a.cta' }]);
    click(document.querySelector('b') as Element);
    expect(payloads()).toEqual([{ type: 'click', goal: 'signup', target: 'a.cta[href=/signup]' }]);
  });

  it('counts a goal link that navigates away before the page handles the click, and triggers the flush', () => {
    document.body.innerHTML = '<a id="checkout" href="/checkout">Checkout</a>';
    const link = document.getElementById('checkout') as HTMLAnchorElement;
    link.addEventListener('click', (event) => {
      // A page that navigates by itself and stops the event from bubbling.
      event.preventDefault();
      event.stopPropagation();
      log.push('page navigates');
    });
    start([{ type: 'click', name: 'checkout', selector: '#checkout' }]);
    click(link);
    expect(log).toEqual(['enqueue', 'flush', 'page navigates']);
    expect(payloads()).toEqual([{ type: 'click', goal: 'checkout', target: 'a#checkout[href=/checkout]' }]);
  });

  it('counts markup goals named by data-spoor-goal without any configured goal', () => {
    document.body.innerHTML = '<div data-spoor-goal=" newsletter "><button class="go">Join</button></div>';
    start([]);
    click(document.querySelector('button') as Element);
    expect(payloads()).toEqual([{ type: 'click', goal: 'newsletter', target: 'div' }]);
    expect(log).toEqual(['enqueue', 'flush']);
  });

  it('counts a goal reached by markup and by a selector once, and different goals each once with one flush', () => {
    document.body.innerHTML = '<button id="b" data-spoor-goal="trial">Try</button>';
    start([
      { type: 'click', name: 'trial', selector: '#b' },
      { type: 'click', name: 'any-button', selector: 'button' },
      { type: 'click', name: 'any-button', selector: 'body button' },
    ]);
    click(document.getElementById('b') as Element);
    expect(payloads()).toEqual([
      { type: 'click', goal: 'trial', target: 'button#b' },
      { type: 'click', goal: 'any-button', target: 'button#b' },
    ]);
    expect(log).toEqual(['enqueue', 'enqueue', 'flush']);
  });

  it('ignores clicks that reach no goal and an empty data-spoor-goal', () => {
    document.body.innerHTML = '<p>text</p><span data-spoor-goal="  ">x</span>';
    start([{ type: 'click', name: 'buy', selector: '#buy' }]);
    click(document.querySelector('p') as Element);
    click(document.querySelector('span') as Element);
    expect(log).toEqual([]);
  });

  it('reports a selector that does not parse once at start and still counts the other goals', () => {
    document.body.innerHTML = '<button id="ok">ok</button>';
    start([
      { type: 'click', name: 'broken', selector: 'button[' },
      { type: 'click', name: 'ok', selector: '#ok' },
    ]);
    click(document.getElementById('ok') as Element);
    click(document.getElementById('ok') as Element);
    expect(report).toHaveBeenCalledTimes(1);
    expect(String(report.mock.calls[0]?.[0])).toContain('broken');
    expect(payloads()).toHaveLength(2);
  });

  it('reports goals without a name, with an unknown type or without a match, and skips them', () => {
    start([
      { type: 'click', name: '', selector: 'a' },
      { type: 'hover', name: 'x', selector: 'a' } as unknown as Goal,
      { type: 'url', name: 'y' } as unknown as Goal,
    ]);
    expect(report).toHaveBeenCalledTimes(3);
  });

  it('stops counting clicks after stop', () => {
    document.body.innerHTML = '<button id="buy">Buy</button>';
    start([{ type: 'click', name: 'buy', selector: '#buy' }]).stop();
    click(document.getElementById('buy') as Element);
    expect(events).toEqual([]);
  });
});

describe('click targets', () => {
  it('describe an input by tag, id and classes and never by what the visitor typed', () => {
    document.body.innerHTML = '<input id="email" class="field wide big extra" data-spoor-goal="typed">';
    const input = document.querySelector('input') as HTMLInputElement;
    input.value = 'visitor@example.com';
    start([]);
    click(input);
    expect(payloads()).toEqual([{ type: 'click', goal: 'typed', target: 'input#email.field.wide.big' }]);
  });

  it('keep only the path of a link on this site and drop queries, fragments and other schemes', () => {
    document.body.innerHTML = `<a id="a" href="/reset?token=secret#x">a</a>
      <a id="b" href="https://shop.example/cart?id=1">b</a><a id="c" href="mailto:me@example.com">c</a>`;
    expect(describeElement(document.getElementById('a') as Element)).toBe('a#a[href=/reset]');
    expect(describeElement(document.getElementById('b') as Element)).toBe('a#b[href=shop.example/cart]');
    expect(describeElement(document.getElementById('c') as Element)).toBe('a#c[href=mailto:]');
  });
});

describe('URL goals', () => {
  const url = (path: string) => `${location.origin}${path}`;

  it('match an exact path, with any query, and nothing else', () => {
    const { checkUrl } = start([{ type: 'url', name: 'thanks', match: '/thank-you' }]);
    checkUrl(url('/thank-you/extra'));
    checkUrl(url('/thank-you?order=42'));
    expect(payloads()).toEqual([{ type: 'url', goal: 'thanks', target: '/thank-you' }]);
    expect(log).toEqual(['enqueue']);
  });

  it('match a * wildcard against any run of characters and treat other characters literally', () => {
    const { checkUrl } = start([{ type: 'url', name: 'docs', match: '/docs/*.html' }]);
    checkUrl(url('/docs/a/b.html'));
    checkUrl(url('/docs/a/bxhtml'));
    checkUrl(url('/blog/a.html'));
    expect(payloads()).toEqual([{ type: 'url', goal: 'docs', target: '/docs/a/b.html' }]);
  });

  it('compare a pattern with a ? against path and query, and one with a # against the fragment too', () => {
    const { checkUrl } = start([
      { type: 'url', name: 'paid', match: '/order?status=paid*' },
      { type: 'url', name: 'hash-done', match: '/#/done' },
    ]);
    checkUrl(url('/order?status=paid&id=1'));
    checkUrl(url('/order?status=open'));
    checkUrl(url('/#/done'));
    expect(payloads().map((p) => (p as { goal: string }).goal)).toEqual(['paid', 'hash-done']);
  });

  it('match a RegExp, including a global one on consecutive visits', () => {
    const { checkUrl } = start([{ type: 'url', name: 'product', match: /^\/products\/\d+$/g }]);
    checkUrl(url('/products/1'));
    checkUrl(url('/products/2?ref=mail'));
    checkUrl(url('/products/x'));
    expect(payloads()).toHaveLength(2);
  });

  it('count a goal once per visit and again on the next visit', () => {
    const { checkUrl } = start([
      { type: 'url', name: 'pricing', match: '/pricing' },
      { type: 'url', name: 'pricing', match: /pricing/ },
    ]);
    checkUrl(url('/pricing'));
    expect(payloads()).toHaveLength(1);
    checkUrl(url('/pricing'));
    expect(payloads()).toHaveLength(2);
  });

  it('check nothing after stop', () => {
    const g = start([{ type: 'url', name: 'home', match: '/' }]);
    g.stop();
    g.checkUrl(url('/'));
    expect(events).toEqual([]);
  });
});
