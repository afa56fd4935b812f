import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCity } from '../config/city-config.ts';
import { createManualClock } from '../core/clock.ts';
import { writeNoiseCity } from '../test-support/noise-kind-fixture.ts';
import { createMemorySink } from './memory-sink.ts';
import { parseScenario, resolveScenario } from './scenario-loader.ts';
import { startScenarioRun } from './scenario-runner.ts';
import { checkSimulatorsAgainstKinds, loadSimulators } from './simulator-registry.ts';

/**
 * The simulator extension point (docs/ARCHITECTURE.md, "Add a simulator"; docs/simulators.md): a simulator
 * is one `*-simulator.ts` file against simulator-contract.ts, found by the registry without a line
 * anywhere. The file below plays a throwaway `noise` kind (test-support/noise-kind-fixture.ts) from a
 * temporary folder; a scenario drives it through the real runner in simulated time, seed-deterministic,
 * within its kind's ranges, and a scenario driver moves it.
 */
const contract = JSON.stringify(pathToFileURL(join(import.meta.dirname, 'simulator-contract.ts')).href);
const NOISE_SIMULATOR = `
import { defineSimulator, fitToKind } from ${contract};

/** A noise meter by a market: louder by day, and with the crowd a scenario asks for. */
export const simulator = defineSimulator<{ base: number }>({
  kind: 'noise',
  description: 'street noise meter (LAeq over the interval)',
  metrics: ['LAeq'],
  drivers: { crowd: { description: 'crowd around the meter', unit: '1', default: 0, min: 0, max: 1 } },
  createState: (_sensor, rng) => ({ base: rng.uniform(50, 56) }),
  generate(state, _ts, ctx) {
    const day = ctx.local.hour >= 6 && ctx.local.hour < 22 ? 8 : 0;
    const value = state.base + day + 20 * (ctx.drivers.crowd ?? 0) + ctx.rng.normal(1);
    return { values: { LAeq: fitToKind(ctx.kind, 'LAeq', value, 1) } };
  },
});
`;

const SCENARIO = `
name: market-festival
title: { vi: "Lễ hội chợ Đông Ba", en: "Dong Ba market festival" }
seed: 7
duration: 4h
interval: 10m
speed: 600
sensors: { kinds: [noise] }
effects:
  - { at: 2h, set: { crowd: 1 }, note: "the festival opens" }
`;

describe('a simulator added as one file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-simulator-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const play = async (simDir: string, seed: number) => {
    const { kindsDir, cityFile } = writeNoiseCity(join(dir, `city-${seed}`));
    const city = loadCity(cityFile, kindsDir);
    const simulators = new Map([...(await loadSimulators()), ...(await loadSimulators(simDir))]);
    checkSimulatorsAgainstKinds(simulators, city.kinds);
    const resolved = resolveScenario({ ...parseScenario(SCENARIO, 'market-festival.yaml'), seed }, city, simulators);
    const clock = createManualClock(Date.UTC(2026, 10, 20));
    const sink = createMemorySink();
    const start = Date.UTC(2026, 10, 12, 1); // 08:00 in Huế
    const run = await startScenarioRun({ resolved, city, simulators, sink, clock, start });
    for (let i = 0; i < 100_000 && run.progress().phase !== 'done'; i++) clock.advance(250);
    await run.done;
    return sink.readingsOf('noise-dongba').map((r) => ({ offsetH: (r.ts - start) / 3_600_000, LAeq: r.values.LAeq! }));
  };

  it('is found in its folder, checked against its kind, and plays a scenario in simulated time', async () => {
    const simDir = join(dir, 'simulators');
    mkdirSync(simDir);
    writeFileSync(join(simDir, 'noise-simulator.ts'), NOISE_SIMULATOR);
    const readings = await play(simDir, 7);
    expect(readings).toHaveLength(24);
    expect(readings.every((r) => r.LAeq >= 20 && r.LAeq <= 140)).toBe(true);
    const mean = (xs: typeof readings) => xs.reduce((s, r) => s + r.LAeq, 0) / xs.length;
    // the festival (crowd 1 from 2 h) is some 20 dB louder than the morning before it
    expect(mean(readings.filter((r) => r.offsetH >= 2)) - mean(readings.filter((r) => r.offsetH < 2))).toBeGreaterThan(
      15,
    );
    expect(await play(simDir, 7)).toEqual(readings);
    expect(await play(simDir, 8)).not.toEqual(readings);
  });
});
