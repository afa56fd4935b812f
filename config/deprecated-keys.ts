/**
 * Configuration keys that were renamed. The old name still loads, with one warning at start (the platform
 * logs `config.deprecations`), so a city's existing file keeps working through an upgrade; giving both
 * names with different values is an error, since either choice could be the wrong one.
 */
export interface RenamedKey {
  readonly old: readonly string[];
  readonly now: readonly string[];
  /** why it was renamed, shown in the warning */
  readonly why: string;
}

export const RENAMED_KEYS: readonly RenamedKey[] = [
  {
    old: ['store', 'kind'],
    now: ['store', 'engine'],
    why: '"kind" names sensor kinds (air, water, traffic, camera); the store has an engine',
  },
];

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function parentOf(raw: Json, path: readonly string[]): Json | undefined {
  let node: unknown = raw;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return isObject(node) ? node : undefined;
}

/**
 * Moves every old key of `raw` to its new name, in place. Returns one warning per old key found; pushes an
 * error when both names are given and disagree. Keys of a renamed pair share a parent (a rename, not a move).
 */
export function moveRenamedKeys(raw: Json, errors: string[]): string[] {
  const warnings: string[] = [];
  for (const { old, now, why } of RENAMED_KEYS) {
    const parent = parentOf(raw, old);
    const oldKey = old.at(-1)!;
    const newKey = now.at(-1)!;
    if (!parent || !Object.hasOwn(parent, oldKey)) continue;
    const value = parent[oldKey];
    delete parent[oldKey];
    if (Object.hasOwn(parent, newKey) && parent[newKey] !== value) {
      errors.push(`${old.join('.')} (deprecated) and ${now.join('.')} disagree: keep only ${now.join('.')}`);
      continue;
    }
    parent[newKey] = value;
    warnings.push(`${old.join('.')} is deprecated: use ${now.join('.')} (${why})`);
  }
  return warnings;
}
