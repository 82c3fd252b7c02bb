import { defineConfig } from 'vitest/config';

// Fast tests: the snippet in happy-dom, the package's documents in Node, the collector in Node on real
// SQLite files.
// Browser behaviour that happy-dom cannot model is tested in real Chromium under e2e/ instead.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'snippet',
          include: ['test/snippet/**/*.test.ts'],
          environment: 'happy-dom',
        },
      },
      {
        test: {
          // The dashboard's pure view helpers (charts), in happy-dom.
          name: 'demo',
          include: ['test/demo/**/*.test.ts'],
          environment: 'happy-dom',
        },
      },
      {
        test: {
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'tooling',
          include: ['test/tooling/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60000,
        },
      },
      {
        test: {
          name: 'server',
          include: ['test/server/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20000,
        },
      },
    ],
  },
});
