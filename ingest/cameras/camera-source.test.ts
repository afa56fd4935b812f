import fc from 'fast-check';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cameraSourceSchema } from '../../config/camera-sources-config.ts';
import { loadCity } from '../../config/city-config.ts';
import { ConfigError } from '../../config/config-error.ts';
import { loadPlatformConfig } from '../../config/platform-config.ts';
import { isRejection } from '../parse-topic.ts';
import { resolveCameraSource } from './camera-source.ts';
import { parseOnvifNotifications } from './onvif-notification.ts';

const config = loadPlatformConfig({ env: {} });

describe('camera source mapping', () => {
  const kindsDir = mkdtempSync(join(tmpdir(), 'ioc-kinds-'));
  afterAll(() => rmSync(kindsDir, { recursive: true, force: true }));

  it('lets a city add an event type in the camera kind file, without code, and map a label to it', () => {
    cpSync(config.kindsDir, kindsDir, { recursive: true });
    writeFileSync(
      join(kindsDir, 'camera.yaml'),
      `${readFileSync(join(kindsDir, 'camera.yaml'), 'utf8')}  - animalOnRoad\n`,
    );
    const city = loadCity(config.cityFile, kindsDir);
    const source = cameraSourceSchema.parse({
      id: 'f',
      format: 'frigate',
      account: 'frigate',
      cameras: { road: 'cam-sanbay' },
      events: { dog: 'animalOnRoad', cow: 'animalOnRoad' },
    });
    expect(resolveCameraSource(source, city, 0).events.get('cow')).toBe('animalOnRoad');
    // the default kinds do not have it: refused at start, saying where to add it
    const plain = loadCity(config.cityFile, config.kindsDir);
    expect(() => resolveCameraSource(source, plain, 0)).toThrow(ConfigError);
    expect(() => resolveCameraSource(source, plain, 0)).toThrow(
      /"animalOnRoad" is not an event type of its cameras .*add new types to the camera kind's eventTypes/,
    );
  });

  it('refuses cameras mapped to unknown sensors or sensors that send no events', () => {
    const city = loadCity(config.cityFile, config.kindsDir);
    const source = cameraSourceSchema.parse({
      id: 'n',
      format: 'onvif',
      account: 'nvr',
      cameras: { a: 'no-such', b: 'air-ngomon' },
      events: {},
    });
    expect(() => resolveCameraSource(source, city, 3)).toThrow(
      new RegExp(
        String.raw`sources\[3\] \(n\)\.cameras\.a: unknown sensor "no-such"[\s\S]*` +
          'sensor air-ngomon is of kind air, which sends no events',
      ),
    );
  });
});

describe('ONVIF-style notifications', () => {
  it('reads several messages of one SOAP Notify body in order', () => {
    const one = readFileSync(new URL('./fixtures/onvif-motion.xml', import.meta.url), 'utf8').replace(
      /<\?xml[^>]*>/,
      '',
    );
    const body =
      `<s:Envelope><s:Body><wsnt:Notify>${one}${one.replace('Value="true"', 'Value="false"')}</wsnt:Notify>` +
      '</s:Body></s:Envelope>';
    const parsed = parseOnvifNotifications(Buffer.from(body));
    expect(parsed).toEqual([
      {
        topic: 'tns1:RuleEngine/CellMotionDetector/Motion',
        sources: ['VideoSource_1', 'VideoAnalyticsToken', 'MyMotionDetectorRule'],
        state: true,
        time: Date.parse('2020-12-04T23:19:50Z'),
      },
      expect.objectContaining({ state: false }),
    ]);
  });

  it('refuses anything else with a reason, never throws, and expands no entity', () => {
    const doc = readFileSync(new URL('./fixtures/onvif-motion.xml', import.meta.url), 'utf8');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc
            .tuple(fc.nat(doc.length), fc.string({ maxLength: 12 }))
            .map(([at, s]) => doc.slice(0, at) + s + doc.slice(at + s.length)),
        ),
        (body) => {
          const parsed = parseOnvifNotifications(Buffer.from(body));
          if (isRejection(parsed)) expect(['malformed_payload', 'too_many_readings']).toContain(parsed.code);
          else for (const n of parsed) expect(typeof n.state).toBe('boolean');
        },
      ),
      { seed: 5151, numRuns: 500 },
    );
    // entities are never expanded, and a body of unclosed tags is refused, not chewed on
    const bomb = '<!DOCTYPE x [<!ENTITY a "aaaa">]><NotificationMessage><Topic>&a;</Topic></NotificationMessage>';
    expect(parseOnvifNotifications(Buffer.from(bomb))).toMatchObject({ code: 'malformed_payload' });
    expect(parseOnvifNotifications(Buffer.from('<NotificationMessage '.repeat(20_000)))).toMatchObject({
      code: 'malformed_payload',
    });
    // a tag that never closes: one scan (this took minutes with a backtracking pattern)
    expect(parseOnvifNotifications(Buffer.from(`<${'x'.repeat(262_000)}`))).toMatchObject({
      code: 'malformed_payload',
    });
  });
});
