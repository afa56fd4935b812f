import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';
import { launchChromium } from './browser.ts';

/**
 * The alarm sound of a new critical alert, in a real Chromium: the page's own WebAudio oscillators are
 * wrapped before any script runs, so every start is counted while the sound still plays. One alert per
 * step, each on its own sensor and rule: muted, then a non-critical alert, then a critical one.
 */

// Sent as source text, run before the console's scripts: counts OscillatorNode starts and what the audio
// context was doing then ('running' means the beep was really played, not queued on a suspended context).
const COUNT_OSCILLATOR_STARTS = `(() => {
  const starts = [];
  Object.defineProperty(window, '__oscillatorStarts', { value: starts });
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    starts.push({ state: this.context.state, frequency: this.frequency.value });
    return start.apply(this, args);
  };
})();`;

interface OscillatorStart {
  state: AudioContextState;
  frequency: number;
}

function thresholdRule(id: string, sensorId: string, severity: 'critical' | 'high', title: { vi: string; en: string }) {
  return {
    id,
    type: 'threshold',
    severity,
    category: 'naturalDisaster',
    subCategory: 'flood',
    selector: { sensorIds: [sensorId] },
    metric: 'waterLevel',
    above: 0.7,
    title,
  };
}

// Below flood alarm level I and a slow rise: no built-in rule fires beside the test's own.
const MUTED = thresholdRule('sound-e2e-muted', 'water-davien', 'critical', {
  vi: 'Kiểm thử âm báo: đã tắt âm',
  en: 'Sound test: muted',
});
const QUIET = thresholdRule('sound-e2e-high', 'water-truongtien', 'high', {
  vi: 'Kiểm thử âm báo: mức cao',
  en: 'Sound test: high',
});
const LOUD = thresholdRule('sound-e2e-critical', 'water-kimlong', 'critical', {
  vi: 'Kiểm thử âm báo: khẩn cấp',
  en: 'Sound test: critical',
});

describe('alarm sound of the operator console', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let page: Page;
  const devices: MqttClient[] = [];

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform(), launchChromium()]);
    for (const rule of [MUTED, QUIET, LOUD]) await platform.alerts.rules.put(rule, 'sound-e2e');
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'vi-VN' });
    await context.addInitScript(COUNT_OSCILLATOR_STARTS);
    page = await context.newPage();
    await page.goto(platform.httpUrl);
    await page.getByLabel('Mã truy cập').fill(platform.operatorToken);
    // the click that signs in is also the user gesture browsers want before they play sound
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByRole('heading', { name: 'Cảnh báo trực tiếp' }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(devices.map((d) => d.endAsync().catch(() => undefined)));
    await platform?.stop();
  });

  const starts = () => page.evaluate('window.__oscillatorStarts') as Promise<OscillatorStart[]>;
  /** the starts since `from`, so each step is judged on its own alert */
  const startsSince = async (from: number) => (await starts()).slice(from);

  async function raise(rule: typeof LOUD): Promise<void> {
    const sensorId = rule.selector.sensorIds[0]!;
    const device = await platform.connectDevice(sensorId);
    devices.push(device);
    await publishAcked(
      device,
      `ioc/water/${sensorId}/readings`,
      JSON.stringify({ ts: Date.now() - 60_000, waterLevel: 0.6 }),
    );
    await publishAcked(device, `ioc/water/${sensorId}/readings`, JSON.stringify({ ts: Date.now(), waterLevel: 0.9 }));
    await page.getByRole('listitem').filter({ hasText: rule.title.vi }).waitFor({ timeout: 15_000 });
  }

  it('stays silent for a critical alert while muted, and still flashes the title', async () => {
    const mute = page.getByRole('button', { name: 'Tắt âm báo' });
    await mute.click();
    expect(await mute.getAttribute('aria-pressed')).toBe('true');
    const from = (await starts()).length;
    await raise(MUTED);
    await expect.poll(() => page.title(), { timeout: 5000 }).toContain('CẢNH BÁO KHẨN CẤP');
    expect(await startsSince(from)).toEqual([]);
  });

  it('stays silent for a new alert that is not critical', async () => {
    const mute = page.getByRole('button', { name: 'Tắt âm báo' });
    await mute.click();
    expect(await mute.getAttribute('aria-pressed')).toBe('false');
    const from = (await starts()).length;
    // the beep would start when the event arrives, before its row is drawn
    await raise(QUIET);
    expect(await startsSince(from)).toEqual([]);
  });

  it('beeps once (two tones, on a running audio context) for a new critical alert', async () => {
    const from = (await starts()).length;
    await raise(LOUD);
    await expect.poll(async () => (await startsSince(from)).length, { timeout: 5000 }).toBe(2);
    expect(await startsSince(from)).toEqual([
      { state: 'running', frequency: 880 },
      { state: 'running', frequency: 660 },
    ]);
  });
}, 120_000);
