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

export type RenamedKeyRead =
  /** the object as given: no old key, or not a mapping */
  | { readonly outcome: 'none'; readonly raw: unknown }
  /** a copy of the object with the old key moved to the new name */
  | { readonly outcome: 'moved'; readonly raw: Json }
  | { readonly outcome: 'conflict'; readonly message: string };

/**
 * Reads a key renamed inside one object (a rule, a routing match, a silence's match) without changing
 * `raw`: the old key is moved to the new name. Both given with different values is a conflict, since either
 * could be the one meant; the same value under both names is taken.
 */
export function readRenamedKey(raw: unknown, oldKey: string, newKey: string): RenamedKeyRead {
  if (!isObject(raw) || !Object.hasOwn(raw, oldKey)) return { outcome: 'none', raw };
  const { [oldKey]: value, ...rest } = raw;
  if (Object.hasOwn(rest, newKey) && JSON.stringify(rest[newKey]) !== JSON.stringify(value)) {
    const [was, now] = [JSON.stringify(value), JSON.stringify(rest[newKey])];
    return {
      outcome: 'conflict',
      message: `${oldKey} (deprecated) ${was} and ${newKey} ${now} disagree: keep only ${newKey}`,
    };
  }
  return { outcome: 'moved', raw: { ...rest, [newKey]: value } };
}
