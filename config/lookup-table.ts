/**
 * Tables keyed by outside data (metric names, event types, sub-categories, template variables, usernames).
 * A plain `{}` answers `table['constructor']` with Object's constructor and `table['__proto__']` with
 * Object.prototype, so a device or an API caller naming a built-in property would read (or, on write,
 * replace) something that is not an entry. These tables have no prototype, and `ownValue` reads only
 * own entries of tables that do (JSON imports, zod output).
 *
 * Prefer a Map for tables that change; use these where a record is the natural shape (JSON-serialised
 * bodies, frozen constant tables, zod records).
 */
export type LookupTable<V> = Record<string, V>;

/** An empty table without a prototype: writes of "__proto__" make an entry, reads of "toString" miss. */
export function emptyTable<V>(): LookupTable<V> {
  return Object.create(null) as LookupTable<V>;
}

/**
 * The shared prototype of `recordTable`s: it holds nothing and has no prototype itself (frozen), so a table's
 * reads of built-in names miss and a write of "__proto__" makes an entry, as with `emptyTable`.
 */
const Entries = function Entries() {} as unknown as new () => Record<string, never>;
Entries.prototype = Object.freeze(Object.create(null));

/**
 * `emptyTable` for a table made per message (a reading's values, on every publish): V8 keeps an
 * `Object.create(null)` object in dictionary mode, slower to fill, to serialise and to walk, and larger for
 * the garbage collector; an object whose prototype is an empty prototype-less object keeps fast properties and
 * answers reads and writes of outside keys the same way.
 */
export function recordTable<V>(): LookupTable<V> {
  return new Entries() as LookupTable<V>;
}

/** A frozen copy of `entries` without a prototype. */
export function lookupTable<V>(
  entries: Readonly<Record<string, V>> | Iterable<readonly [string, V]>,
): Readonly<LookupTable<V>> {
  const table = emptyTable<V>();
  const pairs =
    Symbol.iterator in entries
      ? (entries as Iterable<readonly [string, V]>)
      : Object.entries(entries as Record<string, V>);
  for (const [key, value] of pairs) table[key] = value;
  return Object.freeze(table);
}

/** `table[key]` if the table has it as its own entry, else undefined (never an inherited property). */
export function ownValue<V>(table: Readonly<Record<string, V>> | undefined, key: string): V | undefined {
  return table !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}
