import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../alerts/alert-model.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';
import { launchChromium } from './browser.ts';

/**
 * Roles in a real browser under the platform's real Content-Security-Policy: a viewer signs in with a
 * password and sees neither acknowledge buttons nor the audit page; an operator's acknowledgement shows
 * the person and the note; an admin opens the audit page (Vietnamese first), reads entries with times
 * in Asia/Ho_Chi_Minh, filters by actor and action, and exports CSV.
 */
const SENSOR = 'traffic-phubai';
const RULE = {
  id: 'console-audit-e2e',
  type: 'threshold',
  severity: 'low',
  category: 'traffic',
  subCategory: 'trafficJam',
  selector: { sensorIds: [SENSOR] },
  metric: 'intensity',
  above: 50,
  title: { vi: 'Kiểm thử nhật ký: ùn tắc', en: 'Audit test: jam' },
};

async function signIn(page: Page, url: string, username: string, password: string): Promise<string[]> {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  page.on('pageerror', (e) => violations.push(e.message));
  await page.goto(url);
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  return violations;
}

describe('console roles and the audit page', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let alert: Alert;

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform(), launchChromium()]);
    await platform.alerts.rules.put(RULE, 'console-audit-e2e');
    const device = await platform.connectDevice(SENSOR);
    await publishAcked(device, `ioc/traffic/${SENSOR}/readings`, JSON.stringify({ intensity: 90 }));
    // expect.poll is for tests only: a plain loop until the rule fired
    for (let i = 0; i < 200 && alert?.state !== 'firing'; i++) {
      const res = await platform.request('GET', `/api/alerts?sensorId=${SENSOR}&state=firing`);
      alert = (res.json as { alerts: Alert[] }).alerts.find((a) => a.ruleId === RULE.id)!;
      if (alert?.state !== 'firing') await new Promise((r) => setTimeout(r, 50));
    }
    // the operator (an API token) acknowledges with a note: the console shows who and the note
    expect(
      (await platform.request('POST', `/api/alerts/${alert.id}/ack`, { body: { note: 'đội 3 đang đến' } })).status,
    ).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('signs a viewer in under the CSP: no ack/resolve buttons, no audit page; acknowledgers shown', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, locale: 'vi-VN' });
    const violations = await signIn(page, platform.httpUrl, 'viewer', platform.credentials!.viewer!.password);
    await page.getByText('viewer · Vai trò: Người xem').waitFor({ timeout: 15_000 });
    const row = page.getByRole('listitem').filter({ hasText: RULE.title.vi });
    await row.waitFor({ timeout: 15_000 });
    await row.getByText('Tiếp nhận bởi operator').waitFor();
    await row.getByText('Ghi chú: đội 3 đang đến').waitFor();
    expect(await row.getByRole('button', { name: 'Tiếp nhận' }).count()).toBe(0);
    expect(await row.getByRole('button', { name: 'Kết thúc' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Nhật ký kiểm toán' }).count()).toBe(0);
    expect(violations).toEqual([]);
    await page.close();
  }, 60_000);

  it('lets an admin read, filter and export the audit log, times in Asia/Ho_Chi_Minh', async () => {
    const page = await browser.newPage({
      viewport: { width: 1600, height: 1000 },
      locale: 'vi-VN',
      timezoneId: 'Europe/London',
      acceptDownloads: true,
    });
    const violations = await signIn(page, platform.httpUrl, 'admin', platform.credentials!.admin.password);
    await page.getByText('admin · Vai trò: Quản trị').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Nhật ký kiểm toán' }).click();
    const table = page.getByRole('table', { name: 'Nhật ký kiểm toán' });
    await table.waitFor();
    const ackRow = table.getByRole('row').filter({ hasText: 'alert.acknowledge' });
    await ackRow.waitFor({ timeout: 10_000 });
    await ackRow.getByText('operator (operator)').waitFor();
    // the browser runs in London: the page still shows the city's time (UTC+7)
    const entry = (
      (await platform.request('GET', '/api/audit?action=alert.acknowledge', { token: platform.adminToken })).json as {
        entries: Array<{ ts: number }>;
      }
    ).entries[0]!;
    const hcm = new Intl.DateTimeFormat('vi-VN', {
      timeZone: 'Asia/Ho_Chi_Minh',
      dateStyle: 'short',
      timeStyle: 'medium',
      hourCycle: 'h23',
    }).format(entry.ts);
    expect(await ackRow.locator('time').textContent()).toBe(hcm);

    await page.getByLabel('Người thực hiện').fill('admin');
    await page.getByLabel('Hành động').fill('session');
    await page.getByRole('button', { name: 'Lọc' }).click();
    await expect
      .poll(
        async () =>
          (await table.locator('tbody tr').allTextContents()).every(
            (t) => t.includes('session.login') && t.includes('admin (admin)'),
          ),
        { timeout: 10_000 },
      )
      .toBe(true);
    expect(await table.locator('tbody tr').count()).toBeGreaterThan(0);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Xuất CSV' }).click(),
    ]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toMatch(/^seq,time,/);
    expect(csv).toContain('session.login');
    expect(csv).not.toContain('alert.acknowledge'); // the export follows the filter

    // English second: the page relabels in place
    await page.getByRole('combobox', { name: 'Ngôn ngữ' }).selectOption('en');
    await page.getByRole('table', { name: 'Audit log' }).waitFor();
    await page.getByRole('button', { name: 'Export CSV' }).waitFor();
    expect(violations).toEqual([]);
    await page.close();
  }, 90_000);
});
