import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { samplesJson } from '../store/range-json.ts';
import { rawPageBody } from './readings-page.ts';
import { readingsBody } from './sensors-routes.ts';

/**
 * A raw page is built as JSON text where the rows are read (store/range-json.ts) and sent without the
 * route's serialiser: these hold that text to the route's 200 schema and to what serialising the same
 * samples as objects gives, for any samples a store can hold.
 */
const sample = fc.record({
  ts: fc.integer({ min: -8.64e15, max: 8.64e15 }),
  value: fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.constantFrom(0, -0, 1e-300, 1.7976931348623157e308),
  ),
});
const head = { sensorId: 'air-ngomon', metric: 'pm2.5 "µg"', unit: 'ug/m3', from: 0, to: 10 };

describe('raw readings page as prebuilt JSON', () => {
  it('holds the first limit samples and where the next page starts, valid against the 200 schema', () => {
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 60 }), fc.integer({ min: 1, max: 50 }), (samples, limit) => {
        const body = JSON.parse(rawPageBody(head, samplesJson(samples, limit)).toString('utf8')) as unknown;
        const page = readingsBody.parse(body);
        const shown = samples.slice(0, limit).map((s) => ({ ts: s.ts, value: Object.is(s.value, -0) ? 0 : s.value }));
        expect(page.points).toEqual(shown);
        expect(page.truncated).toBe(samples.length > limit);
        expect(page.nextFrom).toBe(samples.length > limit ? samples[limit]!.ts : undefined);
        expect(page).toMatchObject(head);
      }),
      { seed: 13_7, numRuns: 300 },
    );
  });

  it('is the same text as serialising the samples, whatever else a store row carries', () => {
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 30 }), (samples) => {
        const rows = samples.map((s) => ({ value: s.value, series_id: 7, ts: s.ts }));
        const text = new TextDecoder().decode(samplesJson(rows, samples.length).points);
        expect(text).toBe(JSON.stringify(samples.map((s) => ({ ts: s.ts, value: s.value }))));
      }),
      { seed: 13_7, numRuns: 300 },
    );
  });
});
