import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createAlertService } from '../alerts/alert-service.ts';
import { loadCity } from '../config/city-config.ts';
import { createManualClock } from '../core/clock.ts';
import { CONFIG_DIR } from '../config/platform-config.ts';
import { IngestEvents, type ReadingEvent } from '../ingest/ingest-events.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';

/**
 * Alerts engine cost: readings per second through the engine with the default rules of Huế (and the
 * hourly VN_AQI), beside the same service with no rules, in the same run; and the latency from a crossing
 * reading to its alert event on the bus (stored in the embedded store first).
 *
 *   npm run bench -- alerts [--readings 200000] [--crossings 200]
 */
const { values } = parseArgs({
  options: { readings: { type: 'string', default: '200000' }, crossings: { type: 'string', default: '200' } },
});
const N = Number(values.readings);
const CROSSINGS = Number(values.crossings);
const city = loadCity(join(CONFIG_DIR, 'cities/hue/city.yaml'), join(CONFIG_DIR, 'kinds'));
const T0 = Date.UTC(2026, 9, 1);

function makeReadings(): ReadingEvent[] {
  // every sensor of the city in turn, values inside every threshold
  const base: Record<string, Record<string, number>> = {
    air: { pm25: 20, pm10: 40, no2: 30, o3: 60, co: 800, so2: 10 },
    water: { waterLevel: 0.5, precipitation: 0.2 },
    traffic: { intensity: 100, averageVehicleSpeed: 35, occupancy: 0.1, congested: 0 },
    camera: { vehicleCount: 50, personCount: 80 },
  };
  return Array.from({ length: N }, (_, i) => {
    const s = city.sensors[i % city.sensors.length]!;
    return { sensorId: s.id, kind: s.kind, district: s.district, ts: T0 + i * 100, values: base[s.kind]! };
  });
}

async function measure(label: string, rulesDir: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-alerts-'));
  const store = await SqliteStore.open(join(dir, 'ioc.sqlite'));
  const clock = createManualClock(T0);
  const events = new IngestEvents();
  const service = createAlertService({
    store,
    city,
    events,
    clock,
    logger: pino({ level: 'silent' }),
    rulesDir,
    dataDir: dir,
  });
  await service.start();
  const readings = makeReadings();
  const started = performance.now();
  for (let i = 0; i < readings.length; i += 50) {
    clock.set(readings[i]!.ts);
    events.emit('readings', readings.slice(i, i + 50));
  }
  const seconds = (performance.now() - started) / 1000;
  await service.idle();
  // latency: a crossing reading on Kim Long, then a clearing one, CROSSINGS times
  const latencies: number[] = [];
  let sentAt = 0;
  service.bus.on('alert', (e) => {
    if (e.type === 'firing' && e.alert.ruleId === 'flood-level-1') latencies.push(performance.now() - sentAt);
  });
  for (let i = 0; i < CROSSINGS; i++) {
    const ts = clock.now() + 60_000;
    clock.set(ts);
    sentAt = performance.now();
    events.emit('readings', [
      { sensorId: 'water-kimlong', kind: 'water', district: 'Kim Long', ts, values: { waterLevel: 1.5 } },
    ]);
    await service.idle();
    events.emit('readings', [
      { sensorId: 'water-kimlong', kind: 'water', district: 'Kim Long', ts: ts + 1, values: { waterLevel: 0.2 } },
    ]);
    await service.idle();
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(2) : '-';
  console.log(
    `${label.padEnd(34)} ${Math.round(N / seconds)
      .toLocaleString('en-US')
      .padStart(12)} readings/s   alert latency p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms (${latencies.length} alerts)`,
  );
  await service.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

const empty = mkdtempSync(join(tmpdir(), 'ioc-bench-norules-'));
await measure('baseline: no rules', empty);
await measure(`default rules of Huế (${city.rulesDir.split('/').slice(-3).join('/')})`, city.rulesDir);
rmSync(empty, { recursive: true, force: true });
