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
});
