// The shop's behaviour on every page: cart badge, product grids, product page, checkout.
// The page says which it is with <body data-page="...">; no inline scripts, so a strict CSP holds.
import { findProduct, formatPrice, imageOf, products } from './catalog.js';

const CART_KEY = 'fernwood-cart';

/**
 * Builds an element. Text goes through textContent, never HTML.
 * @param {string} tag
 * @param {Record<string, string>} [attrs]
 * @param {(Node | string)[]} [children]
 */
function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  for (const child of children) el.append(child);
  return el;
}

/** @returns {string[]} */
function readCart() {
  try {
    const parsed = JSON.parse(localStorage.getItem(CART_KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((id) => findProduct(id)) : [];
  } catch {
    return [];
  }
}

/** @param {string[]} ids */
function writeCart(ids) {
  try {
    localStorage.setItem(CART_KEY, JSON.stringify(ids));
  } catch {
    // Private modes may refuse storage; the shop still works for this page.
  }
  showCartCount();
}

function showCartCount() {
  const badge = document.querySelector('[data-cart-count]');
  if (badge) badge.textContent = String(readCart().length);
}

/** @param {import('./catalog.js').Product} product */
function productCard(product) {
  return h('a', { class: 'card', href: `/product.html?id=${product.id}`, 'data-product': product.id }, [
    h('img', { src: imageOf(product), alt: '', width: '600', height: '450' }),
    h('div', { class: 'card-body' }, [
      h('h3', {}, [product.name]),
      h('p', {}, [product.blurb]),
      h('span', { class: 'price' }, [formatPrice(product.price)]),
    ]),
  ]);
}

function renderGrid() {
  const grid = document.querySelector('[data-product-grid]');
  if (!grid) return;
  const limit = Number(grid.getAttribute('data-limit') ?? products.length);
  grid.replaceChildren(...products.slice(0, limit).map(productCard));
}

function renderProduct() {
  const root = document.querySelector('[data-product-page]');
  if (!root) return;
  const product = findProduct(new URLSearchParams(location.search).get('id')) ?? products[0];
  document.title = `${product.name} · Fernwood Supply`;
  root.querySelector('[data-crumb]')?.replaceChildren(product.name);
  const art = root.querySelector('[data-art]');
  art?.setAttribute('src', imageOf(product));
  art?.setAttribute('alt', product.name);
  root.querySelector('[data-name]')?.replaceChildren(product.name);
  root.querySelector('[data-price]')?.replaceChildren(formatPrice(product.price));
  root.querySelector('[data-description]')?.replaceChildren(product.description);
  root
    .querySelector('[data-specs]')
    ?.replaceChildren(
      ...product.specs.map(([label, value]) => h('li', {}, [h('span', {}, [label]), h('span', {}, [value])])),
    );

  // The buy button is a click goal in markup (data-spoor-goal); it navigates away at once, which is
  // exactly the case the snippet must still count.
  root.querySelector('[data-buy]')?.addEventListener('click', () => {
    writeCart([...readCart(), product.id]);
    location.assign('/checkout.html');
  });

  const wish = root.querySelector('[data-wishlist]');
  wish?.addEventListener('click', () => {
    wish.textContent = 'Saved to wishlist';
    wish.setAttribute('aria-pressed', 'true');
  });
}

function renderCheckout() {
  const form = /** @type {HTMLFormElement | null} */ (document.querySelector('[data-checkout]'));
  if (!form) return;
  const cart = readCart();
  const items = (cart.length > 0 ? cart : [products[0].id]).map((id) => findProduct(id) ?? products[0]);
  const summary = document.querySelector('[data-summary]');
  summary?.replaceChildren(
    ...items.map((product) =>
      h('div', { class: 'summary-item' }, [
        h('img', { src: imageOf(product), alt: '' }),
        h('div', {}, [
          h('strong', {}, [product.name]),
          h('div', { class: 'price' }, [formatPrice(product.price)]),
        ]),
      ]),
    ),
  );
  const subtotal = items.reduce((sum, product) => sum + product.price, 0);
  const shipping = subtotal >= 10000 ? 0 : 595;
  document.querySelector('[data-subtotal]')?.replaceChildren(formatPrice(subtotal));
  document.querySelector('[data-shipping]')?.replaceChildren(shipping === 0 ? 'Free' : formatPrice(shipping));
  document.querySelector('[data-total]')?.replaceChildren(formatPrice(subtotal + shipping));

  // A real shop posts the payment to its backend; here the order is "placed" in the page and the
  // visitor moves on. Nothing typed travels in the URL.
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    writeCart([]);
    const ref = `FW-${Math.floor(100000 + Math.random() * 900000)}`;
    location.assign(`/thank-you.html?order=${ref}`);
  });
}

function renderThankYou() {
  const ref = document.querySelector('[data-order-ref]');
  if (!ref) return;
  const order = new URLSearchParams(location.search).get('order');
  if (order && /^FW-\d{6}$/.test(order)) ref.textContent = order;
}

showCartCount();
renderGrid();
renderProduct();
renderCheckout();
renderThankYou();
