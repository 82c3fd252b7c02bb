// The QA page's triggers (demo/qa.html): controls that misbehave on purpose so that a recording holds
// rage clicks, dead clicks, an error and a failed request. QA only: no shop page uses them.

const status = /** @type {HTMLElement | null} */ (document.querySelector('[data-qa-status]'));

/** Says what happened: a change on the page, so that these buttons are not dead clicks themselves. */
function say(text) {
  if (status) status.textContent = text;
}

// The broken button and the dead link: no handler that does anything.
document.getElementById('qa-dead-link')?.addEventListener('click', (event) => event.preventDefault());

document.getElementById('qa-error')?.addEventListener('click', () => {
  say('Recalculating the total…');
  // Uncaught on purpose: the page's own bug, as the snippet's error detector sees one.
  throw new TypeError('QA: cannot read the total of an empty cart');
});

document.getElementById('qa-request')?.addEventListener('click', () => {
  say('Checking stock…');
  fetch('/qa/fail', { headers: { Accept: 'application/json' } }).then(
    (response) => say(`Stock check answered ${response.status}.`),
    () => say('Stock check failed on the network.'),
  );
});
