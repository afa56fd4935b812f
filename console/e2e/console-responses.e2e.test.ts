import type { Browser, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';
import { launchChromium } from './browser.ts';

/**
 * Issue 14 item 8, "the console makes no call that answers 404": an admin's whole session in a real browser
 * (sign in, a live alert acknowledged, a sensor's panel and chart, the handling, sensor and audit pages,
 * English and back, sign out, the public page), with every HTTP response the page gets recorded. None is a
 * 4xx or 5xx (but the signed-out page's session probe, a 401 by design), and none failed on the way.
 */
const SENSOR = 'water-kimlong';
const RULE = {
  id: 'responses-e2e-water',
  type: 'threshold',
  severity: 'high',
  category: 'naturalDisaster',
  subCategory: 'flood',
  selector: { sensorIds: [SENSOR] },
  metric: 'waterLevel',
  above: 0.7,
  title: { vi: 'Kiểm thử phản hồi: nước dâng', en: 'Responses test: rising water' },
};

describe('console session: every response', () => {
  let platform: TestPlatform;
  let browser: Browser;
  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform(), launchChromium()]);
    await platform.alerts.rules.put(RULE, 'responses-e2e');
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('gets no 4xx or 5xx and no failed request through every page', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, locale: 'vi-VN' });
    page.on('dialog', (d) => void d.accept());
    const seen: Array<{ status: number; call: string }> = [];
    const failed: string[] = [];
    page.on('response', (r: Response) => {
      const url = new URL(r.url());
      seen.push({ status: r.status(), call: `${r.request().method()} ${url.pathname}${url.search}` });
    });
    page.on('requestfailed', (r) => {
      // a WebSocket or stream closed when the page leaves is not a failed call
      if (!/ERR_ABORTED/.test(r.failure()?.errorText ?? '')) failed.push(`${r.method()} ${r.url()}`);
    });
    const settle = () => page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => undefined);

    await page.goto(platform.httpUrl);
    await page.getByLabel('Tên đăng nhập').fill('admin');
    await page.getByLabel('Mật khẩu').fill(platform.credentials!.admin.password);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByRole('heading', { name: 'Cảnh báo trực tiếp' }).waitFor({ timeout: 15_000 });
    await settle();

    const device = await platform.connectDevice(SENSOR);
    await publishAcked(device, `ioc/water/${SENSOR}/readings`, JSON.stringify({ ts: Date.now(), waterLevel: 0.9 }));
    await device.endAsync();
    const row = page.getByRole('listitem').filter({ hasText: RULE.title.vi });
    await row.waitFor({ timeout: 10_000 });
    await row.getByRole('button', { name: 'Tiếp nhận' }).click();
    const dialog = page.getByRole('dialog', { name: 'Tiếp nhận cảnh báo' });
    await dialog.getByRole('button', { name: 'Xác nhận tiếp nhận' }).click();
    await dialog.waitFor({ state: 'hidden' });

    const marker = page.getByRole('button', { name: /^Trạm thủy văn Kim Long/ });
    await marker.focus();
    await marker.press('Enter');
    await page.getByRole('complementary', { name: /Trạm thủy văn Kim Long/ }).waitFor();
    await settle();

    await page.getByRole('button', { name: 'Thời gian xử lý' }).click();
    await page.getByRole('heading', { name: 'Thời gian xử lý cảnh báo' }).waitFor();
    await settle();
    await page.getByRole('button', { name: 'Quản lý cảm biến' }).click();
    await page.getByRole('table', { name: 'Danh mục cảm biến' }).getByRole('row').nth(1).waitFor();
    await settle();
    await page.getByRole('button', { name: 'Nhật ký kiểm toán' }).click();
    await page.getByRole('heading', { name: 'Nhật ký kiểm toán' }).waitFor();
    await settle();

    await page.getByRole('combobox', { name: 'Ngôn ngữ' }).selectOption('en');
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await settle();
    await page.getByRole('combobox', { name: 'Language' }).selectOption('vi');
    await page.getByRole('button', { name: 'Đăng xuất' }).click();
    await page.getByLabel('Tên đăng nhập').waitFor();
    await settle();
    await page.goto(`${platform.httpUrl}/public`);
    await settle();

    const calls = seen.map((s) => s.call);
    // the session really went through the pages (so an empty list of errors means something)
    for (const expected of [/^POST \/api\/session/, /^GET \/api\/sensor-registry/, /^GET \/api\/audit/, /\/ack$/])
      expect(
        calls.some((c) => expected.test(c)),
        String(expected),
      ).toBe(true);
    expect(calls.some((c) => /^GET \/api\/sensors\/water-kimlong\/readings/.test(c))).toBe(true);
    // the one 4xx by design: on load (and after signing out) the page asks whether a session cookie is there,
    // and "no" is a 401; everything a signed-in page calls answers 2xx/3xx
    const probe = (s: { status: number; call: string }) => s.status === 401 && s.call === 'GET /api/session';
    expect(seen.filter((s) => s.status >= 400 && !probe(s))).toEqual([]);
    expect(failed).toEqual([]);
    await page.close();
  }, 120_000);
});
