// Setup of the server-pg test project: whatever database a test file left behind is dropped after it.
import { afterAll } from 'vitest';
import { dropLeftovers } from './postgres.js';

afterAll(async () => {
  await dropLeftovers();
});
