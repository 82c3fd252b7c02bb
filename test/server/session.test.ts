import { afterEach, describe, expect, it } from 'vitest';
import { readIdentifier } from '../../server/crypto/identifier.js';
import { type Collector, startCollector, V1 } from './harness.js';

const SESSION = `${V1}/session`;
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1';
const IPAD =
  'Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1';
let c: Collector;

afterEach(async () => {
  await c.close();
});

describe('POST /session', () => {
  it('mints an identifier and a session row with browser, device, OS, IP and entry URL', async () => {
    c = await startCollector();
    const a = await c.post(SESSION, {
      project: c.project.public_key,
      url: 'https://shop.test/?utm=1',
      referrer: 'https://search.test/',
      userAgent: IPHONE,
    });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ status: true, idleTimeout: 1800, maxAge: 86400, tab: 1 });
    expect(a.headers.get('x-ratelimit-limit')).toBe('3600');
    const claims = readIdentifier(a.body.sessionIdentifier, c.config.key);
    expect(claims).toMatchObject({ p: c.project.id, w: 1 });
    const s = await c.store.sessionById(claims?.s ?? 0);
    expect(s).toMatchObject({
      browser: 'Mobile Safari',
      device: 'mobile',
      platform_os: 'iOS',
      country: null,
      ip_address: '127.0.0.1',
      entry_url: 'https://shop.test/?utm=1',
      referrer: 'https://search.test/',
    });
    const tablet = await c.post(SESSION, { project: c.project.public_key, userAgent: IPAD });
    expect(
      (await c.store.sessionById(readIdentifier(tablet.body.sessionIdentifier, c.config.key)?.s ?? 0))
        ?.device,
    ).toBe('tablet');
  });

  it('opens the next tab of the same session for a live identifier of the same project', async () => {
    c = await startCollector();
    const first = await c.session();
    const second = await c.post(SESSION, { project: c.project.public_key, sessionIdentifier: first });
    expect(second.body.tab).toBe(2);
    const a = readIdentifier(first, c.config.key);
    const b = readIdentifier(second.body.sessionIdentifier, c.config.key);
    expect(b?.s).toBe(a?.s);
    expect(b?.w).toBe(2);
    expect((await c.store.counts()).sessions).toBe(1);
    // once expired, the same identifier starts a new session instead
    c.clock.now += 40 * 60_000;
    const third = await c.post(SESSION, { project: c.project.public_key, sessionIdentifier: first });
    expect(third.body.tab).toBe(1);
    expect(readIdentifier(third.body.sessionIdentifier, c.config.key)?.s).not.toBe(a?.s);
  });

  it('answers 422 on project for an unknown key and 403 for an origin the project does not allow', async () => {
    c = await startCollector({ SPOOR_ALLOWED_ORIGINS: 'https://shop.test,https://www.shop.test' });
    const unknown = await c.post(SESSION, { project: 'pk_nope' });
    expect(unknown.status).toBe(422);
    expect(unknown.body).toEqual({
      message: 'The selected project is invalid.',
      errors: { project: ['The selected project is invalid.'] },
    });
    const missing = await c.post(SESSION, {});
    expect(missing.body.errors.project).toEqual(['The project field is required.']);
    const evil = await c.post(SESSION, { project: c.project.public_key }, { Origin: 'https://evil.test' });
    expect(evil.status).toBe(403);
    expect(evil.body.error).toBe(true);
    const ok = await c.post(SESSION, { project: c.project.public_key }, { Origin: 'https://www.shop.test' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://www.shop.test');
    expect((await c.store.counts()).sessions).toBe(1);
  });

  it("allows only the collector's own origin by default", async () => {
    c = await startCollector();
    const own = await c.post(SESSION, { project: c.project.public_key }, { Origin: c.url });
    expect(own.status).toBe(200);
    const other = await c.post(SESSION, { project: c.project.public_key }, { Origin: 'http://localhost:1' });
    expect(other.status).toBe(403);
  });

  it('takes country and client IP from proxy headers only when configured to trust them', async () => {
    c = await startCollector();
    const headers = { 'CF-IPCountry': 'NL', 'X-Forwarded-For': '203.0.113.9, 10.0.0.1' };
    const plain = readIdentifier(await c.session({}, headers), c.config.key);
    expect(await c.store.sessionById(plain?.s ?? 0)).toMatchObject({
      country: null,
      ip_address: '127.0.0.1',
    });
    await c.close();
    c = await startCollector({ SPOOR_COUNTRY_HEADER: 'CF-IPCountry', SPOOR_TRUST_PROXY: '1' });
    const trusted = readIdentifier(await c.session({}, headers), c.config.key);
    expect(await c.store.sessionById(trusted?.s ?? 0)).toMatchObject({
      country: 'NL',
      ip_address: '203.0.113.9',
    });
  });
});
