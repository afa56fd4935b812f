import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParameters } from '../../test-support/fuzz.ts';
import { compileRegex, MAX_QUERY_LENGTH, parseQuery, QueryError } from './ngsi-ld-query.ts';
import { matchesQuery } from './ngsi-ld-query-match.ts';

/**
 * `q` is text from outside: whatever it is, parsing ends in a query or a QueryError (a 400), never in
 * another exception, a stack overflow or a regular expression that runs away; a parsed query evaluates
 * against any entity without throwing.
 */
const params = fuzzParameters(2000);

const entity = {
  id: 'urn:ngsi-ld:AirQualityObserved:hue:air-ngomon',
  type: 'AirQualityObserved',
  pm25: { type: 'Property', value: 80.5, observedAt: '2026-12-06T03:00:00.000Z', unitCode: 'GQ' },
  congested: { type: 'Property', value: true },
  name: { type: 'Property', value: 'Quan trắc không khí Ngọ Môn' },
  address: { type: 'Property', value: { addressLocality: 'Phú Xuân', addressCountry: 'VN' } },
  controlledProperty: { type: 'Property', value: ['pm25', 'no2'] },
  refDevice: { type: 'Relationship', object: 'urn:ngsi-ld:Device:hue:air-ngomon' },
  location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [107.5, 16.4] } },
};

const parsesOrRefuses = (text: string): void => {
  try {
    const q = parseQuery(text);
    matchesQuery(entity, q);
  } catch (err) {
    if (!(err instanceof QueryError)) throw err;
  }
};

// pieces a query is made of, so the fuzzer reaches deep into the grammar instead of failing at once
const token = fc.constantFrom(
  'pm25',
  'name',
  'congested',
  'address[addressLocality]',
  'pm25.observedAt',
  'refDevice',
  'controlledProperty',
  '==',
  '!=',
  '>',
  '>=',
  '<',
  '<=',
  '~=',
  '!~=',
  ';',
  '|',
  '(',
  ')',
  '!',
  '"',
  '\\',
  ',',
  '..',
  '[',
  ']',
  '.',
  '50',
  '-1.5e3',
  '1e999',
  'true',
  'false',
  '"Phú Xuân"',
  '"a\\"b"',
  '2026-12-06T03:00:00Z',
  'urn:ngsi-ld:x',
  '"(a+)+$"',
  '"[z-a]"',
  '"^Quan"',
  '__proto__',
  'constructor',
  ' ',
  '',
);
const composed = fc.array(token, { maxLength: 40 }).map((parts) => parts.join(''));

describe('parseQuery, fuzzed', () => {
  it('never throws anything but QueryError on random text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), parsesOrRefuses), params);
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 100 }), parsesOrRefuses), params);
  });

  it("never throws anything but QueryError on text made of the grammar's own pieces", () => {
    fc.assert(fc.property(composed, parsesOrRefuses), params);
  });

  it('refuses deep nesting, huge and many-term queries with a QueryError, not a stack overflow', () => {
    expect(() => parseQuery(`${'('.repeat(10_000)}pm25${')'.repeat(10_000)}`)).toThrow(QueryError);
    expect(() => parseQuery('x'.repeat(MAX_QUERY_LENGTH + 1))).toThrow(QueryError);
    expect(() => parseQuery(Array.from({ length: 100 }, () => 'pm25>1').join(';'))).toThrow(QueryError);
    expect(() => parseQuery('name~="(a+)+$"')).toThrow(/repeats a group/);
    expect(() => parseQuery('name~="(a|aa)*b"')).toThrow(/repeats a group/);
  });
});

describe('the query language', () => {
  const match = (q: string) => matchesQuery(entity, parseQuery(q));

  it('compares numbers, strings, booleans, dates, lists and ranges', () => {
    expect(match('pm25>50')).toBe(true);
    expect(match('pm25>=80.5;pm25<=80.5')).toBe(true);
    expect(match('pm25<50')).toBe(false);
    expect(match('pm25==70..90')).toBe(true);
    expect(match('pm25!=70..80')).toBe(true);
    expect(match('pm25==1,2,80.5')).toBe(true);
    expect(match('congested==true')).toBe(true);
    expect(match('address[addressLocality]=="Phú Xuân"')).toBe(true);
    expect(match('pm25.observedAt>2026-12-06T02:00:00Z')).toBe(true);
    expect(match('refDevice=="urn:ngsi-ld:Device:hue:air-ngomon"')).toBe(true);
    expect(match('controlledProperty=="no2"')).toBe(true);
    expect(match('name~="^Quan trắc"')).toBe(true);
    expect(match('name!~="^Quan"')).toBe(false);
  });

  it('combines with ; | and parentheses, and tests existence', () => {
    expect(match('pm25<50|congested==true')).toBe(true);
    expect(match('(pm25<50|pm25>80);name')).toBe(true);
    expect(match('!no2')).toBe(true);
    expect(match('no2')).toBe(false);
    // a comparison with an attribute the entity lacks does not match, whatever the operator
    expect(match('no2!=5')).toBe(false);
    // a number compared with a string simply does not match
    expect(match('pm25=="80.5"')).toBe(false);
  });

  it('says what is wrong and where', () => {
    expect(() => parseQuery('pm25>')).toThrow('q: a value after ">" at position 5');
    expect(() => parseQuery('pm25>1;')).toThrow(/an attribute name at position 7/);
    expect(() => parseQuery('name=="open')).toThrow(/unterminated string/);
    expect(() => parseQuery('name==Hue')).toThrow(
      /must be a number, true, false, a date-time, a URI or a "quoted string"/,
    );
    expect(() => parseQuery('pm25>1,2')).toThrow(/only goes with == or !=/);
  });

  it('refuses every repeated group, however deeply nested or escaped around (the ReDoS class, not one example)', () => {
    const atom = fc.constantFrom('a', '[^Z]', '.', '\\w', '\\)', 'x|y');
    const inner = fc.constantFrom('+', '*', '?', '{2,}', '');
    const outer = fc.constantFrom('+', '*', '?', '{3}', '{1,}', ' +');
    const open = fc.constantFrom('(', '(?:', '(?<g>');
    fc.assert(
      fc.property(atom, inner, outer, fc.array(open, { minLength: 1, maxLength: 5 }), (a, q, r, opens) => {
        const pattern = `^${opens.join('')}${a}${q}${')'.repeat(opens.length)}${r}Z$`;
        expect(() => compileRegex(pattern, 0)).toThrow(QueryError);
      }),
      params,
    );
    // a quantified escaped paren is a literal, not a group
    expect(compileRegex('a\\)+', 0)).toBeInstanceOf(RegExp);
    expect(() => compileRegex('.*.*.*.*X', 0)).toThrow(/unbounded quantifiers/);
  });
});
