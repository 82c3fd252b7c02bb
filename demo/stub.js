// The stub of docs/contract.md, "Installing the snippet": queues calls made before spoor.min.js has loaded, which the
// snippet replays in order. Same behaviour as the contract's one-liner, spelled out for the linter.
window.spoor =
  window.spoor ||
  function spoor() {
    window.spoor.q = window.spoor.q || [];
    // biome-ignore lint/complexity/noArguments: the queue keeps each call's arguments object as the snippet expects
    window.spoor.q.push(arguments);
  };
