import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../alerts/alert-model.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';
import { launchChromium } from './browser.ts';

/**
 * A ward officer works a flood alert in the real browser: "my agency's" shows the ward's alert and not the
 * command's, the dialog shows who has it and the SOP, a step is ticked off, the workflow buttons take it
 * from acknowledged to in progress, and (in English) to resolved with an outcome. Then the IOC duty officer
 * reassigns the command's alert to another ward and a person of it, which the ward officer could not.
 */
const KIMLONG = 'Lũ vượt báo động I: Trạm thủy văn Kim Long (sông Hương)';
const PHUOC = 'Lũ vượt báo động II: Trạm thủy văn Phú Ốc (sông Bồ)';
const PASSWORD = 'mat-khau-phuong-kim-long';
const DUTY_PASSWORD = 'mat-khau-truc-ban-ioc';

describe('console: the handling workflow', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let page: Page;
  let alertId = '';

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform(), launchChromium()]);
    expect(
      (
        await platform.request('POST', '/api/accounts', {
          token: platform.adminToken,
          body: { name: 'kimlong.truc', role: 'operator', password: PASSWORD },
        })
      ).status,
    ).toBe(201);
    // the IOC duty officer of Huế's operations.yaml, with the IOC duty role: may handle any agency's alert
    expect(
      (
        await platform.request('POST', '/api/accounts', {
          token: platform.adminToken,
          body: { name: 'ioc.truc', role: 'operator', password: DUTY_PASSWORD, iocDuty: true },
        })
      ).status,
    ).toBe(201);
    for (const [sensor, level] of [
      ['water-kimlong', 1.2],
      ['water-phuoc', 3.2],
    ] as const) {
      const device = await platform.connectDevice(sensor);
      await publishAcked(device, `ioc/water/${sensor}/readings`, JSON.stringify({ waterLevel: level }));
    }
    await platform.alerts.idle();
    alertId = platform.alerts.open().find((a) => a.sensorId === 'water-kimlong' && a.ruleId === 'flood-level-1')!.id;
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, locale: 'vi-VN' });
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('filters to my agency, shows the SOP, ticks a step, acknowledges and starts work (vi)', async () => {
    await page.goto(platform.httpUrl);
    await page.getByLabel('Tên đăng nhập').fill('kimlong.truc');
    await page.getByLabel('Mật khẩu').fill(PASSWORD);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByRole('heading', { name: 'Cảnh báo trực tiếp' }).waitFor({ timeout: 15_000 });
    await page.getByRole('listitem').filter({ hasText: PHUOC }).waitFor({ timeout: 15_000 });

    await page.getByLabel('Cảnh báo của').selectOption('agency');
    await expect.poll(() => page.getByRole('listitem').filter({ hasText: PHUOC }).count()).toBe(0);
    const row = page.getByRole('listitem').filter({ hasText: KIMLONG });
    await expect.poll(() => row.textContent()).toContain('UBND phường Kim Long');
    await page.getByLabel('Cảnh báo của').selectOption('mine');
    await expect.poll(() => row.count()).toBe(0);
    await page.getByLabel('Cảnh báo của').selectOption('agency');

    await row.getByRole('button', { name: 'Tiếp nhận' }).click();
    const dialog = page.getByRole('dialog', { name: 'Tiếp nhận cảnh báo' });
    await dialog.getByText('Đơn vị phụ trách: UBND phường Kim Long').waitFor();
    await dialog.getByRole('heading', { name: 'Quy trình ứng phó lũ vượt báo động' }).waitFor();
    await dialog.getByRole('button', { name: /^Đánh dấu đã làm: Đối chiếu số liệu trạm/ }).click();
    await dialog.getByText(/Đã làm: kimlong\.truc/).waitFor();
    await dialog.getByRole('button', { name: 'Xác nhận tiếp nhận' }).click();
    await expect.poll(() => row.textContent()).toContain('Đã tiếp nhận');

    await row.getByRole('button', { name: 'Bắt đầu xử lý' }).click();
    const start = page.getByRole('dialog', { name: 'Bắt đầu xử lý cảnh báo' });
    await start.getByRole('button', { name: 'Xác nhận bắt đầu xử lý' }).click();
    await expect.poll(() => row.textContent()).toContain('Đang xử lý');
    const stored = (await platform.request('GET', `/api/alerts/${alertId}`)).json as { alert: Alert };
    expect(stored.alert).toMatchObject({
      state: 'inProgress',
      acknowledgedBy: 'kimlong.truc',
      workflow: { inProgressBy: 'kimlong.truc', steps: [{ stepId: 'verify', by: 'kimlong.truc' }] },
    });
  });

  it("resolves with an outcome from the dialog's workflow buttons (en)", async () => {
    await page.getByRole('combobox', { name: 'Ngôn ngữ' }).selectOption('en');
    await page.getByRole('heading', { name: 'Live alerts' }).waitFor();
    expect(await page.getByLabel('Alerts of').inputValue()).toBe('agency');
    const row = page.getByRole('listitem').filter({ hasText: 'Flood above alarm level I' });
    await expect.poll(() => row.textContent()).toContain('In progress');
    await row.getByRole('button', { name: 'Resolve' }).click();
    const dialog = page.getByRole('dialog', { name: 'Resolve alert' });
    await dialog.getByRole('heading', { name: 'Flood above alarm level: response procedure' }).waitFor();
    await dialog.getByText(/Done: kimlong\.truc/).waitFor();
    // the dialog's workflow buttons: in progress allows only resolving, which is the chosen one
    const buttons = dialog.getByRole('group', { name: 'Handling steps' }).getByRole('button');
    expect(await buttons.allTextContents()).toEqual(['Resolve']);
    expect(await buttons.first().getAttribute('aria-pressed')).toBe('true');
    // an ad hoc silence for the gauge while its debris is cleared: an end and a reason
    await dialog.getByRole('combobox', { name: 'Hours' }).selectOption('4');
    await dialog.getByRole('button', { name: 'Silence', exact: true }).click();
    await dialog.getByText('Please give a reason.').waitFor();
    await dialog.getByRole('textbox', { name: 'Reason' }).fill('gauge cleaning');
    await dialog.getByRole('button', { name: 'Silence', exact: true }).click();
    await dialog.getByRole('status').filter({ hasText: 'Notifications silenced: gauge cleaning' }).waitFor();
    const silences = (await platform.request('GET', '/api/silences?active=true')).json as {
      silences: Array<{ match: { sensorId: string[] }; createdBy: string; endsAt: number; createdAt: number }>;
    };
    expect(silences.silences).toMatchObject([{ match: { sensorId: ['water-kimlong'] }, createdBy: 'kimlong.truc' }]);
    expect(silences.silences[0]!.endsAt - silences.silences[0]!.createdAt).toBeGreaterThan(3.9 * 3_600_000);
    await expect
      .poll(
        async () =>
          ((await platform.request('GET', `/api/alerts/${alertId}`)).json as { alert: Alert }).alert.workflow?.silence
            ?.reason,
      )
      .toBe('gauge cleaning');
    await dialog.getByRole('combobox', { name: 'Outcome' }).selectOption('falseAlarm');
    await dialog.getByRole('button', { name: 'Confirm resolution' }).click();
    await expect.poll(() => row.count()).toBe(0);
    const stored = (await platform.request('GET', `/api/alerts/${alertId}`)).json as { alert: Alert };
    expect(stored.alert).toMatchObject({
      state: 'resolved',
      resolvedBy: 'kimlong.truc',
      workflow: { outcome: 'falseAlarm' },
    });
  });

  it("the duty desk reassigns the command's alert to a ward and a person of it; no other ward may", async () => {
    const phuoc = platform.alerts.open().find((a) => a.sensorId === 'water-phuoc' && a.ruleId === 'flood-level-2');
    const phuocId = phuoc!.id;
    // the Kim Long ward officer (English by now) opens the command's alert: no reassigning offered
    await page.getByLabel('Alerts of').selectOption({ value: '' });
    const theirs = page.getByRole('listitem').filter({ hasText: 'Flood above alarm level II' });
    await theirs.getByRole('button', { name: 'Acknowledge' }).click();
    const seen = page.getByRole('dialog', { name: 'Acknowledge alert' });
    await seen.getByText('Agency: Disaster Prevention and Search and Rescue Command').waitFor();
    expect(await seen.getByRole('group', { name: 'Reassign this alert' }).count()).toBe(0);
    await seen.getByRole('button', { name: 'Cancel' }).click();

    const duty = await browser.newPage({ viewport: { width: 1600, height: 1000 }, locale: 'vi-VN' });
    try {
      await duty.goto(platform.httpUrl);
      await duty.getByLabel('Tên đăng nhập').fill('ioc.truc');
      await duty.getByLabel('Mật khẩu').fill(DUTY_PASSWORD);
      await duty.getByRole('button', { name: 'Đăng nhập' }).click();
      const row = duty.getByRole('listitem').filter({ hasText: PHUOC });
      await row.waitFor({ timeout: 15_000 });
      await expect.poll(() => row.textContent()).toContain('Ban Chỉ huy Phòng chống thiên tai');
      await row.getByRole('button', { name: 'Tiếp nhận' }).click();
      const dialog = duty.getByRole('dialog', { name: 'Tiếp nhận cảnh báo' });
      const assign = dialog.getByRole('group', { name: 'Giao lại cảnh báo' });
      const agency = assign.getByRole('combobox', { name: 'Giao cho đơn vị' });
      expect(await agency.inputValue()).toBe('bch-pctt');
      await agency.selectOption({ label: 'UBND phường Hương Trà' });
      const person = assign.getByRole('combobox', { name: 'Người phụ trách' });
      const people = await person.locator('option').allTextContents();
      expect(people).toEqual(['Cả đơn vị (chưa giao cho ai)', 'huongtra.truc']);
      await person.selectOption('huongtra.truc');
      // a note is required: it is the reason kept in the alert's history
      await assign.getByRole('button', { name: 'Giao việc' }).click();
      await assign.getByText('Vui lòng ghi chú khi giao việc.').waitFor();
      const note = 'Đê bao Hương Trà: phường kiểm tra tại chỗ';
      await assign.getByRole('textbox', { name: 'Ghi chú giao việc' }).fill(note);
      await assign.getByRole('button', { name: 'Giao việc' }).click();
      await assign.getByText('Đã giao: UBND phường Hương Trà · huongtra.truc').waitFor();
      await dialog.getByText('Đơn vị phụ trách: UBND phường Hương Trà · Giao cho huongtra.truc').waitFor();
      await dialog.getByRole('button', { name: 'Hủy' }).click();
      await expect.poll(() => row.textContent()).toContain('UBND phường Hương Trà · Giao cho huongtra.truc');
    } finally {
      await duty.close();
    }
    const stored = (await platform.request('GET', `/api/alerts/${phuocId}`)).json as { alert: Alert };
    expect(stored.alert).toMatchObject({
      state: 'firing',
      workflow: { agencyId: 'ubnd-huong-tra', assignee: 'huongtra.truc', route: 'manual' },
    });
    expect(stored.alert.workflow!.log.at(-1)).toMatchObject({
      action: 'reassigned',
      by: 'ioc.truc',
      agencyId: 'ubnd-huong-tra',
      assignee: 'huongtra.truc',
      note: 'Đê bao Hương Trà: phường kiểm tra tại chỗ',
    });
    // the ward officer's list follows the live stream: the alert now shows its new assignee
    await expect
      .poll(() => theirs.textContent())
      .toContain("Hương Trà Ward People's Committee · Assigned to huongtra.truc");
  });
}, 180_000);
