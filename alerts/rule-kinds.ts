import { z } from 'zod';
import { cameraEventKind } from './camera-event-rule.ts';
import { compoundKind } from './compound-rule.ts';
import { deviceHealthKind } from './device-health/device-health-kind.ts';
import { noDataKind } from './no-data-rule.ts';
import { rateOfChangeKind } from './rate-of-change-rule.ts';
import type { RuleBase } from './rule-fields.ts';
import type { RuleKindDefinition } from './rule-kind.ts';
import { thresholdKind } from './threshold-rule.ts';

/**
 * The rule kinds the platform knows: a new kind is one file against rule-kind.ts and one line here.
 */
export const BUILTIN_RULE_KINDS = [
  thresholdKind,
  rateOfChangeKind,
  noDataKind,
  cameraEventKind,
  compoundKind,
  deviceHealthKind,
] as const;

/** A rule of any built-in kind (the union of their schemas). */
export type Rule = z.infer<(typeof BUILTIN_RULE_KINDS)[number]['schema']>;
export type RuleKind = Rule['kind'];

/** One kind's definition without its own types: what the engine and the loader hold. */
// eslint-style note: the parameters are contravariant, so a definition is stored as this wider type
export type AnyRuleKind = RuleKindDefinition<RuleBase, { readonly cond: import('./condition.ts').Condition }>;

/** The kinds one platform uses (the built-ins, or those plus more in tests and extensions). */
export class RuleKinds {
  private readonly byName = new Map<string, AnyRuleKind>();
  /** every kind's schema, discriminated by `kind`: rule files, the API and its OpenAPI document */
  readonly schema: z.ZodType<RuleBase>;

  constructor(kinds: ReadonlyArray<RuleKindDefinition<never, never>>) {
    for (const kind of kinds as unknown as AnyRuleKind[]) {
      if (this.byName.has(kind.kind)) throw new Error(`rule kind "${kind.kind}" is defined twice`);
      this.byName.set(kind.kind, kind);
    }
    const schemas = [...this.byName.values()].map((k) => k.schema) as unknown as [z.ZodObject, ...z.ZodObject[]];
    this.schema = z.discriminatedUnion('kind', schemas) as unknown as z.ZodType<RuleBase>;
  }

  get(kind: string): AnyRuleKind | undefined {
    return this.byName.get(kind);
  }

  of(rule: RuleBase): AnyRuleKind {
    const kind = this.byName.get(rule.kind);
    if (!kind) throw new Error(`no rule kind "${rule.kind}"`);
    return kind;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

export const builtinRuleKinds = new RuleKinds(
  BUILTIN_RULE_KINDS as unknown as ReadonlyArray<RuleKindDefinition<never, never>>,
);
