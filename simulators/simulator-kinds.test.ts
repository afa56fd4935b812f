import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CONFIG_DIR } from '../config/platform-config.ts';
import { loadCity, type Sensor } from '../config/city-config.ts';
import { createLocalTimeFn } from './local-time.ts';
import { createRandom, hashSeed } from './seeded-random.ts';
import { checkSimulatorsAgainstKinds, loadSimulators } from './simulator-registry.ts';
import type { AnySimulator, SimulatorOutput } from './simulator-contract.ts';

const city = loadCity(join(CONFIG_DIR, 'cities/hue/city.yaml'), join(CONFIG_DIR, 'kinds'));
const simulators = await loadSimulators();
const localTime = createLocalTimeFn(city.timezone);
const HOUR = 3_600_000;

/** Plays one sensor for `steps` readings `stepMs` apart, with drivers chosen per step by `drivers`. */
function play(
  sim: AnySimulator,
  sensor: Sensor,
  seed: number,
  steps: number,
  stepMs: number,
  drivers: (i: number) => Record<string, number> = () => defaults(sim),
): SimulatorOutput[] {
  const rng = createRandom(hashSeed(seed, sensor.id));
  const state = sim.createState(sensor, rng);
  const kind = city.kinds.get(sim.kind)!;
  const start = Date.UTC(2026, 0, 1);
  return Array.from({ length: steps }, (_, i) => {
    const ts = start + i * stepMs;
    return sim.generate(state, ts, { rng, local: localTime(ts), stepMs, drivers: drivers(i), kind });
  });
}

function defaults(sim: AnySimulator): Record<string, number> {
  return Object.fromEntries(Object.entries(sim.drivers).map(([k, d]) => [k, d.default]));
}

describe('simulator registry', () => {
  it("finds one simulator per sensor kind of the default city, each reporting only its kind's metrics", () => {
    expect([...simulators.keys()].sort()).toEqual([...city.kinds.keys()].sort());
    expect(() => checkSimulatorsAgainstKinds(simulators, city.kinds)).not.toThrow();
  });
});

describe.each([...simulators.values()].map((s) => [s.kind, s] as const))('%s simulator', (kind, sim) => {
  const sensors = city.sensors.filter((s) => s.kind === kind);

  it('gives the same readings for the same seed, and different ones for another seed', () => {
    for (const sensor of sensors) {
      // two weeks at 10-minute steps: long enough for a January shower on every rain gauge
      const a = play(sim, sensor, 42, 2000, 10 * 60_000);
      expect(play(sim, sensor, 42, 2000, 10 * 60_000)).toEqual(a);
      expect(play(sim, sensor, 43, 2000, 10 * 60_000)).not.toEqual(a);
    }
  });

  it("stays inside the kind's schema over a year, with drivers swinging between default and maximum", () => {
    const spec = city.kinds.get(kind)!;
    for (const sensor of sensors) {
      const swing = createRandom(7);
      const outputs = play(sim, sensor, 1, (24 * 366) / 3, 3 * HOUR, () =>
        Object.fromEntries(Object.entries(sim.drivers).map(([k, d]) => [k, swing.pick([d.default, d.max, d.min])])),
      );
      let readings = 0;
      const problems = new Set<string>();
      for (const out of outputs) {
        for (const [metric, value] of Object.entries(out.values ?? {})) {
          const m = spec.metrics[metric];
          if (!m || !sim.metrics.includes(metric)) problems.add(`${sensor.id}: unknown metric ${metric}`);
          else if (!(value >= m.min && value <= m.max))
            problems.add(`${sensor.id}: ${metric}=${value} outside ${m.min}..${m.max}`);
          else if (m.integer && !Number.isInteger(value))
            problems.add(`${sensor.id}: ${metric}=${value} is not an integer`);
          readings++;
        }
        for (const event of out.events ?? [])
          if (!spec.eventTypes.includes(event.type)) problems.add(`${sensor.id}: event ${event.type}`);
      }
      expect([...problems]).toEqual([]);
      expect(readings).toBeGreaterThan(outputs.length * 0.5);
    }
  });
});

describe('realism under default drivers (a year of hourly readings)', () => {
  const year = (id: string) =>
    play(simulators.get(city.sensorsById.get(id)!.kind)!, city.sensorsById.get(id)!, 3, 24 * 365, HOUR);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

  it('air: PM2.5 mostly 15-40 µg/m³, higher at morning rush than at 3 am; 10-40 °C (Huế record low: 8.8 °C)', () => {
    const out = year('air-ngomon').map((o) => o.values!);
    expect(median(out.map((v) => v.pm25!))).toBeGreaterThan(15);
    expect(median(out.map((v) => v.pm25!))).toBeLessThan(40);
    const at = (h: number) => median(out.filter((_, i) => (i + 7) % 24 === h).map((v) => v.no2!));
    expect(at(7)).toBeGreaterThan(at(3));
    const temps = out.map((v) => v.temperature!);
    expect(Math.min(...temps)).toBeGreaterThan(10);
    expect(Math.max(...temps)).toBeLessThan(40);
  });

  it('water: Kim Long stays below alarm level I on most days and rain gauges read zero most hours', () => {
    const levels = year('water-kimlong').map((o) => o.values!.waterLevel!);
    expect(levels.filter((l) => l < 1.0).length / levels.length).toBeGreaterThan(0.9);
    const rain = year('rain-aluoi').map((o) => o.values!.precipitation!);
    expect(rain.filter((r) => r === 0).length / rain.length).toBeGreaterThan(0.6);
  });

  it('traffic: weekday 7-8h carries more vehicles and is slower than 3 am', () => {
    const out = year('traffic-truongtien');
    const weekdayAt = (h: number) =>
      out
        .filter((_, i) => {
          const t = localTime(Date.UTC(2026, 0, 1) + i * HOUR);
          return Math.floor(t.hour) === h && t.weekday >= 1 && t.weekday <= 5;
        })
        .map((o) => o.values!);
    expect(median(weekdayAt(7).map((v) => v.intensity!))).toBeGreaterThan(
      3 * median(weekdayAt(3).map((v) => v.intensity!)),
    );
    expect(median(weekdayAt(7).map((v) => v.averageVehicleSpeed!))).toBeLessThan(
      median(weekdayAt(3).map((v) => v.averageVehicleSpeed!)),
    );
  });

  it('camera: goes offline now and then and always comes back', () => {
    const out = year('cam-ngomon');
    const changes = out.flatMap((o) => (o.status ? [o.status] : []));
    expect(changes.filter((s) => s === 'offline').length).toBeGreaterThan(20);
    expect(
      changes.filter((s) => s === 'offline').length - changes.filter((s) => s === 'online').length,
    ).toBeLessThanOrEqual(1);
    expect(out.filter((o) => o.values).length / out.length).toBeGreaterThan(0.95);
  });

  it('traffic: an incident driver slows the road and marks it congested', () => {
    const sensor = city.sensorsById.get('traffic-truongtien')!;
    const sim = simulators.get('traffic')!;
    const rush = (incident: number) =>
      play(sim, sensor, 5, 60, 60_000, () => ({ demand: 1, incident }))
        .slice(-30)
        .map((o) => o.values!.averageVehicleSpeed!);
    expect(median(rush(0.9))).toBeLessThan(median(rush(0)) * 0.6);
  });
});
