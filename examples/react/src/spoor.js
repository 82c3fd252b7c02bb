// Spoor's options, from the build's environment (.env files or the shell).
import { init } from 'spoor';

const options = {
  endpoint: import.meta.env.VITE_SPOOR_ENDPOINT,
  project: import.meta.env.VITE_SPOOR_PROJECT,
  // Automated browsers are not tracked unless asked: only the end-to-end test sets this.
  allowAutomation: import.meta.env.VITE_SPOOR_ALLOW_AUTOMATION === 'true',
  onDebug: (event) => {
    if (event.kind === 'init') console.info(`[spoor] init: ${event.action}`);
  },
};

/** The page's tracker: init() returns the same one each time it is called with these options. */
export const startSpoor = () => init(options);
