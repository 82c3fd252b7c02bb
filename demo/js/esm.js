// The gift-card page installs Spoor from the npm build (an ES module) instead of the script tag.
import { init } from '/dist/index.js';

/** @param {string} name */
function meta(name) {
  return document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
}

const tracker = init({
  endpoint: meta('spoor-endpoint'),
  project: meta('spoor-project'),
  allowAutomation: true,
  goals: [
    { type: 'click', name: 'gift-card', selector: '#send-gift' },
    { type: 'url', name: 'thank-you', match: '/thank-you*' },
  ],
});

// The QA panel is a separate script: hand it the tracker's debug hook, whichever loads first.
window.spoorDebugSubscribe = (listener) => tracker.onDebug(listener);
window.dispatchEvent(new Event('spoor:debug-source'));

const form = document.querySelector('[data-gift]');
for (const button of document.querySelectorAll('[data-amount]')) {
  button.addEventListener('click', () => {
    for (const other of document.querySelectorAll('[data-amount]')) {
      other.setAttribute('aria-pressed', String(other === button));
    }
  });
}
form?.addEventListener('submit', (event) => {
  event.preventDefault();
  const amount = document.querySelector('[data-amount][aria-pressed="true"]')?.getAttribute('data-amount');
  tracker.track('gift-card-sent', { amount: Number(amount) });
  const status = document.querySelector('[data-gift-status]');
  if (status) status.textContent = `Gift card of €${amount} sent. Thank you!`;
});
