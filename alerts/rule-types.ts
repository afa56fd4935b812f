import { z } from 'zod';
import { cameraEventType } from './camera-event-rule.ts';
import { compoundType } from './compound-rule.ts';
import { deviceHealthType } from './device-health/device-health-rule.ts';
import { noDataType } from './no-data-rule.ts';
import { rateOfChangeType } from './rate-of-change-rule.ts';
import type { RuleBase } from './rule-fields.ts';
import type { RuleTypeDefinition } from './rule-type.ts';
import { thresholdType } from './threshold-rule.ts';

/**
 * The rule types the platform knows: a new type is one file against rule-type.ts and one line here.
 */
export const BUILTIN_RULE_TYPES = [
  thresholdType,
  rateOfChangeType,
  noDataType,
  cameraEventType,
  compoundType,
  deviceHealthType,
] as const;

/** A rule of any built-in type (the union of their schemas). */
export type Rule = z.infer<(typeof BUILTIN_RULE_TYPES)[number]['schema']>;
export type RuleType = Rule['type'];

/** One type's definition without its own generics: what the engine and the loader hold. */
// eslint-style note: the parameters are contravariant, so a definition is stored as this wider type
export type AnyRuleType = RuleTypeDefinition<RuleBase, { readonly cond: import('./condition.ts').Condition }>;

/** The rule types one platform uses (the built-ins, or those plus more in tests and extensions). */
export class RuleTypes {
  private readonly byName = new Map<string, AnyRuleType>();
  /** every type's schema, discriminated by `type`: rule files, the API and its OpenAPI document */
  readonly schema: z.ZodType<RuleBase>;

  constructor(types: ReadonlyArray<RuleTypeDefinition<never, never>>) {
    for (const type of types as unknown as AnyRuleType[]) {
      if (this.byName.has(type.type)) throw new Error(`rule type "${type.type}" is defined twice`);
      this.byName.set(type.type, type);
    }
    const schemas = [...this.byName.values()].map((k) => k.schema) as unknown as [z.ZodObject, ...z.ZodObject[]];
    this.schema = z.discriminatedUnion('type', schemas) as unknown as z.ZodType<RuleBase>;
  }

  get(type: string): AnyRuleType | undefined {
    return this.byName.get(type);
  }

  of(rule: RuleBase): AnyRuleType {
    const type = this.byName.get(rule.type);
    if (!type) throw new Error(`no rule type "${rule.type}"`);
    return type;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

export const builtinRuleTypes = new RuleTypes(
  BUILTIN_RULE_TYPES as unknown as ReadonlyArray<RuleTypeDefinition<never, never>>,
);
