import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { loadCity } from '../config/city-config.ts';
import { influxSchema, loadPlatformConfig } from '../config/platform-config.ts';
import { STORE_LIFECYCLE_DEFAULTS } from '../config/store-lifecycle-config.ts';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.ts';
import type { RecordGroup } from '../store/log-record.ts';
import type { Point } from '../store/time-series-store.ts';
import { startInfluxd } from '../test-support/influxd.ts';
import { startTestPlatform } from '../test-support/platform-harness.ts';
import { loadInflux, setupInfluxRollups } from './history-influx.ts';
import { measureQueries, pct, type QueryFigures } from './history-queries.ts';

/**
 * Issue 13 item 7: a month of the default city's sensors at one reading per 10 s, generated straight into
 * the embedded store (not via MQTT), rolled up, then served by a running platform:
 * - 30-day daily max over HTTP (served from the 1-hour roll-up), beside the per-row JSON query it replaced;
 * - GET /api/readings/latest while four clients run heavy queries (30-day daily max and a week's first raw
 *   page, alternately), beside GET /api/health at the same moments, and the platform's CPU per heavy query;
 * - bytes per sensor per year;
 * - the same month loaded into InfluxDB 1.x (IOC_TEST_INFLUX_URL or a private influxd), roll-ups set up as
 *   `ioc store setup-retention` does, and the same queries through a platform on it, side by side.
 * The four heavy clients run in their own process (bench/history-clients.ts).
 * `npm run bench -- history [--days 30] [--step 10] [--no-influx]`
 */
const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '30' },
    step: { type: 'string', default: '10' },
    keep: { type: 'boolean' },
    'no-influx': { type: 'boolean' },
  },
});
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

const fmt = (ms: number) => ms.toFixed(1);

// --- load ------------------------------------------------------------------------------------------
/** One day of the month, the same for both stores. */
function dayGroups(day: number): RecordGroup[] {
  const groups: RecordGroup[] = [];
  for (const sensor of city.sensors) {
    const metrics = Object.values(city.kinds.get(sensor.kind)!.metrics);
    const points: Array<[number, Record<string, number>]> = [];
    for (let ts = start + day * DAY; ts < start + (day + 1) * DAY; ts += STEP) {
      const fields: Record<string, number> = {};
      for (const m of metrics)
        fields[m.name] =
          Math.round((m.min + (m.max - m.min) * (0.3 + 0.2 * Math.sin(ts / 3_600_000 + m.name.length))) * 100) / 100;
      points.push([ts, fields]);
    }
    groups.push({
      measurement: sensor.kind,
      tags: { sensorId: sensor.id, kind: sensor.kind, district: sensor.district },
      points,
    });
  }
  return groups;
}

const { mkdirSync } = await import('node:fs');
mkdirSync(dataDir, { recursive: true });
const db = new SqliteDatabase(file);
let readings = 0;
const loadStart = performance.now();
for (let day = 0; day < DAYS; day++) {
  const groups = dayGroups(day);
  for (const g of groups) readings += g.points.length;
  db.writeGroups(groups);
}
const loadS = (performance.now() - loadStart) / 1000;
const rollStart = performance.now();
const policy = { rawKeepMs: {}, rollup1mKeepMs: 0, rollup1hKeepMs: 0, maxSpanMs: 2 * DAY };
for (let i = 0; i < 1000 && db.rollup(end + 60_000, policy).behind; i++);
const rollS = (performance.now() - rollStart) / 1000;
db.sync();
db.close();
console.log(
  `loaded ${readings.toLocaleString('en')} readings of ${city.sensors.length} sensors over ${DAYS} days ` +
    `in ${loadS.toFixed(0)} s (${Math.round(readings / loadS).toLocaleString('en')}/s); ` +
    `rolled up in ${rollS.toFixed(0)} s`,
);

// --- size ------------------------------------------------------------------------------------------
const sizeDb = new Database(file, { readonly: true });
sizeDb.pragma('wal_checkpoint(TRUNCATE)');
const total = statSync(file).size;
let tables: Array<{ name: string; bytes: number }> = [];
try {
  tables = sizeDb
    .prepare(
      "SELECT name, SUM(pgsize) AS bytes FROM dbstat WHERE name IN ('readings', 'rollup_1m', 'rollup_1h') " +
        'GROUP BY name',
    )
    .all() as typeof tables;
} catch {
  /* dbstat not compiled in */
}
// the baseline in the same run: the per-row JSON daily max the store answered before roll-ups
const sensor0 = city.sensors.find((s) => s.kind === 'air')!;
const field0 = Object.keys(city.kinds.get('air')!.metrics)[0]!;
const ids = (sizeDb.prepare('SELECT id FROM series WHERE sensor_id = ?').all(sensor0.id) as Array<{ id: number }>).map(
  (r) => r.id,
);
const oldWay = sizeDb.prepare(
  `SELECT (ts - (ts % ${DAY})) AS b, MAX(json_extract(fields, ?)) FROM readings WHERE series_id IN ` +
    `(${ids.join(',')}) AND ts >= ? AND ts < ? AND json_type(fields, ?) IN ('integer', 'real') GROUP BY 1`,
);
const oldTimes: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  oldWay.all(`$."${field0}"`, start, end, `$."${field0}"`);
  oldTimes.push(performance.now() - t);
}
sizeDb.close();
const perSensorYear = (bytes: number) => (bytes / city.sensors.length / DAYS) * 365;
console.log(
  `store file ${(total / 1048576).toFixed(0)} MiB: ${(perSensorYear(total) / 1048576).toFixed(0)} MiB per ` +
    'sensor per year at this rate (all raw kept)',
);
for (const t of tables)
  console.log(`  ${t.name}: ${(perSensorYear(t.bytes) / 1048576).toFixed(1)} MiB per sensor per year`);

// --- queries through a running platform, embedded then InfluxDB ---------------------------------------
const air = city.sensors.filter((s) => s.kind === 'air');
const paths = {
  dailyMax: air.map((s) => `/api/sensors/${s.id}/readings?metric=${field0}&from=${start}&to=${end}&every=1d&fn=max`),
  rawWeek: air.map((s) => `/api/sensors/${s.id}/readings?metric=${field0}&from=${end - 7 * DAY}&to=${end}`),
  latest: '/api/readings/latest',
};
const ingest = { maxAgeDays: 30, maxFutureSkewSeconds: 300, maxReadingsPerPublish: 1000 };
const embeddedPlatform = await startTestPlatform({ dataDir, overrides: { ingest } });
const figures: Array<[string, QueryFigures]> = [];
try {
  figures.push([
    'embedded',
    await measureQueries({ httpUrl: embeddedPlatform.httpUrl, token: embeddedPlatform.operatorToken }, paths),
  ]);
} finally {
  await embeddedPlatform.stop();
}
if (!values.keep) rmSync(dir, { recursive: true, force: true });

if (!values['no-influx']) {
  const server = await startInfluxd();
  try {
    const influx = influxSchema.parse({ url: server.url, database: `ioc_history_${process.pid}` });
    const loaded = await loadInflux(
      influx,
      (function* () {
        for (let day = 0; day < DAYS; day++) {
          yield dayGroups(day).flatMap((g): Point[] =>
            g.points.map(([ts, fields]) => ({ measurement: g.measurement, tags: g.tags, fields, ts })),
          );
        }
      })(),
    );
    const setup = await setupInfluxRollups(influx, STORE_LIFECYCLE_DEFAULTS);
    console.log(
      `InfluxDB ${server.url}: loaded ${loaded.readings.toLocaleString('en')} readings ` +
        `in ${loaded.loadS.toFixed(0)} s (${Math.round(loaded.readings / loaded.loadS).toLocaleString('en')}` +
        `/s); setup-retention (${setup.actions} changes, roll-ups filled) in ${setup.setupS.toFixed(0)} s`,
    );
    const p = await startTestPlatform({ overrides: { ingest, store: { engine: 'influxdb', influxdb: influx } } });
    try {
      figures.push(['InfluxDB', await measureQueries({ httpUrl: p.httpUrl, token: p.operatorToken }, paths)]);
    } finally {
      await p.stop();
    }
  } finally {
    await server.dispose();
  }
}

console.log(
  `${DAYS}-day daily max, per-row JSON (before, same file): p50 ${fmt(pct(oldTimes, 50))} ms, ` +
    `max ${fmt(Math.max(...oldTimes))} ms`,
);
console.log(`${''.padEnd(62)}${figures.map(([name]) => name.padStart(22)).join('')}`);
const row = (label: string, pick: (f: QueryFigures) => string) =>
  console.log(`${label.padEnd(62)}${figures.map(([, f]) => pick(f).padStart(22)).join('')}`);
const p5095 = (xs: number[]) => `${fmt(pct(xs, 50))} / ${fmt(pct(xs, 95))} ms`;
row(`${DAYS}-day daily max over HTTP, quiet, p50 / p95 (60 requests)`, (f) => p5095(f.dailyMaxQuiet));
row(`${DAYS}-day daily max, 4 heavy clients, p50 / p95 (20 requests)`, (f) => p5095(f.dailyMaxLoaded));
row('a week of raw readings, first page, p50 / p95 (5 requests)', (f) => p5095(f.rawWeekPage));
row('GET /api/readings/latest, quiet, p50 / p95 (20)', (f) => p5095(f.latestQuiet));
row('GET /api/readings/latest, 4 heavy clients, p50 / p95 (100)', (f) => p5095(f.latestLoaded));
row('  baseline GET /api/health, same moments, p50 / p95 (100)', (f) => p5095(f.healthLoaded));
row(
  '  ratio latest / health, p50 / p95',
  (f) =>
    `${(pct(f.latestLoaded, 50) / pct(f.healthLoaded, 50)).toFixed(2)} ` +
    `/ ${(pct(f.latestLoaded, 95) / pct(f.healthLoaded, 95)).toFixed(2)}`,
);
row('heavy queries answered meanwhile (daily max and raw pages)', (f) => String(f.heavyDone));
row(
  '  platform CPU per heavy query, all threads / main thread',
  (f) => `${fmt(f.cpuPerHeavyMs)} / ${f.mainCpuPerHeavyMs === undefined ? '?' : fmt(f.mainCpuPerHeavyMs)} ms`,
);
