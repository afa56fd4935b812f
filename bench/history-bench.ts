import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { loadCity } from '../config/city-config.ts';
import { loadPlatformConfig } from '../config/platform-config.ts';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.ts';
import type { RecordGroup } from '../store/log-record.ts';
import { startTestPlatform } from '../test-support/platform-harness.ts';

/**
 * Issue 13 item 7: a month of the default city's sensors at one reading per 10 s, generated straight into
 * the embedded store (not via MQTT), rolled up, then served by a running platform:
 * - 30-day daily max over HTTP (served from the 1-hour roll-up), beside the per-row JSON query it replaced;
 * - GET /api/readings/latest while four clients run heavy queries (30-day daily max, a week of raw pages);
 * - bytes per sensor per year. `npm run bench -- history [--days 30] [--step 10]`
 */
const { values } = parseArgs({ options: { days: { type: 'string', default: '30' }, step: { type: 'string', default: '10' }, keep: { type: 'boolean' } } });
const DAYS = Number(values.days);
const STEP = Number(values.step) * 1000;
const DAY = 86_400_000;

const config = loadPlatformConfig({ env: {} });
const city = loadCity(config.cityFile, config.kindsDir);
const dir = mkdtempSync(join(tmpdir(), 'ioc-history-'));
const dataDir = join(dir, 'data');
const file = join(dataDir, 'ioc.sqlite');
const end = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;
const start = end - DAYS * DAY;

function pct(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const fmt = (ms: number) => ms.toFixed(1);

// --- load ------------------------------------------------------------------------------------------
const { mkdirSync } = await import('node:fs');
mkdirSync(dataDir, { recursive: true });
const db = new SqliteDatabase(file);
let readings = 0;
const loadStart = performance.now();
for (let day = 0; day < DAYS; day++) {
  const groups: RecordGroup[] = [];
  for (const sensor of city.sensors) {
    const metrics = Object.values(city.kinds.get(sensor.kind)!.metrics);
    const points: Array<[number, Record<string, number>]> = [];
    for (let ts = start + day * DAY; ts < start + (day + 1) * DAY; ts += STEP) {
      const fields: Record<string, number> = {};
      for (const m of metrics) fields[m.name] = Math.round((m.min + (m.max - m.min) * (0.3 + 0.2 * Math.sin(ts / 3_600_000 + m.name.length))) * 100) / 100;
      points.push([ts, fields]);
    }
    groups.push({ measurement: sensor.kind, tags: { sensorId: sensor.id, kind: sensor.kind, district: sensor.district }, points });
    readings += points.length;
  }
  db.writeGroups(groups);
}
const loadS = (performance.now() - loadStart) / 1000;
const rollStart = performance.now();
const policy = { rawKeepMs: {}, rollup1mKeepMs: 0, rollup1hKeepMs: 0, maxSpanMs: 2 * DAY };
for (let i = 0; i < 1000 && db.rollup(end + 60_000, policy).behind; i++);
const rollS = (performance.now() - rollStart) / 1000;
db.sync();
db.close();
console.log(`loaded ${readings.toLocaleString('en')} readings of ${city.sensors.length} sensors over ${DAYS} days in ${loadS.toFixed(0)} s (${Math.round(readings / loadS).toLocaleString('en')}/s); rolled up in ${rollS.toFixed(0)} s`);

// --- size ------------------------------------------------------------------------------------------
const sizeDb = new Database(file, { readonly: true });
sizeDb.pragma('wal_checkpoint(TRUNCATE)');
const total = statSync(file).size;
let tables: Array<{ name: string; bytes: number }> = [];
try {
  tables = sizeDb.prepare("SELECT name, SUM(pgsize) AS bytes FROM dbstat WHERE name IN ('readings', 'rollup_1m', 'rollup_1h') GROUP BY name").all() as typeof tables;
} catch { /* dbstat not compiled in */ }
// the baseline in the same run: the per-row JSON daily max the store answered before roll-ups
const sensor0 = city.sensors.find((s) => s.kind === 'air')!;
const field0 = Object.keys(city.kinds.get('air')!.metrics)[0]!;
const ids = (sizeDb.prepare('SELECT id FROM series WHERE sensor_id = ?').all(sensor0.id) as Array<{ id: number }>).map((r) => r.id);
const oldWay = sizeDb.prepare(`SELECT (ts - (ts % ${DAY})) AS b, MAX(json_extract(fields, ?)) FROM readings WHERE series_id IN (${ids.join(',')}) AND ts >= ? AND ts < ? AND json_type(fields, ?) IN ('integer', 'real') GROUP BY 1`);
const oldTimes: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  oldWay.all(`$."${field0}"`, start, end, `$."${field0}"`);
  oldTimes.push(performance.now() - t);
}
sizeDb.close();
const perSensorYear = (bytes: number) => (bytes / city.sensors.length / DAYS) * 365;
console.log(`store file ${(total / 1048576).toFixed(0)} MiB: ${(perSensorYear(total) / 1048576).toFixed(0)} MiB per sensor per year at this rate (all raw kept)`);
for (const t of tables) console.log(`  ${t.name}: ${(perSensorYear(t.bytes) / 1048576).toFixed(1)} MiB per sensor per year`);

// --- queries through a running platform ---------------------------------------------------------------
const p = await startTestPlatform({ dataDir, overrides: { ingest: { maxAgeDays: 30, maxFutureSkewSeconds: 300, maxReadingsPerPublish: 1000 } } });
const air = city.sensors.filter((s) => s.kind === 'air');
const dailyMax = (s: { id: string }) => `/api/sensors/${s.id}/readings?metric=${field0}&from=${start}&to=${end}&every=1d&fn=max`;
const timeIt = async (path: string): Promise<number> => {
  const t = performance.now();
  const res = await p.request('GET', path);
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`);
  return performance.now() - t;
};
const rawPage: number[] = [];
for (let i = 0; i < 5; i++) rawPage.push(await timeIt(`/api/sensors/${air[i]!.id}/readings?metric=${field0}&from=${end - 7 * DAY}&to=${end}`));
const quiet: number[] = [];
for (let i = 0; i < 60; i++) quiet.push(await timeIt(dailyMax(air[i % air.length]!)));

let heavy = true;
let heavyDone = 0;
const heavyClient = async (n: number) => {
  while (heavy) {
    const s = air[(n + heavyDone) % air.length]!;
    await timeIt(dailyMax(s)); // the load: four clients running the 30-day daily max
    heavyDone++;
  }
};
const clients = [0, 1, 2, 3].map(heavyClient);
const latest: number[] = [];
const storeLatest: number[] = [];
for (let i = 0; i < 100; i++) {
  latest.push(await timeIt('/api/readings/latest'));
  const t = performance.now();
  await p.store.latest({});
  storeLatest.push(performance.now() - t);
  await new Promise((r) => setTimeout(r, 20));
}
const loaded: number[] = [];
for (let i = 0; i < 20; i++) loaded.push(await timeIt(dailyMax(air[i % air.length]!)));
heavy = false;
await Promise.all(clients);
await p.stop();
if (!values.keep) rmSync(dir, { recursive: true, force: true });

console.log(`30-day daily max, per-row JSON (before, same file): p50 ${fmt(pct(oldTimes, 50))} ms, max ${fmt(Math.max(...oldTimes))} ms`);
console.log(`30-day daily max over HTTP, quiet: p50 ${fmt(pct(quiet, 50))} ms, p95 ${fmt(pct(quiet, 95))} ms (60 requests)`);
console.log(`30-day daily max over HTTP, 4 heavy clients: p50 ${fmt(pct(loaded, 50))} ms, p95 ${fmt(pct(loaded, 95))} ms`);
console.log(`a week of raw readings, first page of 10,000 (truncated, nextFrom): p50 ${fmt(pct(rawPage, 50))} ms`);
console.log(`GET /api/readings/latest, 4 heavy clients: p50 ${fmt(pct(latest, 50))} ms, p95 ${fmt(pct(latest, 95))} ms (100 requests; ${heavyDone} daily-max queries meanwhile)`);
console.log(`store.latest() on a reader worker, same load: p50 ${fmt(pct(storeLatest, 50))} ms, p95 ${fmt(pct(storeLatest, 95))} ms`);
