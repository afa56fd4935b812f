import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, tryConnect, type TestPlatform } from '../../test-support/platform-harness.ts';
import { launchChromium } from './browser.ts';

/**
 * The admin's sensor page in a real browser under the platform's CSP: place a sensor by clicking the map,
 * read its secret once and connect a real MQTT device with it; rotate (the old secret stops), issue a
 * provisioning code, disable. An operator does not get the page.
 */
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

const secretIn = (text: string) => /mật khẩu (\S+)$/.exec(text)?.[1];

describe('console sensor registry page', () => {
  let platform: TestPlatform;
  let browser: Browser;
  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform(), launchChromium()]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('lets an admin place a sensor, connect with the once-shown secret, rotate, add a code, disable', async () => {
    const page = await browser.newPage({
      viewport: { width: 1600, height: 1000 },
      locale: 'vi-VN',
      timezoneId: 'Europe/London',
    });
    page.on('dialog', (d) => void d.accept());
    const violations = await signIn(page, platform.httpUrl, 'admin', platform.credentials!.admin.password);
    await page.getByRole('button', { name: 'Quản lý cảm biến' }).click();
    const table = page.getByRole('table', { name: 'Danh mục cảm biến' });
    await table.getByRole('row').filter({ hasText: 'water-kimlong' }).waitFor({ timeout: 15_000 });

    // the map's centre is the city's centre (16.4637, 107.5909): inside Huế
    const form = page.getByRole('form', { name: 'Thêm cảm biến mới' });
    const map = page.getByRole('application', { name: 'Bản đồ đặt vị trí cảm biến' });
    const box = (await map.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    expect(Number(await form.getByLabel('Vĩ độ').inputValue())).toBeCloseTo(16.4637, 1);
    expect(Number(await form.getByLabel('Kinh độ').inputValue())).toBeCloseTo(107.5909, 1);
    await form.getByLabel('Mã cảm biến').fill('water-console');
    await form.getByLabel('Tên', { exact: true }).fill('Thước nước đặt từ bảng điều hành');
    await form.getByLabel('Loại').selectOption('water');
    await form.getByLabel('Phường/xã').fill('Thuận Hóa');
    await form.getByLabel('Báo động I (m)').fill('1');
    await form.getByLabel('Báo động II (m)').fill('2');
    await form.getByLabel('Báo động III (m)').fill('3');
    await form.getByRole('button', { name: 'Tạo cảm biến' }).click();
    await page.getByText('Đã tạo cảm biến water-console.').waitFor();
    const shown = await page.locator('output.sensor-admin-secret').textContent();
    const first = secretIn(shown ?? '')!;
    expect(first).toMatch(/^\S{40,}$/);
    const login = (password: string) =>
      tryConnect(platform.mqttUrl, { username: 'water-console', password, clientId: 'water-console' });
    const device = await login(first);
    expect(device.ok).toBe(true);
    await device.client!.endAsync();
    const entry = (await platform.request('GET', '/api/sensors/water-console')).json as {
      lat: number;
      district: string;
      floodLevels: number[];
    };
    expect(entry).toMatchObject({ district: 'Thuận Hóa', floodLevels: [1, 2, 3] });

    const row = table.getByRole('row').filter({ hasText: 'water-console' });
    await row.getByRole('button', { name: 'Đổi khóa bí mật' }).click();
    await expect
      .poll(async () => secretIn((await page.locator('output.sensor-admin-secret').textContent()) ?? ''))
      .not.toBe(first);
    const second = secretIn((await page.locator('output.sensor-admin-secret').textContent())!)!;
    expect((await login(first)).ok).toBe(false);
    const again = await login(second);
    expect(again.ok).toBe(true);
    await again.client!.endAsync();

    await row.getByRole('button', { name: 'Cấp mã kích hoạt' }).click();
    await page.getByText(/Mã kích hoạt cho water-console/).waitFor();
    const codeText = (await page.locator('output.sensor-admin-secret').textContent())!;
    // the expiry is shown in Huế's time, whatever the browser's zone (Europe/London here)
    const code = /([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})$/.exec(codeText)![1]!;
    const claimed = await platform.request('POST', '/api/provision', { token: null, body: { code } });
    expect(claimed.status).toBe(200);

    await row.getByRole('button', { name: 'Tắt' }).click();
    await row.getByText('Đã tắt').waitFor();
    expect((await login((claimed.json as { password: string }).password)).ok).toBe(false);
    expect(violations).toEqual([]);
    await page.close();
  }, 90_000);

  it('does not show the page to an operator', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, locale: 'vi-VN' });
    await platform.request('POST', '/api/accounts', {
      token: platform.adminToken,
      body: { name: 'op-sensors', role: 'operator', password: 'mật-khẩu-đủ-dài' },
    });
    await signIn(page, platform.httpUrl, 'op-sensors', 'mật-khẩu-đủ-dài');
    await page.getByText('op-sensors · Vai trò: Điều hành viên').waitFor({ timeout: 15_000 });
    expect(await page.getByRole('button', { name: 'Quản lý cảm biến' }).count()).toBe(0);
    await page.close();
  }, 60_000);
});
