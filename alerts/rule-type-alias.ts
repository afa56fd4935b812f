import { readRenamedKey, type RenamedKeyRead } from '../config/deprecated-keys.ts';

/**
 * A rule's type was called `kind` until `kind` came to mean sensor kinds only (docs/names.md). Rule files and
 * API clients written before still work: `kind` is read as `type`, with a warning, the way
 * config/deprecated-keys.ts reads `store.kind`. Both names with different values is an error, since either
 * could be the one meant.
 */
export const RULE_KIND_DEPRECATED =
  'kind is deprecated for a rule: use type ("kind" names sensor kinds: air, water, traffic, camera)';

export type RuleTypeAlias = RenamedKeyRead;

/** Reads a deprecated `kind` as `type`, without changing `raw`. */
export function readRuleTypeAlias(raw: unknown): RuleTypeAlias {
  return readRenamedKey(raw, 'kind', 'type');
}

/** Whether a request body names the rule's type by its deprecated name (the API then says so). */
export function usesDeprecatedKind(raw: unknown): boolean {
  return readRuleTypeAlias(raw).outcome === 'moved';
}
