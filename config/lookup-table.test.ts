import { describe, expect, it } from 'vitest';
import { emptyTable, recordTable } from './lookup-table.ts';

describe('tables keyed by outside data', () => {
  it.each([
    ['emptyTable', emptyTable],
    ['recordTable', recordTable],
  ])(
    '%s: reads of built-in names miss, a write of __proto__ is an entry, JSON and keys as for a plain record',
    (_, make) => {
      const table = make<number>();
      for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])
        expect([name, table[name], name in table]).toEqual([name, undefined, false]);
      table.pm25 = 12;
      const proto = '__proto__'; // a key as a device would send it
      table[proto] = 3;
      table['constructor' as string] = 4;
      expect(Object.keys(table)).toEqual(['pm25', '__proto__', 'constructor']);
      expect(Object.hasOwn(table, '__proto__')).toBe(true);
      expect(JSON.stringify(table)).toBe('{"pm25":12,"__proto__":3,"constructor":4}');
      expect(JSON.parse(JSON.stringify({ ...table }))).toEqual(JSON.parse('{"pm25":12,"__proto__":3,"constructor":4}'));
      // another table is not changed by this one's entries
      expect(make<number>().pm25).toBeUndefined();
    },
  );
});
