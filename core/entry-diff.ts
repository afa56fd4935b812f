/**
 * Documents kept as entries by key (accounts, device secrets, sensors, rules), compared entry by entry: what
 * a cluster node sends the others is the entries that changed, never the whole document (cluster/shared-
 * entries.ts). Values are compared as canonical JSON (keys sorted), so two nodes that built the same entry in
 * a different key order agree that it did not change.
 */
export type EntryChanges = ReadonlyMap<string, string | null>;

/** JSON with every object's keys sorted: one text per value, whoever built it. */
const byKey = ([a]: [string, unknown], [b]: [string, unknown]): number => (a < b ? -1 : a > b ? 1 : 0);

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(byKey))
      : v,
  );
}

/** key -> the value in `after`, or null when `after` no longer has it; unchanged keys are absent. */
export function diffEntries(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): EntryChanges {
  const changes = new Map<string, string | null>();
  for (const [key, value] of after) if (before.get(key) !== value) changes.set(key, value);
  for (const key of before.keys()) if (!after.has(key)) changes.set(key, null);
  return changes;
}

/** The changes that would make `current` hold what `changes` says; those it holds already are left out. */
export function pendingChanges(current: ReadonlyMap<string, string>, changes: EntryChanges): EntryChanges {
  const left = new Map<string, string | null>();
  for (const [key, value] of changes) if ((current.get(key) ?? null) !== value) left.set(key, value);
  return left;
}
