import { Point } from '@influxdata/influxdb-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParameters } from '../test-support/fuzz.ts';
import { parseLineProtocol, toEpochMs } from './line-protocol.ts';

describe('line protocol parser', () => {
  it('reads measurement, escaped tags, every field type and a nanosecond timestamp without losing digits', () => {
    const { points, errors } = parseLineProtocol(
      [
        '# a comment',
        'water,sensorId=water-kimlong,river=sông\\ Hương waterLevel=3.61,flow=12i,ok=t,note="say \\"hi\\", ' +
          '\\\\ ok" 1733356800123456789',
        '',
        'air\\,x,sensorId=a\\=b pm25=-1.5e1,n=7u',
      ].join('\r\n'),
    );
    expect(errors).toEqual([]);
    expect(points).toHaveLength(2);
    const [a, b] = points;
    expect(a!.line).toBe(2);
    expect(a!.measurement).toBe('water');
    expect(Object.fromEntries(a!.tags)).toEqual({ sensorId: 'water-kimlong', river: 'sông Hương' });
    expect(Object.fromEntries(a!.fields)).toEqual({ waterLevel: 3.61, flow: 12, ok: true, note: 'say "hi", \\ ok' });
    expect(a!.timestamp).toBe(1733356800123456789n);
    expect(toEpochMs(a!.timestamp!, 'ns')).toBe(1733356800123);
    expect(b!.measurement).toBe('air,x');
    expect(Object.fromEntries(b!.tags)).toEqual({ sensorId: 'a=b' });
    expect(Object.fromEntries(b!.fields)).toEqual({ pm25: -15, n: 7 });
    expect(b!.timestamp).toBeUndefined();
  });

  it('names the line and the reason of every bad line', () => {
    const { errors } = parseLineProtocol(
      'air,sensorId=a pm25=1\nair,sensorId=a\nair pm25=\nair pm25="open\nair pm25=1 12x\nair pm25=9999999999999999999i',
    );
    expect(errors.map((e) => `${e.line}: ${e.message}`)).toEqual([
      '2: missing fields',
      '3: missing value for field "pm25"',
      '4: unterminated string in field "pm25"',
      '5: bad timestamp "12x"',
      '6: integer field "pm25" is out of range: 9999999999999999999i',
    ]);
  });

  it('converts every precision to milliseconds', () => {
    expect(toEpochMs(1_700_000_000n, 's')).toBe(1_700_000_000_000);
    expect(toEpochMs(1_700_000_000_000_000n, 'us')).toBe(1_700_000_000_000);
    expect(toEpochMs(28_333_333n, 'm')).toBe(1_699_999_980_000);
    expect(toEpochMs(1n, 'h')).toBe(3_600_000);
    expect(toEpochMs(1n, 'fortnight')).toBeUndefined();
    expect(toEpochMs(10n ** 30n, 'ms')).toBeUndefined();
  });

  // no backslash: "\\ " means an escaped backslash then a separator to InfluxDB 2's parser, and the
  // client library writes a name ending in a backslash before a space that way
  const name = fc.stringMatching(/^[A-Za-z0-9_ ,="é-]{1,12}$/).filter((s) => !s.startsWith('#') && s.trim() === s);
  const fieldValue = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.string({ maxLength: 20 }),
    fc.integer(),
  );

  it('reads back what the official client library writes (property)', () => {
    fc.assert(
      fc.property(
        name,
        fc.dictionary(
          name,
          name.filter((v) => v !== ''),
          { maxKeys: 3 },
        ),
        fc.dictionary(name, fieldValue, { minKeys: 1, maxKeys: 4 }),
        fc.bigInt({ min: 0n, max: 2n ** 62n }),
        (measurement, tags, fields, ts) => {
          const point = new Point(measurement).timestamp(ts.toString());
          for (const [k, v] of Object.entries(tags)) point.tag(k, v);
          for (const [k, v] of Object.entries(fields)) {
            if (typeof v === 'boolean') point.booleanField(k, v);
            else if (typeof v === 'string') point.stringField(k, v);
            else if (Number.isSafeInteger(v)) point.intField(k, v);
            else point.floatField(k, v);
          }
          const line = point.toLineProtocol();
          if (!line) return; // the library drops a point it cannot write
          const { points, errors } = parseLineProtocol(line);
          expect(errors).toEqual([]);
          expect(points[0]!.measurement).toBe(measurement);
          expect(Object.fromEntries(points[0]!.tags)).toEqual(
            Object.fromEntries(Object.entries(tags).filter(([, v]) => v !== '')),
          );
          const expected = Object.fromEntries(
            Object.entries(fields).map(([k, v]) => [k, typeof v === 'number' ? (Object.is(v, -0) ? 0 : v) : v]),
          );
          expect(Object.fromEntries([...points[0]!.fields].map(([k, v]) => [k, Object.is(v, -0) ? 0 : v]))).toEqual(
            expected,
          );
          expect(points[0]!.timestamp).toBe(ts);
        },
      ),
      fuzzParameters(300),
    );
  });

  it('never throws on any input, and every point it returns has a measurement and a field (property)', () => {
    fc.assert(
      fc.property(
        fc.string({
          maxLength: 200,
          unit: fc.constantFrom('a', ' ', ',', '=', '"', '\\', '\n', '1', 'i', 't', '#', '.', 'e', '-'),
        }),
        (body) => {
          const { points, errors } = parseLineProtocol(body);
          for (const p of points) {
            expect(p.measurement).not.toBe('');
            expect(p.fields.size).toBeGreaterThan(0);
          }
          for (const e of errors) expect(e.line).toBeGreaterThan(0);
        },
      ),
      fuzzParameters(2000),
    );
  });
});
