import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFeedQuery } from './cap-feed-query.ts';

const text = fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 4 }));

describe('the CAP feed query check (by hand instead of zod)', () => {
  it('keeps kind, severity and district as given, and only those', () => {
    fc.assert(
      fc.property(
        fc.record({ kind: text, severity: text, district: text }, { requiredKeys: [] }),
        fc.string(),
        (query, token) => {
          const result = checkFeedQuery({ ...query, token });
          expect(result).toEqual({ value: query });
        },
      ),
      { seed: 20261206, numRuns: 200 },
    );
  });

  it('refuses anything but text, naming the parameter', () => {
    const result = checkFeedQuery({ severity: ['high', 3] });
    expect('error' in result && result.error.validation[0]!.instancePath).toBe('/severity');
    expect('error' in checkFeedQuery({ kind: { a: 1 } })).toBe(true);
    expect(checkFeedQuery(undefined)).toEqual({ value: {} });
  });

  it('takes page only as a whole number from 1 to 10000, whatever else is sent (property, fixed seed)', () => {
    expect(checkFeedQuery({ page: '3' })).toEqual({ value: { page: 3 } });
    expect(checkFeedQuery({ page: '10000' })).toEqual({ value: { page: 10_000 } });
    for (const bad of ['0', '10001', '-1', '1.5', '1e3', ' 2', '0x10', '', ['1', '2']])
      expect('error' in checkFeedQuery({ page: bad })).toBe(true);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })), (page) => {
        const result = checkFeedQuery({ page });
        if ('value' in result) {
          expect(Number.isInteger(result.value.page)).toBe(true);
          expect(result.value.page).toBeGreaterThanOrEqual(1);
          expect(result.value.page).toBeLessThanOrEqual(10_000);
        } else expect(result.error.validation[0]!.instancePath).toBe('/page');
      }),
      { seed: 20261206, numRuns: 300 },
    );
  });
});
