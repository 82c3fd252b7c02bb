// The README gives a CSP hash for its inline stub: it must stay the hash of the stub it shows.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it("gives the sha256 of the script tag's stub, byte for byte, in its CSP example", () => {
    const stub = /```html\n<script>(.*?)<\/script>\n/.exec(readme)?.[1];
    expect(stub).toContain('spoor.q');
    const hash = createHash('sha256')
      .update(stub as string)
      .digest('base64');
    expect(readme).toContain(`'sha256-${hash}'`);
  });
});
