import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { createApp, ensureDemoProject } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { createFlameupRelay } from '../../server/relay/relay.js';
import { openStore } from '../../server/store/sqlite.js';
import { startFlameupStandin } from '../support/flameup-standin.js';
import { custom, V1, visit } from './harness.js';

it('forwards each named event of a stored /track body to Flameup once, including events from before identify', async () => {
  const standin = await startFlameupStandin({ apiKey: 'k-123' });
  const dir = mkdtempSync(join(tmpdir(), 'wired-'));
  const config = loadConfig({
    SPOOR_DATA: dir,
    SPOOR_FLAMEUP_API_KEY: 'k-123',
    SPOOR_FLAMEUP_URL: standin.url,
  });
  const store = openStore(config.dbFile);
  const project = await ensureDemoProject(config, store);
  const flameup = createFlameupRelay({ engine: store.engine, durable: () => store.durable() });
  await flameup.configure(
    project.id,
    config.flameupApiKey ? { apiKey: config.flameupApiKey, url: config.flameupUrl } : null,
  );
  flameup.start();
  const server = createServer(createApp({ config, store, flameup }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (p: string, b: unknown) =>
    fetch(url + p, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(b),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const s = await post(`${V1}/session`, { project: project.public_key, url: 'https://x/' });
  const sid = s.body.sessionIdentifier;
  const t = Date.now();
  const body = {
    sessionIdentifier: sid,
    timer: 1,
    events: [visit('https://x/', t), custom('event', { name: 'before', parameters: {} }, t + 1)],
  };
  expect((await post(`${V1}/track`, body)).status).toBe(200);
  expect((await post(`${V1}/track`, body)).status).toBe(200);
  expect(
    (
      await post(`${V1}/track`, {
        sessionIdentifier: sid,
        events: [
          custom('identify', { externalId: 'me' }, t + 2),
          custom('event', { name: 'after', parameters: { a: 1 } }, t + 3),
        ],
      })
    ).status,
  ).toBe(200);
  // Every row was queued inside its /track request, before the answer: once none is left to send and
  // the relay has stopped, nothing more can reach Flameup.
  // An acknowledged row is deleted, so "nothing left" is an empty queue once both were accepted.
  await vi.waitFor(
    async () => {
      expect(standin.accepted).toHaveLength(2);
      expect(await flameup.store.counts()).toEqual({ held: 0, pending: 0, sent: 0, failed: 0 });
    },
    { timeout: 10_000 },
  );
  await flameup.stop();
  expect(standin.accepted.map((a) => [a.body.external_id, a.body.event])).toEqual([
    ['me', 'before'],
    ['me', 'after'],
  ]);
  server.closeAllConnections();
  server.close();
  await store.close();
  await standin.close();
});
