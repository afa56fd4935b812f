import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../console/e2e/browser.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * /docs is Swagger UI loaded on its first request (api/docs-plugin.ts): a Fastify instance of its own reached
 * through inject(). The page must still work for a person in a real browser, under the app's security headers,
 * with the app's OpenAPI document.
 */
describe('API docs page (Swagger UI loaded on first use)', () => {
  let p: TestPlatform;
  let browser: Browser;
  beforeAll(async () => {
    p = await startTestPlatform();
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await p?.stop();
  });

  it('serves the same document as /api/openapi.json, answers HEAD and 404s an unknown file', async () => {
    const [fromDocs, fromApi] = await Promise.all([
      fetch(`${p.httpUrl}/docs/json`).then((r) => r.json()),
      fetch(`${p.httpUrl}/api/openapi.json`).then((r) => r.json()),
    ]);
    expect(fromDocs).toEqual(fromApi);
    const head = await fetch(`${p.httpUrl}/docs/static/swagger-ui.css`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/text\/css/);
    expect(head.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect((await fetch(`${p.httpUrl}/docs/static/no-such-file.js`)).status).toBe(404);
  });

  it('shows the operations in the browser with no script or style refused', async () => {
    const page = await browser.newPage();
    const refused: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') refused.push(m.text());
    });
    const response = await page.goto(`${p.httpUrl}/docs`);
    expect(response?.status()).toBe(200);
    await page.getByText('/api/health', { exact: true }).first().waitFor({ timeout: 30_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(20);
    expect(refused).toEqual([]);
  }, 60_000);
});
