/**
 * A rule's type was called `kind` until `kind` came to mean sensor kinds only (docs/names.md). Rule files and
 * API clients written before still work: `kind` is read as `type`, with a warning, the way
 * config/deprecated-keys.ts reads `store.kind`. Both names with different values is an error, since either
 * could be the one meant.
 */
export const RULE_KIND_DEPRECATED =
  'kind is deprecated for a rule: use type ("kind" names sensor kinds: air, water, traffic, camera)';

export type RuleTypeAlias =
  /** the rule as given: no `kind`, or not a mapping */
  | { readonly outcome: 'none'; readonly raw: unknown }
  /** a copy of the rule with `kind` moved to `type` */
  | { readonly outcome: 'moved'; readonly raw: Record<string, unknown> }
  | { readonly outcome: 'conflict'; readonly message: string };

/** Reads a deprecated `kind` as `type`, without changing `raw`. */
export function readRuleTypeAlias(raw: unknown): RuleTypeAlias {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !Object.hasOwn(raw, 'kind')) {
    return { outcome: 'none', raw };
  }
  const { kind, ...rest } = raw as Record<string, unknown>;
  if (Object.hasOwn(rest, 'type') && rest.type !== kind) {
    const [was, now] = [JSON.stringify(kind), JSON.stringify(rest.type)];
    return { outcome: 'conflict', message: `kind (deprecated) ${was} and type ${now} disagree: keep only type` };
  }
  return { outcome: 'moved', raw: { ...rest, type: kind } };
}

/** Whether a request body names the rule's type by its deprecated name (the API then says so). */
export function usesDeprecatedKind(raw: unknown): boolean {
  return readRuleTypeAlias(raw).outcome === 'moved';
}
