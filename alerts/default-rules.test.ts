import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createManualClock } from '../core/clock.ts';
import { createMemorySink } from '../simulators/memory-sink.ts';
import { loadScenario, resolveScenario } from '../simulators/scenario-loader.ts';
import { startScenarioRun } from '../simulators/scenario-runner.ts';
import { loadSimulators } from '../simulators/simulator-registry.ts';
import { hueCity, reading, startHarness, type Harness } from './alert-test-kit.ts';

/**
 * The shipped rules of Huế against the hue-flood scenario (a day of heavy rain upstream, Kim Long rising
 * through alarm levels I, II and III), replayed through the engine in simulated time: the alerts an
 * operator would have seen, in the order they would have seen them.
 */
const RULES_DIR = hueCity().rulesDir;
const shipped = (file: string): unknown[] => parse(readFileSync(join(RULES_DIR, file), 'utf8')) as unknown[];
const START = Date.UTC(2026, 10, 12, 17);
const HOUR = 3_600_000;

async function playHueFlood() {
  const simulators = await loadSimulators();
  const clock = createManualClock(Date.UTC(2026, 10, 20));
  const sink = createMemorySink();
  const resolved = resolveScenario(loadScenario('hue-flood'), hueCity(), simulators);
  const run = await startScenarioRun({ resolved, city: hueCity(), simulators, sink, clock, start: START });
  for (let i = 0; i < 1_000_000 && run.progress().phase !== 'done'; i++) clock.advance(250);
  await run.done;
  return [...sink.steps]
    .flatMap(([sensorId, steps]) => steps.filter((s) => s.values).map((s) => reading(sensorId, s.values!, s.ts)))
    .sort((a, b) => a.ts - b.ts);
}

describe('default rules of Huế on the hue-flood scenario', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('raises flood levels I -> II -> III at Kim Long after the upstream rain warnings, then clears them', async () => {
    const readings = await playHueFlood();
    h = await startHarness([...shipped('flood-levels.yaml'), ...shipped('rain-and-rivers.yaml')], { start: START });
    for (const r of readings) {
      if (r.ts > h.clock.now()) h.clock.set(r.ts);
      h.events.emit('readings', [r]);
    }
    await h.service.idle();
    const kimLong = h.seen.filter((e) => e.alert.sensorId === 'water-kimlong');
    const firing = (ruleId: string) => kimLong.find((e) => e.type === 'firing' && e.alert.ruleId === ruleId);
    const l1 = firing('flood-level-1')!;
    const l2 = firing('flood-level-2')!;
    const l3 = firing('flood-level-3')!;
    expect(l1.ts).toBeLessThan(l2.ts);
    expect(l2.ts).toBeLessThan(l3.ts);
    expect([l1, l2, l3].map((e) => e.alert.severity)).toEqual(['medium', 'high', 'critical']);
    // one alert per level and station, however long the river stays up
    expect(kimLong.filter((e) => e.type === 'firing' && e.alert.ruleId.startsWith('flood-level-'))).toHaveLength(3);

    // the warnings that come first: heavy rain upstream, then rain while Kim Long rises
    const heavyRain = h.seen.find(
      (e) => e.type === 'firing' && e.alert.ruleId === 'heavy-rain' && e.alert.sensorId === 'rain-aluoi',
    );
    expect(heavyRain).toBeDefined();
    expect(heavyRain!.ts).toBeLessThan(l2.ts);
    const upstream = firing('upstream-rain-kimlong-rising');
    expect(upstream).toBeDefined();
    expect(upstream!.ts).toBeLessThan(l3.ts);
    expect(upstream!.alert.message.vi).toMatch(
      new RegExp(
        String.raw`^Trạm thủy văn Kim Long \(sông Hương\): Lượng mưa \(tổng 1 giờ\) tại .+ là [\d,]+ mm ` +
          String.raw`\(ngưỡng 20 mm\); đồng thời Mực nước tại Trạm thủy văn Kim Long \(sông Hương\) ` +
          String.raw`tăng [\d,]+ m trong 1 giờ \(ngưỡng 0,2 m\)$`,
      ),
    );

    // 40 hours on, the flood has receded below level II: levels II and III are resolved
    const resolvedIds = new Set(kimLong.filter((e) => e.type === 'resolved').map((e) => e.alert.id));
    expect(resolvedIds.has(l3.alert.id) && resolvedIds.has(l2.alert.id)).toBe(true);
    expect(l3.ts - START).toBeLessThan(30 * HOUR);
  }, 120_000);
});
