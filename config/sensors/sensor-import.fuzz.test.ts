import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzzParameters } from '../../test-support/fuzz.ts';
import { loadSensorKinds } from '../city-config.ts';
import { cityBoundsFromGeoJson } from './city-bounds.ts';
import { parseCsv } from './csv-table.ts';
import { checkImport } from './sensor-import.ts';

/** Import files come from outside: the reader round-trips what a spreadsheet writes, and nothing throws. */
const params = fuzzParameters(300);
const kinds = loadSensorKinds(join(import.meta.dirname, '../kinds'));
// a square around Huế: cheap to reason about
const bounds = cityBoundsFromGeoJson(
  {
    type: 'Polygon',
    coordinates: [
      [
        [107, 16],
        [108, 16],
        [108, 17],
        [107, 17],
        [107, 16],
      ],
    ],
  },
  0,
);
const ctx = { kinds, bounds };

const quote = (f: string) => (/[",\r\n]/.test(f) || f === '' ? `"${f.replace(/"/g, '""')}"` : f);

describe('sensor import input', () => {
  it('reads back every field a CSV writer quoted (commas, quotes, newlines, Vietnamese)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(fc.string({ unit: fc.constantFrom('a', 'ư', ',', '"', '\n', '\r\n', ' ', '1') }), {
            minLength: 1,
            maxLength: 5,
          }),
          { minLength: 1, maxLength: 6 },
        ),
        (rows) => {
          const text = rows.map((r) => r.map(quote).join(',')).join('\r\n');
          expect(parseCsv(text).records.map((r) => r.fields)).toEqual(rows);
        },
      ),
      params,
    );
  });

  it('never throws, and a plan exists only when no problem was found', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.json()),
        fc.constantFrom('csv', 'geojson', 'yaml') as fc.Arbitrary<'csv' | 'geojson' | 'yaml'>,
        (text, format) => {
          const check = checkImport(format, `id,kind,name,lat,lon,district\n${text}`, ctx, {
            exists: () => false,
            updateExisting: false,
          });
          if (check.problems.length) expect(check.plan).toEqual([]);
          for (const p of check.plan) expect(bounds.contains(p.sensor.lat, p.sensor.lon)).toBe(true);
        },
      ),
      params,
    );
  });

  it('accepts exactly the rows inside the city with a known kind', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 15, max: 18, noNaN: true }),
        fc.double({ min: 106, max: 109, noNaN: true }),
        fc.constantFrom('air', 'water', 'lava'),
        (lat, lon, kind) => {
          const check = checkImport(
            'csv',
            `id,kind,name,lat,lon,district\ns1,${kind},Trạm,${lat},${lon},Phú Xuân\n`,
            ctx,
            { exists: () => false, updateExisting: false },
          );
          const ok = kind !== 'lava' && lat >= 16 && lat <= 17 && lon >= 107 && lon <= 108;
          expect(check.plan.length === 1).toBe(ok);
        },
      ),
      params,
    );
  });
});
