import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CONFIG_DIR } from '../config/platform-config.ts';
import { loadCity } from '../config/city-config.ts';
import { createManualClock } from '../core/clock.ts';
import { createLocalTimeFn } from './local-time.ts';
import { createMemorySink } from './memory-sink.ts';
import { loadScenario, resolveScenario } from './scenario-loader.ts';
import { resolveSimStart, startScenarioRun, type RunOptions } from './scenario-runner.ts';
import { loadSimulators } from './simulator-registry.ts';

const city = loadCity(join(CONFIG_DIR, 'cities/hue/city.yaml'), join(CONFIG_DIR, 'kinds'));
const simulators = await loadSimulators();
const HOUR = 3_600_000;

async function playToEnd(name: string, overrides: Partial<RunOptions> = {}, realStepMs = 250) {
  const clock = createManualClock(Date.UTC(2026, 10, 20));
  const sink = createMemorySink();
  const resolved = resolveScenario(loadScenario(name), city, simulators);
  const run = await startScenarioRun({
    resolved,
    city,
    simulators,
    sink,
    clock,
    start: Date.UTC(2026, 10, 12, 17),
    ...overrides,
  });
  for (let i = 0; i < 1_000_000 && run.progress().phase !== 'done'; i++) clock.advance(realStepMs);
  return { run, sink, clock, final: await run.done };
}

/** Times (hours from the start) at which a series first reaches each level. */
function crossings(
  series: Array<{ ts: number; values: Readonly<Record<string, number>> }>,
  start: number,
  levels: number[],
) {
  return levels.map((level) => {
    const hit = series.find((r) => r.values.waterLevel! >= level);
    return hit ? (hit.ts - start) / HOUR : undefined;
  });
}

describe('scenario runner in simulated time', () => {
  it('hue-flood: Kim Long crosses alarm levels I, II, III in order, rising at most 0.6 m/h, then recedes', async () => {
    const { run, sink, final } = await playToEnd('hue-flood');
    expect(final.phase).toBe('done');
    const kimlong = sink.readingsOf('water-kimlong');
    expect(kimlong.length).toBe(40 * 6);
    const [i, ii, iii] = crossings(kimlong, run.simStart, [1.0, 2.0, 3.5]);
    expect(i).toBeDefined();
    expect(i! < ii! && ii! < iii!).toBe(true);
    const rates = kimlong.slice(6).map((r, k) => r.values.waterLevel! - kimlong[k]!.values.waterLevel!);
    expect(Math.max(...rates)).toBeLessThan(0.6);
    expect(kimlong.at(-1)!.values.waterLevel!).toBeLessThan(2.0);
    const [p1, p2, p3] = crossings(sink.readingsOf('water-phuoc'), run.simStart, [1.5, 3.0, 4.5]);
    expect(p1! < p2! && p2! < p3!).toBe(true);
    expect(final.sink.readings).toBe(9 * 240);
  });

  it('gives the same readings whatever the real tick length', async () => {
    const a = await playToEnd('camera-outage', { tickMs: 40 }, 40);
    const b = await playToEnd('camera-outage', { tickMs: 3000 }, 3000);
    expect(b.sink.steps).toEqual(a.sink.steps);
    const truongtien = a.sink.steps
      .get('cam-truongtien')!
      .filter((s) => s.status)
      .map((s) => s.status);
    expect(truongtien.slice(0, 2)).toEqual(['offline', 'online']);
  });

  it('never stamps a reading ahead of the wall clock, even when asked to run from now at 1000x', async () => {
    const clock = createManualClock(Date.UTC(2026, 10, 20));
    const sink = createMemorySink();
    const late: number[] = [];
    const write = sink.write;
    sink.write = (sensor, step) => {
      if (step.ts > clock.now()) late.push(step.ts - clock.now());
      write(sensor, step);
    };
    const resolved = resolveScenario(loadScenario('rush-hour'), city, simulators);
    const run = await startScenarioRun({ resolved, city, simulators, sink, clock, speed: 1000, start: clock.now() });
    for (let i = 0; i < 100; i++) clock.advance(1000);
    await run.stop();
    expect(late).toEqual([]);
    expect(sink.stats().readings).toBeGreaterThan(0);
  });

  it('demo: replays its first hours fast, then keeps every sensor flowing in real time', async () => {
    const clock = createManualClock(Date.UTC(2026, 10, 20));
    const sink = createMemorySink();
    const resolved = resolveScenario(loadScenario('demo'), city, simulators);
    const run = await startScenarioRun({ resolved, city, simulators, sink, clock });
    expect(run.simEnd).toBeLessThanOrEqual(clock.now() + (4 * HOUR) / 360 + 1);
    clock.advance(60_000);
    expect(run.progress().phase).toBe('live');
    const level = sink
      .readingsOf('water-kimlong')
      .filter((r) => r.ts <= run.simStart + 40 * 360_000)
      .at(-1)!.values.waterLevel!;
    expect(level).toBeGreaterThanOrEqual(1.0);
    const before = sink.readingsOf('air-ngomon').length;
    clock.advance(60_000);
    const live = sink.readingsOf('air-ngomon').slice(before);
    expect(live.length).toBeGreaterThanOrEqual(11);
    expect(live.at(-1)!.ts).toBeGreaterThan(clock.now() - 10_000);
    expect(new Set(resolved.sensors.map((s) => s.id))).toEqual(new Set(city.sensors.map((s) => s.id)));
    await run.stop();
  });

  it('starts rush-hour at 16:00 in Huế, late enough to finish before now', () => {
    const now = Date.UTC(2026, 10, 20, 3); // 10:00 in Huế
    const start = resolveSimStart({ startLocalTime: '16:00', duration: 4 * HOUR }, 30, now, city.timezone);
    expect(createLocalTimeFn(city.timezone)(start).hour).toBe(16);
    expect(start + 4 * HOUR).toBeLessThanOrEqual(now);
    expect(now - start).toBeLessThan(24 * HOUR + 4 * HOUR);
    expect(resolveSimStart({ start: '-6h', duration: HOUR }, 1, now, city.timezone)).toBe(now - 6 * HOUR);
  });
});
