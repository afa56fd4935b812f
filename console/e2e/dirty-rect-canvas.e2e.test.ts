import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser.ts';

/**
 * The map's canvas redraws only the rectangles of the markers that changed (dirty-rect-canvas.ts). In a
 * real Chromium: after scattered restyles (colour, ring, dash, radius, draw order) its pixels must be
 * exactly those of a full redraw, and it must have drawn far fewer markers than a full redraw does.
 */
const MARKERS = 3000;

// A page with Leaflet, the renderer and nothing else; helpers on window for the test to call.
const ENTRY = `
import * as L from 'leaflet';
import { dirtyRectCanvas } from './dirty-rect-canvas.ts';
const map = L.map('map', { center: [16.46, 107.59], zoom: 13, zoomAnimation: false, fadeAnimation: false });
const renderer = dirtyRectCanvas({ padding: 0 });
let seed = 7;
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
const markers = [];
for (let i = 0; i < ${MARKERS}; i++) {
  markers.push(
    L.circleMarker([16.40 + random() * 0.12, 107.52 + random() * 0.15], {
      renderer, radius: 5, color: '#0b1520', weight: 1.5, fillColor: '#2e7d32', fillOpacity: 0.95,
    }).addTo(map),
  );
}
let drawn = 0;
const updateCircle = renderer._updateCircle;
renderer._updateCircle = function (layer) { if (this._drawing) drawn++; return updateCircle.call(this, layer); };
const frames = (n) => new Promise((resolve) => {
  const step = () => (n-- > 0 ? requestAnimationFrame(step) : resolve());
  step();
});
const pixels = () => {
  const canvas = renderer._container;
  return canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
};
window.canvasTest = {
  async restyle(count) {
    await frames(2);
    drawn = 0;
    for (let i = 0; i < count; i++) {
      const marker = markers[(i * 7919) % markers.length];
      marker.setStyle({
        fillColor: '#d32f2f',
        color: i % 2 ? '#ffffff' : '#d32f2f',
        weight: i % 2 ? 2 : 3,
        dashArray: i % 2 ? '4 3' : null,
      });
      marker.setRadius(i % 2 ? 6 : 7);
      if (i % 3 === 0) marker.bringToFront();
      else if (i % 3 === 1) marker.bringToBack();
    }
    await frames(2);
    return drawn;
  },
  /** redraws everything as Leaflet does after a pan, and says how far each pixel moved (premultiplied) */
  fullRedraw() {
    const before = pixels();
    drawn = 0;
    renderer._redrawBounds = null;
    renderer._redraw();
    const after = pixels();
    let over32 = 0, max = 0;
    for (let i = 0; i < after.length; i += 4) {
      let delta = Math.abs(after[i + 3] - before[i + 3]);
      for (let c = 0; c < 3; c++) {
        delta = Math.max(delta, Math.abs(after[i + c] * after[i + 3] - before[i + c] * before[i + 3]) / 255);
      }
      if (delta > 32) over32++;
      max = Math.max(max, delta);
    }
    return { drawn, pixels: after.length / 4, over32, max };
  },
};
`;

describe('the map canvas that redraws changed markers only', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const bundle = await build({
      stdin: { contents: ENTRY, resolveDir: join(import.meta.dirname, '..', 'src'), loader: 'ts' },
      bundle: true,
      write: false,
      format: 'iife',
      logLevel: 'silent',
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    await page.setContent('<div id="map" style="width: 900px; height: 700px"></div>');
    await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
  });

  afterAll(async () => {
    await browser?.close();
  });

  const restyle = (count: number) => page.evaluate(`window.canvasTest.restyle(${count})`) as Promise<number>;
  const fullRedraw = () =>
    page.evaluate('window.canvasTest.fullRedraw()') as Promise<{
      drawn: number;
      pixels: number;
      over32: number;
      max: number;
    }>;

  // Clipped and unclipped drawing anti-alias a circle's edge a little differently (Leaflet's own partial
  // redraws show the same), so "the same pixels" means: no pixel off by more than half its range, and only
  // a few edge pixels off by more than 32 of 255. A marker left stale or missing changes dozens of pixels
  // by far more than that.
  it('leaves the pixels of a full redraw after scattered restyles, drawing a fraction of the markers', async () => {
    expect((await fullRedraw()).drawn).toBe(MARKERS);
    const drawn = await restyle(60);
    expect(drawn).toBeGreaterThan(60);
    expect(drawn).toBeLessThan(MARKERS / 4);
    const full = await fullRedraw();
    expect(full.max).toBeLessThanOrEqual(128);
    expect(full.over32).toBeLessThan(full.pixels / 5000);
  });

  it('falls back to one full redraw when most markers change', async () => {
    expect(await restyle(MARKERS)).toBe(MARKERS);
    const full = await fullRedraw();
    expect(full.max).toBe(0);
  });
});
