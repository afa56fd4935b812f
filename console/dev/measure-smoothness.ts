/**
 * Measures how smooth the console stays with a large fleet and an alert storm (a measurement, not a
 * test: it prints numbers and never fails). Same run, two phases on the same page:
 *   baseline: 5,000 sensors on the map, no new alerts;
 *   storm:    the same, plus 100 alerts per second on the live stream.
 * For each: animation-frame intervals (median, p95, max), long tasks (> 50 ms) and DOM size.
 *
 *   npx tsx console/dev/measure-smoothness.ts [--sensors 5000] [--alerts-per-second 100] [--seconds 10]
 */
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { launchChromium } from '../e2e/browser.ts';
import { DEV_TOKEN, startDevHarness } from './dev-harness.ts';

interface FrameStats {
  frames: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  longTasks: number;
  longTaskMs: number;
  domNodes: number;
  alertRows: number;
}

// Sent as source text: tsx would otherwise wrap the inner functions in a helper the page does not have.
const MEASURE_SOURCE = `async (ms) => {
  const intervals = [];
  const long = [];
  const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) long.push(e.duration); });
  observer.observe({ type: 'longtask', buffered: false });
  await new Promise((resolve) => {
    let last = performance.now();
    const end = last + ms;
    const tick = (now) => {
      intervals.push(now - last);
      last = now;
      if (now < end) requestAnimationFrame(tick); else resolve();
    };
    requestAnimationFrame(tick);
  });
  observer.disconnect();
  const sorted = [...intervals].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    frames: intervals.length, medianMs: at(0.5), p95Ms: at(0.95), maxMs: sorted[sorted.length - 1] ?? 0,
    longTasks: long.length, longTaskMs: long.reduce((a, b) => a + b, 0),
    domNodes: document.getElementsByTagName('*').length, alertRows: document.querySelectorAll('.alert-row').length,
  };
}`;

async function measure(page: Page, seconds: number): Promise<FrameStats> {
  return page.evaluate(`(${MEASURE_SOURCE})(${seconds * 1000})`) as Promise<FrameStats>;
}

const { values } = parseArgs({
  options: { sensors: { type: 'string' }, 'alerts-per-second': { type: 'string' }, seconds: { type: 'string' } },
});
const sensors = Number(values.sensors ?? 5000);
const rate = Number(values['alerts-per-second'] ?? 100);
const seconds = Number(values.seconds ?? 10);

const harness = await startDevHarness({ sensors });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await page.goto(harness.url);
  await page.getByLabel('Mã truy cập').fill(DEV_TOKEN);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.locator('.alert-row').first().waitFor();
  await page.waitForTimeout(2000);
  const baseline = await measure(page, seconds);

  let raised = 0;
  const ids = [...Array(sensors).keys()];
  const severities = ['critical', 'high', 'medium', 'low', 'informational'] as const;
  const storm = setInterval(() => {
    for (let k = 0; k < rate / 10; k++) {
      raised++;
      harness.raise(harness.sensorIds[ids[(raised * 7919) % sensors]!]!, severities[raised % 5]!);
    }
  }, 100);
  const during = await measure(page, seconds);
  clearInterval(storm);

  const row = (name: string, s: FrameStats) =>
    `${name.padEnd(9)} ${String(s.frames).padStart(6)} ${s.medianMs.toFixed(1).padStart(8)} ` +
    `${s.p95Ms.toFixed(1).padStart(8)} ${s.maxMs.toFixed(1).padStart(8)} ${String(s.longTasks).padStart(6)} ` +
    `${s.longTaskMs.toFixed(0).padStart(8)} ${String(s.domNodes).padStart(7)} ` +
    `${String(s.alertRows).padStart(5)}`;
  console.log(`${sensors} sensors, ${seconds} s per phase, storm ${rate} alerts/s (${raised} raised)`);
  console.log('phase     frames   median      p95      max  longT  longTms   nodes  rows');
  console.log(row('baseline', baseline));
  console.log(row('storm', during));
} finally {
  await browser.close();
  await harness.close();
}
