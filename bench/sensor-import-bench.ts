import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCity } from '../config/city-config.ts';
import { loadCityBounds } from '../config/sensors/city-bounds.ts';
import { checkImport, checkImportInSlices, type ImportCheck } from '../config/sensors/sensor-import.ts';

/**
 * `npm run bench -- sensor-import [--rows 10000] [--rounds 3]`: how long a bulk import check of N CSV rows
 * against Huế's boundary (1,297 vertices) takes, and the longest the event loop goes without a 5 ms tick
 * while it runs: all at once (the baseline) and in slices as POST /api/sensors/import runs it.
 */
const { values } = parseArgs({
  options: { rows: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '3' } },
});
const rowsWanted = Number(values.rows);
const rounds = Number(values.rounds);
const root = join(import.meta.dirname, '../config');
const city = loadCity(join(root, 'cities/hue/city.yaml'), join(root, 'kinds'));
const ctx = { kinds: city.kinds, bounds: loadCityBounds(city.boundaryFile) };
const options = { exists: () => false, updateExisting: false, maxRows: rowsWanted };
const lines = ['id,kind,name,lat,lon,district,tags'];
for (let i = 0; i < rowsWanted; i++) {
  lines.push(
    `air-bulk-${i},air,Trạm ${i},${(16.3 + (i % 100) / 500).toFixed(5)},` +
      `${(107.5 + Math.floor(i / 100) / 500).toFixed(5)},Phú Xuân,site=bulk`,
  );
}
const text = lines.join('\n');

async function measure(run: () => Promise<ImportCheck>): Promise<{ ms: number; gap: number; planned: number }> {
  let last = performance.now();
  let gap = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }, 5);
  await new Promise((r) => setTimeout(r, 30));
  gap = 0;
  const start = performance.now();
  const check = await run();
  const ms = performance.now() - start;
  await new Promise((r) => setTimeout(r, 30));
  clearInterval(tick);
  return { ms, gap, planned: check.plan.length };
}

console.log(`${rowsWanted} rows (${(text.length / 1024).toFixed(0)} KB of CSV), ${rounds} rounds each, alternating`);
for (let round = 1; round <= rounds; round++) {
  for (const [name, run] of [
    ['at once (baseline)', async () => checkImport('csv', text, ctx, options)],
    ['in slices (the API)', () => checkImportInSlices('csv', text, ctx, options)],
  ] as const) {
    const r = await measure(run);
    console.log(
      `round ${round} ${name.padEnd(20)} ${r.planned} rows checked in ${r.ms.toFixed(0).padStart(5)} ms; ` +
        `longest event-loop gap ${r.gap.toFixed(0).padStart(5)} ms`,
    );
  }
}
