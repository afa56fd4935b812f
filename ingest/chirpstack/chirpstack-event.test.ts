import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCity } from '../../config/city-config.ts';
import { ConfigError } from '../../config/config-error.ts';
import { chirpstackSchema } from '../../config/integrations-config.ts';
import { loadPlatformConfig } from '../../config/platform-config.ts';
import { isRejection } from '../parse-topic.ts';
import { chirpstackTimeMs, parseChirpstackEvent } from './chirpstack-event.ts';
import { mapDecodedObject, resolveLorawanDevices } from './chirpstack-mapping.ts';

const config = loadPlatformConfig({ env: {} });
const city = loadCity(config.cityFile, config.kindsDir);
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

describe('ChirpStack v4 events', () => {
  it('reads the documented uplink: DevEUI lower-case, nanosecond time to milliseconds', () => {
    const event = parseChirpstackEvent(fixture('up-decoded.json'));
    if (isRejection(event)) throw new Error(event.message);
    expect(event.devEui).toBe('0101010101010101');
    expect(event.object).toEqual({ level_cm: 380, rain_mm: 12.5, battery_mv: 3610 });
    expect(chirpstackTimeMs(event.time!)).toBe(Date.parse('2022-07-18T09:34:15.775Z'));
    expect(chirpstackTimeMs('2022-07-18T16:34:15+07:00')).toBe(Date.parse('2022-07-18T09:34:15.000Z'));
  });

  it('refuses anything else with a reason and never throws (random bodies and mutations of the fixture)', () => {
    const doc = fixture('up-decoded.json').toString();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc
            .tuple(fc.nat(doc.length), fc.string({ maxLength: 8 }))
            .map(([at, s]) => doc.slice(0, at) + s + doc.slice(at + s.length)),
        ),
        (body) => {
          const parsed = parseChirpstackEvent(Buffer.from(body));
          if (isRejection(parsed)) expect(parsed.code).toMatch(/^(malformed_payload)$/);
          else expect(parsed.devEui).toMatch(/^[0-9a-f]{16}$/);
        },
      ),
      { seed: 4242, numRuns: 500 },
    );
  });
});

describe('ChirpStack mapping', () => {
  const mapping = chirpstackSchema.parse({
    enabled: true,
    fields: { rain_mm: 'precipitation' },
    devices: [
      {
        devEui: 'AABBCCDDEEFF0011',
        sensorId: 'water-kimlong',
        fields: { 'sensor.level': { metric: 'waterLevel', scale: 0.001, offset: -0.5 } },
      },
    ],
  });

  it('maps present fields with scale and offset, skips absent ones, and says what is missing', () => {
    const device = resolveLorawanDevices(mapping, city).get('aabbccddeeff0011')!;
    expect(mapDecodedObject(device, { sensor: { level: 2300 } })).toEqual({ values: { waterLevel: 1.8 } });
    expect(mapDecodedObject(device, { rain_mm: 4, other: 1 })).toEqual({ values: { precipitation: 4 } });
    expect(mapDecodedObject(device, { temp: 20 })).toMatchObject({
      code: 'no_metrics',
      message: expect.stringMatching(/mapped: precipitation|rain_mm.*it has: temp/),
    });
    expect(mapDecodedObject(device, { rain_mm: 'lots' })).toMatchObject({
      code: 'wrong_type',
      metric: 'precipitation',
    });
    expect(mapDecodedObject(device, { ['__proto__']: { level: 1 } } as Record<string, unknown>)).toMatchObject({
      code: 'no_metrics',
    });
  });

  it('stops the start on an unknown sensor, a metric the kind lacks, or a DevEUI mapped twice', () => {
    const bad = chirpstackSchema.parse({
      enabled: true,
      devices: [
        { devEui: '0000000000000001', sensorId: 'no-such-sensor', fields: { a: 'pm25' } },
        { devEui: '0000000000000002', sensorId: 'water-kimlong', fields: { a: 'pm25' } },
      ],
    });
    expect(() => resolveLorawanDevices(bad, city)).toThrow(ConfigError);
    expect(() => resolveLorawanDevices(bad, city)).toThrow(
      /unknown sensor "no-such-sensor"[\s\S]*"pm25", not a metric of kind water/,
    );
    const twice = chirpstackSchema.safeParse({
      devices: [
        { devEui: '0000000000000001', sensorId: 'a' },
        { devEui: '0000000000000001', sensorId: 'b' },
      ],
    });
    expect(twice.success).toBe(false);
  });
});
