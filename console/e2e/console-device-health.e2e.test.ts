import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';
import { launchChromium } from './browser.ts';

/**
 * "So operators can tell a real flood from a broken gauge" (issue 16 item 6) in the real browser: Kim Long's
 * gauge jumps 1.3 m between two readings (Huế's river-gauge-health rule: a suspect device) and Phú Ốc's is
 * in a maintenance window; their flood alerts and their map markers carry a badge saying so (vi, then en),
 * and a healthy gauge's marker carries none.
 */
const PASSWORD = 'mat-khau-truc-ban-ioc';
const KIMLONG_L1 = 'Lũ vượt báo động I: Trạm thủy văn Kim Long (sông Hương)';
const PHUOC_L1 = 'Lũ vượt báo động I: Trạm thủy văn Phú Ốc (sông Bồ)';

describe('console: suspect and serviced devices are marked', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform(), launchChromium()]);
    const admin = { token: platform.adminToken };
    const created = await platform.request('POST', '/api/accounts', {
      ...admin,
      body: { name: 'truc.ban', role: 'operator', password: PASSWORD },
    });
    expect(created.status).toBe(201);
    const window = await platform.request('POST', '/api/silences', {
      body: {
        match: { sensorId: ['water-phuoc'] },
        reason: 'thay phao đo',
        maintenance: true,
        endsAt: Date.now() + 2 * 3_600_000,
      },
    });
    expect(window.status).toBe(201);
    const kimlong = await platform.connectDevice('water-kimlong');
    for (const level of [1.2, 2.5])
      await publishAcked(kimlong, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: level }));
    const phuoc = await platform.connectDevice('water-phuoc');
    await publishAcked(phuoc, 'ioc/water/water-phuoc/readings', JSON.stringify({ waterLevel: 1.6 }));
    const davien = await platform.connectDevice('water-davien');
    await publishAcked(davien, 'ioc/water/water-davien/readings', JSON.stringify({ waterLevel: 1.1 }));
    await platform.alerts.idle();
    const task = platform.alerts.open().find((a) => a.ruleId === 'river-gauge-health');
    expect(task).toMatchObject({ sensorId: 'water-kimlong', workflow: { agencyId: 'ioc-ky-thuat' } });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, locale: 'vi-VN' });
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('shows the badges on the alert list and the map, in Vietnamese and then English', async () => {
    await page.goto(platform.httpUrl);
    await page.getByLabel('Tên đăng nhập').fill('truc.ban');
    await page.getByLabel('Mật khẩu').fill(PASSWORD);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByRole('heading', { name: 'Cảnh báo trực tiếp' }).waitFor({ timeout: 15_000 });

    const kimlongRow = page.getByRole('listitem').filter({ hasText: KIMLONG_L1 });
    const phuocRow = page.getByRole('listitem').filter({ hasText: PHUOC_L1 });
    await kimlongRow.waitFor({ timeout: 15_000 });
    await expect.poll(() => kimlongRow.innerText()).toContain('Thiết bị nghi hỏng');
    expect(await kimlongRow.innerText()).not.toContain('Đang bảo trì');
    await expect.poll(() => phuocRow.innerText(), { timeout: 15_000 }).toContain('Đang bảo trì');
    expect(await phuocRow.innerText()).not.toContain('Thiết bị nghi hỏng');

    const marker = (name: RegExp) => page.getByRole('button', { name });
    await marker(/^Trạm thủy văn Kim Long \(sông Hương\).*Thiết bị nghi hỏng$/).waitFor({ timeout: 15_000 });
    await marker(/^Trạm thủy văn Phú Ốc \(sông Bồ\).*Đang bảo trì$/).waitFor({ timeout: 15_000 });
    const davien = page.locator('[data-sensor-id="water-davien"]');
    expect(await davien.getAttribute('aria-label')).not.toMatch(/nghi hỏng|bảo trì/);
    expect(await davien.getAttribute('data-health')).toBeNull();
    expect(await page.locator('[data-sensor-id="water-kimlong"]').getAttribute('data-health')).toBe('suspect');

    await page.getByRole('combobox', { name: 'Ngôn ngữ' }).selectOption('en');
    const rowsWith = (text: string) => page.getByRole('listitem').filter({ hasText: text });
    await expect.poll(() => rowsWith('Suspect device').count()).toBeGreaterThan(0);
    await expect.poll(() => rowsWith('Under maintenance').count()).toBeGreaterThan(0);
    expect(await rowsWith('Thiết bị nghi hỏng').count()).toBe(0);
    await marker(/Phú Ốc.*Under maintenance$/).waitFor({ timeout: 15_000 });
    await marker(/Kim Long \(sông Hương\).*Suspect device$/).waitFor({ timeout: 15_000 });
  });
});
