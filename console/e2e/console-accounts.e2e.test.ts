import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';
import { launchChromium } from './browser.ts';

/**
 * A person signs in with their own account in a real browser: the session lives in an httpOnly cookie
 * (the page's script never sees it), the header says who is signed in, a viewer sees alerts but no
 * acknowledge/resolve buttons, a reload keeps the session and signing out ends it on the server.
 */
const SENSOR = 'traffic-phubai';
const RULE = {
  id: 'console-accounts-e2e',
  type: 'threshold',
  severity: 'low',
  category: 'traffic',
  subCategory: 'trafficJam',
  selector: { sensorIds: [SENSOR] },
  metric: 'intensity',
  above: 50,
  title: { vi: 'Kiểm thử tài khoản: ùn tắc', en: 'Accounts test: jam' },
};

describe('console accounts', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform(), launchChromium()]);
    await platform.alerts.rules.put(RULE, 'console-accounts-e2e');
    const device = await platform.connectDevice(SENSOR);
    await publishAcked(device, `ioc/traffic/${SENSOR}/readings`, JSON.stringify({ intensity: 90 }));
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, locale: 'vi-VN' });
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('refuses a wrong password, then signs a viewer in and hides what a viewer cannot do', async () => {
    await page.goto(platform.httpUrl);
    await page.getByLabel('Tên đăng nhập').fill('viewer');
    await page.getByLabel('Mật khẩu').fill('not-the-password');
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByText('Sai tên đăng nhập hoặc mật khẩu.').waitFor();

    await page.getByLabel('Mật khẩu').fill(platform.credentials!.viewer!.password);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByText('viewer · Vai trò: Người xem').waitFor({ timeout: 15_000 });
    const row = page.getByRole('listitem').filter({ hasText: RULE.title.vi });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getByRole('button', { name: 'Tiếp nhận' }).count()).toBe(0);
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'ioc_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate(() => document.cookie)).not.toContain('ioc_session');
  });

  it('keeps the session over a reload and ends it on sign-out', async () => {
    await page.reload();
    await page.getByText('viewer · Vai trò: Người xem').waitFor({ timeout: 15_000 });
    const cookie = (await page.context().cookies()).find((c) => c.name === 'ioc_session')!;
    await page.getByRole('button', { name: 'Đăng xuất' }).click();
    await page.getByLabel('Tên đăng nhập').waitFor();
    await expect
      .poll(
        async () =>
          (
            await platform.request('GET', '/api/session', {
              token: null,
              headers: { cookie: `ioc_session=${cookie.value}` },
            })
          ).status,
        { timeout: 5000 },
      )
      .toBe(401);
    await page.reload();
    await page.getByLabel('Tên đăng nhập').waitFor();
  });
}, 120_000);
