import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CONFIG_DIR } from '../config/platform-config.ts';
import { loadCity } from '../config/city-config.ts';
import { ConfigError } from '../config/config-error.ts';
import { listScenarios, loadScenario, parseScenario, resolveScenario, driversAt } from './scenario-loader.ts';
import { loadSimulators } from './simulator-registry.ts';

const city = loadCity(join(CONFIG_DIR, 'cities/hue/city.yaml'), join(CONFIG_DIR, 'kinds'));
const simulators = await loadSimulators();

const scenario = (extra: string) => `name: t\ntitle: { vi: "Thử", en: "Test" }\nseed: 1\nduration: 1h\n${extra}`;
const resolveText = (extra: string) => resolveScenario(parseScenario(scenario(extra), 'test.yaml'), city, simulators);
const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('scenario files', () => {
  it('every bundled scenario loads and resolves against the default city', () => {
    const names = listScenarios();
    expect(names).toEqual(
      expect.arrayContaining(['hue-flood', 'pollution-episode', 'camera-outage', 'rush-hour', 'demo']),
    );
    for (const name of names)
      expect(resolveScenario(loadScenario(name), city, simulators).sensors.length).toBeGreaterThan(0);
  });

  it('names the known scenarios when one does not exist', () => {
    expect(errorOf(() => loadScenario('hue-flod'))).toMatch(
      /unknown scenario "hue-flod".*known scenarios: .*hue-flood/s,
    );
  });

  it('reports every schema problem with its path', () => {
    const message = errorOf(() => parseScenario('name: Bad Name\nseed: -1\nduration: soon\nextra: 1\n', 'bad.yaml'));
    expect(message).toContain('bad.yaml');
    expect(message).toMatch(/name: lower-case/);
    expect(message).toMatch(/seed:/);
    expect(message).toMatch(/duration: "soon" is not a duration/);
    expect(message).toMatch(/title/);
    expect(message).toMatch(/extra/);
  });

  it('rejects YAML that does not parse', () => {
    expect(errorOf(() => parseScenario('name: [unclosed', 'x.yaml'))).toMatch(/x\.yaml: invalid YAML/);
  });

  it('rejects unknown sensors and kinds, and drivers no selected simulator has', () => {
    const message = errorOf(() =>
      resolveText(
        [
          'sensors: { kinds: [water, air] }',
          'effects:',
          '  - { at: 0h, sensors: [water-nowhere], set: { rainfall: 10 } }',
          '  - { at: 0h, kinds: [air], set: { floodWave: 2 } }',
          '  - { at: 0h, kinds: [submarine], set: { rainfall: 1 } }',
        ].join('\n'),
      ),
    );
    expect(message).toMatch(/effects\[0\]\.sensors: no sensor "water-nowhere"/);
    expect(message).toMatch(
      /effects\[1\]\.set\.floodWave: no simulator of the selected kinds has this driver \(air: pollution, rainfall\)/,
    );
    expect(message).toMatch(/effects\[2\]\.kinds: unknown kind "submarine"/);
  });

  it('rejects driver values outside their range and effects that end before they start', () => {
    expect(errorOf(() => resolveText('effects:\n  - { at: 0h, kinds: [traffic], set: { incident: 3 } }'))).toMatch(
      /effects\[0\]\.set\.incident: 3 is outside 0\.\.1/,
    );
    expect(
      errorOf(() => parseScenario(scenario('effects:\n  - { at: 2h, until: 1h, set: { rainfall: 1 } }'), 't.yaml')),
    ).toMatch(/effects\.0\.until: until must be after at/);
  });

  it('applies effects in file order with linear ramps', () => {
    const resolved = resolveText(
      [
        'sensors: { sensors: [water-kimlong] }',
        'effects:',
        '  - { at: 1h, until: 5h, ramp: 1h, set: { rainfall: 40 } }',
        '  - { at: 3h, until: 4h, set: { rainfall: 5 } }',
      ].join('\n'),
    );
    const water = simulators.get('water')!;
    const at = (h: number) => driversAt(water, resolved.effectsFor('water-kimlong'), h * 3_600_000).rainfall;
    expect([at(0.5), at(1.5), at(2), at(3.5), at(4.5), at(5)]).toEqual([0, 20, 40, 5, 20, 0]);
  });
});
