import { describe, expect, it } from 'vitest';
import { buildConsole } from '../build-console.ts';

/** A fact about the build, not a timing: the script a browser downloads stays under 300 KB gzipped. */
const BUDGET_BYTES = 300 * 1024;

describe('console bundle', () => {
  it('sends less than 300 KB of gzipped JavaScript and loads nothing from other hosts', async () => {
    const bundle = await buildConsole();
    console.log(`console: ${(bundle.jsGzipBytes / 1024).toFixed(1)} KB of gzipped JavaScript`);
    expect(bundle.jsGzipBytes).toBeGreaterThan(20 * 1024); // Leaflet and uPlot are in it: the build is real
    expect(bundle.jsGzipBytes).toBeLessThan(BUDGET_BYTES);
    const css = [...bundle.assets.values()].find((a) => a.path.endsWith('.css'))!;
    // the map works with no internet: no stylesheet pulls fonts or images from elsewhere
    expect(css.body.toString()).not.toMatch(/url\(\s*['"]?(https?:)?\/\//);
    const page = bundle.assets.get('/')!.body.toString();
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});
