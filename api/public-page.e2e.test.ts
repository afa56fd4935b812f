import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../console/e2e/browser.ts';
import { createManualClock } from '../core/clock.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * Processing times over the real platform on a manual clock: the operators' KPI API against known times,
 * and the public page in the real browser with no login, showing the figures and nothing personal (the
 * account that acted, its note, its token, the sensor ids, the alert texts).
 */
const MIN = 60_000;
// Thursday 15 Oct 2026, 09:00 in Huế
const START = Date.UTC(2026, 9, 15, 2, 0);
const NOTE = 'ghi-chu-noi-bo-khong-cong-bo';
const PASSWORD = 'mat-khau-ban-chi-huy-pctt';
let platform: TestPlatform | undefined;
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe('processing times: KPI API and the public page (real platform, simulated time, real browser)', () => {
  it('measures known times, refuses bad periods, and publishes them with nothing sensitive', async () => {
    const clock = createManualClock(START);
    platform = await startTestPlatform({ clock });
    const p = platform;
    const admin = { token: p.adminToken };
    expect(
      (
        await p.request('POST', '/api/accounts', {
          ...admin,
          body: { name: 'pctt.truc', role: 'operator', password: PASSWORD },
        })
      ).status,
    ).toBe(201);
    const token = (
      (await p.request('POST', '/api/accounts/pctt.truc/tokens', { ...admin, body: { name: 'test' } })).json as {
        token: string;
      }
    ).token;
    const device = await p.connectDevice('water-kimlong');
    await publishAcked(device, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 2.2 }));
    await p.alerts.idle();
    const l2 = p.alerts.open().find((a) => a.ruleId === 'flood-level-2')!;
    const l1 = p.alerts.open().find((a) => a.ruleId === 'flood-level-1')!;
    clock.advance(4 * MIN);
    expect((await p.request('POST', `/api/alerts/${l2.id}/ack`, { token, body: { note: NOTE } })).status).toBe(200);
    clock.advance(26 * MIN);
    expect(
      (await p.request('POST', `/api/alerts/${l2.id}/resolve`, { token, body: { note: NOTE, outcome: 'handled' } }))
        .status,
    ).toBe(200);
    await p.alerts.idle();

    // the other sensors of the city stay silent and raise no-data alerts of their own: look at the rules'
    const kpi = await p.request('GET', '/api/kpi/handling?from=2026-10-15&to=2026-10-16&groupBy=rule', { token });
    expect(kpi.status).toBe(200);
    const body = kpi.json as {
      groups: Array<{
        key: string;
        alerts: number;
        open: number;
        acknowledge: { medianMs: number; withinTarget: number };
        resolve: { medianMs: number; withinTarget: number };
      }>;
    };
    expect(body.groups.find((g) => g.key === 'flood-level-2')).toMatchObject({
      alerts: 1,
      open: 0,
      acknowledge: { medianMs: 4 * MIN, withinTarget: 1 },
      resolve: { medianMs: 30 * MIN, withinTarget: 1 },
    });
    expect(body.groups.find((g) => g.key === 'flood-level-1')).toMatchObject({
      alerts: 1,
      open: 1,
      acknowledge: { medianMs: null },
      resolve: { medianMs: null },
    });
    // the day before holds none; bad periods are refused by name; a viewer and no login are refused
    expect(
      (
        (await p.request('GET', '/api/kpi/handling?from=2026-10-14&to=2026-10-15', { token })).json as {
          total: { alerts: number };
        }
      ).total.alerts,
    ).toBe(0);
    const bad = await p.request('GET', '/api/kpi/handling?from=hôm-qua', { token });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('from:');
    expect((await p.request('GET', '/api/kpi/handling?from=2026-10-16&to=2026-10-15', { token })).status).toBe(400);
    expect((await p.request('GET', '/api/kpi/handling?groupBy=password', { token })).status).toBe(400);
    expect((await p.request('GET', '/api/kpi/handling', { token: null })).status).toBe(401);

    // the handover report on demand: JSON, and a printable page by Accept or format=html
    const handover = await p.request('GET', '/api/reports/handover?from=2026-10-15T06:00', { token });
    expect(handover.status).toBe(200);
    expect((handover.json as { alertsByType: unknown[] }).alertsByType).toContainEqual({ type: 'flood', count: 2 });
    const printable = await p.request('GET', '/api/reports/handover?from=2026-10-15T06:00', {
      token,
      headers: { accept: 'text/html' },
    });
    expect(printable.text).toContain('Báo cáo giao ca');
    expect(printable.text).toContain('06:00 15/10/2026');
    expect((await p.request('GET', '/api/reports/handover?format=html&lang=en', { token })).text).toContain(
      'Shift handover report',
    );
    expect((await p.request('GET', '/api/reports/handover', { token: null })).status).toBe(401);
    expect((await p.request('GET', '/api/reports/handover?from=2026-01-01&to=2026-10-15', { token })).status).toBe(400);

    const summary = await p.request('GET', '/api/public/summary', { token: null });
    expect(summary.status).toBe(200);
    const published = summary.json as {
      openIncidents: Array<{ district: string; type: string; count: number }>;
      week: { acknowledge: { medianMinutes: number; withinTarget: number }; resolve: { medianMinutes: number } };
    };
    expect(published.openIncidents).toContainEqual({ district: 'Kim Long', type: 'flood', count: 1 });
    // only the flood alert was acknowledged and resolved by a person: the week's times are its times
    expect(published.week).toMatchObject({ acknowledge: { medianMinutes: 4 }, resolve: { medianMinutes: 30 } });
    expect(typeof published.week.acknowledge.withinTarget).toBe('number');
    for (const secret of ['pctt.truc', NOTE, token, 'water-kimlong', l1.id]) expect(summary.text).not.toContain(secret);

    browser = await launchChromium();
    const page = await browser.newPage({ locale: 'vi-VN' });
    const response = await page.goto(`${p.httpUrl}/public`);
    expect(response!.status()).toBe(200);
    expect(response!.headers()['content-security-policy']).toBeTruthy();
    await expect(page.getByRole('heading', { name: 'Sự cố đang mở theo phường và loại' }).isVisible()).resolves.toBe(
      true,
    );
    const vi = await page.locator('body').innerText();
    expect(vi).toContain('Kim Long');
    expect(vi).toContain('Ngập lụt');
    expect(vi).toMatch(/Tuần này\s+\d+\s+4\s/);
    // no login form, and nothing personal or secret on the page or in its markup
    expect(await page.getByLabel('Tên đăng nhập').count()).toBe(0);
    const html = await page.content();
    for (const secret of ['pctt.truc', NOTE, token, 'water-kimlong', l1.id, l1.title.vi, 'admin'])
      expect(html).not.toContain(secret);
    await page.getByRole('link', { name: 'English' }).click();
    await expect(page.getByRole('heading', { name: 'Open incidents by ward and type' }).isVisible()).resolves.toBe(
      true,
    );
    expect(await page.locator('body').innerText()).toContain('Flood');
    await page.close();

    // the operators' dashboard in the console: the flood command's times in the table, a chart, the handover
    const desk = await browser.newPage({ viewport: { width: 1400, height: 1000 }, locale: 'vi-VN' });
    await desk.goto(p.httpUrl);
    await desk.getByLabel('Tên đăng nhập').fill('pctt.truc');
    await desk.getByLabel('Mật khẩu').fill(PASSWORD);
    await desk.getByRole('button', { name: 'Đăng nhập' }).click();
    await desk.getByRole('button', { name: 'Thời gian xử lý' }).click();
    await desk.getByRole('heading', { name: 'Thời gian xử lý cảnh báo' }).waitFor({ timeout: 15_000 });
    const row = desk.getByRole('row').filter({ hasText: 'bch-pctt' });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.innerText()).toMatch(/bch-pctt\s+1\s+4\.0\s+4\.0\s+100 %\s+30\.0\s+30\.0\s+100 %/);
    expect(await desk.locator('.kpi-chart canvas').count()).toBeGreaterThan(0);
    await desk.getByRole('heading', { name: 'Báo cáo giao ca (8 giờ qua)' }).waitFor();
    await desk.close();
  }, 240_000);
});
