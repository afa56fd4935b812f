import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, tryConnect, type TestPlatform } from '../../test-support/platform-harness.ts';
import { launchChromium } from './browser.ts';

/**
 * Editing an existing sensor on the admin's sensor page, in a real browser against a real platform: move it
 * on the map, change its kind, district and flood levels (the API then shows exactly that), rotate its secret
 * (a real MQTT device gets in with the new one, the old one is refused), disable and enable it, and delete
 * it only after a confirmation that names it.
 */
interface Entry {
  kind: string;
  district: string;
  lat: number;
  lon: number;
  floodLevels?: number[];
  disabled: boolean;
}

const secretIn = (text: string) => /mật khẩu (\S+)$/.exec(text)?.[1];

describe('console: editing an existing sensor', () => {
  let platform: TestPlatform;
  let browser: Browser;
  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform(), launchChromium()]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  const entry = async (id: string) => {
    const res = await platform.request('GET', `/api/sensors/${id}`);
    return { status: res.status, sensor: res.json as Entry };
  };
  const login = (id: string, password: string) =>
    tryConnect(platform.mqttUrl, { username: id, password, clientId: `${id}-${Math.random()}` });

  async function openPage(): Promise<{ page: Page; dialogs: string[]; answer: { accept: boolean } }> {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1100 }, locale: 'vi-VN' });
    const dialogs: string[] = [];
    const answer = { accept: true };
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void (answer.accept ? d.accept() : d.dismiss());
    });
    await page.goto(platform.httpUrl);
    await page.getByLabel('Tên đăng nhập').fill('admin');
    await page.getByLabel('Mật khẩu').fill(platform.credentials!.admin.password);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByRole('button', { name: 'Quản lý cảm biến' }).click();
    return { page, dialogs, answer };
  }

  it('moves a sensor, changes its kind, district and levels, rotates, disables, enables and deletes it', async () => {
    const created = await platform.request('POST', '/api/sensors', {
      token: platform.adminToken,
      body: { id: 'edit-me', kind: 'air', name: 'Trạm sẽ sửa', lat: 16.4637, lon: 107.5909, district: 'Phú Xuân' },
    });
    expect(created.status).toBe(201);
    const firstSecret = (created.json as { credentials: { password: string } }).credentials.password;
    const { page, dialogs, answer } = await openPage();
    const table = page.getByRole('table', { name: 'Danh mục cảm biến' });
    const row = table.getByRole('row').filter({ hasText: 'edit-me' });
    await row.waitFor({ timeout: 15_000 });

    await row.getByRole('button', { name: 'Sửa', exact: true }).click();
    const form = page.getByRole('form', { name: 'Sửa cảm biến' });
    await expect.poll(() => form.getByLabel('Mã cảm biến').inputValue()).toBe('edit-me');
    expect(await form.getByLabel('Mã cảm biến').getAttribute('readonly')).not.toBeNull();
    expect(await form.getByLabel('Phường/xã').inputValue()).toBe('Phú Xuân');
    expect(Number(await form.getByLabel('Vĩ độ').inputValue())).toBe(16.4637);

    // a click 120 px right of and 80 px below the map's centre: east and south of where it was
    const map = page.getByRole('application', { name: 'Bản đồ đặt vị trí cảm biến' });
    const box = (await map.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2 + 120, box.y + box.height / 2 + 80);
    const lat = Number(await form.getByLabel('Vĩ độ').inputValue());
    const lon = Number(await form.getByLabel('Kinh độ').inputValue());
    expect(lat).toBeLessThan(16.4637);
    expect(lon).toBeGreaterThan(107.5909);
    await form.getByLabel('Loại').selectOption('water');
    await form.getByLabel('Phường/xã').fill('Thuận Hóa');

    // two levels of three: refused in the page, nothing sent
    await form.getByLabel('Báo động I (m)').fill('1.5');
    await form.getByLabel('Báo động II (m)').fill('2.5');
    await form.getByRole('button', { name: 'Lưu thay đổi' }).click();
    await form.getByText('Nhập đủ ba mức báo động I, II, III hoặc để trống cả ba.').waitFor();
    expect((await entry('edit-me')).sensor).toMatchObject({ kind: 'air', district: 'Phú Xuân' });

    await form.getByLabel('Báo động III (m)').fill('3.5');
    await form.getByRole('button', { name: 'Lưu thay đổi' }).click();
    await page.getByText('Đã lưu cảm biến edit-me.').waitFor();
    await row.getByRole('cell', { name: 'water', exact: true }).waitFor();
    const saved = (await entry('edit-me')).sensor;
    expect(saved).toMatchObject({ kind: 'water', district: 'Thuận Hóa', floodLevels: [1.5, 2.5, 3.5], lat, lon });
    // after saving, the form is the "new sensor" form again
    await page.getByRole('form', { name: 'Thêm cảm biến mới' }).waitFor();

    // an edit keeps the secret: the device still gets in with it
    const before = await login('edit-me', firstSecret);
    expect(before.ok).toBe(true);
    const closed = new Promise<void>((resolve) => before.client!.once('close', () => resolve()));

    await row.getByRole('button', { name: 'Đổi khóa bí mật' }).click();
    await expect
      .poll(async () => secretIn((await page.locator('output.sensor-admin-secret').textContent()) ?? ''))
      .toMatch(/^\S{40,}$/);
    const rotated = secretIn((await page.locator('output.sensor-admin-secret').textContent())!)!;
    expect(rotated).not.toBe(firstSecret);
    await closed; // the live session on the old secret is closed at once
    expect((await login('edit-me', firstSecret)).ok).toBe(false);
    const after = await login('edit-me', rotated);
    expect(after.ok).toBe(true);
    await after.client!.endAsync();

    await row.getByRole('button', { name: 'Tắt' }).click();
    await row.getByText('Đã tắt').waitFor();
    expect((await entry('edit-me')).status).toBe(404); // operators' view shows enabled sensors only
    expect((await login('edit-me', rotated)).ok).toBe(false);
    await row.getByRole('button', { name: 'Bật lại' }).click();
    await row.getByText('Đang hoạt động').waitFor();
    const back = await login('edit-me', rotated);
    expect(back.ok).toBe(true);
    await back.client!.endAsync();

    // delete: the confirmation names the sensor; "cancel" keeps it, "OK" removes it
    answer.accept = false;
    await row.getByRole('button', { name: 'Xóa', exact: true }).click();
    await expect.poll(() => dialogs.at(-1)).toContain('Xóa hẳn cảm biến edit-me?');
    expect((await entry('edit-me')).status).toBe(200);
    answer.accept = true;
    await row.getByRole('button', { name: 'Xóa', exact: true }).click();
    await page.getByText('Đã xóa cảm biến edit-me.').waitFor();
    await expect.poll(() => row.count()).toBe(0);
    expect((await entry('edit-me')).status).toBe(404);
    expect((await login('edit-me', rotated)).ok).toBe(false);
    await page.close();
  }, 120_000);

  it('sends nothing when nothing changed, and cancel brings the new-sensor form back', async () => {
    const { page } = await openPage();
    const row = page.getByRole('row').filter({ hasText: 'water-kimlong' });
    await row.waitFor({ timeout: 15_000 });
    const was = (await entry('water-kimlong')).sensor;
    await row.getByRole('button', { name: 'Sửa', exact: true }).click();
    const form = page.getByRole('form', { name: 'Sửa cảm biến' });
    await expect.poll(() => form.getByLabel('Mã cảm biến').inputValue()).toBe('water-kimlong');
    await form.getByRole('button', { name: 'Lưu thay đổi' }).click();
    await form.getByText('Không có gì thay đổi.').waitFor();
    expect((await entry('water-kimlong')).sensor).toEqual(was);
    await form.getByRole('button', { name: 'Hủy sửa' }).click();
    const fresh = page.getByRole('form', { name: 'Thêm cảm biến mới' });
    await fresh.waitFor();
    expect(await fresh.getByLabel('Mã cảm biến').inputValue()).toBe('');
    expect(await fresh.getByLabel('Mã cảm biến').getAttribute('readonly')).toBeNull();
    await page.close();
  }, 60_000);
});
