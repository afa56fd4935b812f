import type { z } from 'zod';
import { BUILTIN_RULE_TYPES, builtinRuleTypes, type Rule } from './rule-types.ts';

/**
 * Rules are data: one zod schema per rule type (in the type's file), YAML files hold a list of them. This
 * is the union of the built-in types, for code that works with those; rule-types.ts builds the same for
 * any set of types.
 */
export * from './rule-fields.ts';
export type { Rule, RuleType } from './rule-types.ts';
export type { ThresholdRule } from './threshold-rule.ts';
export type { RateOfChangeRule } from './rate-of-change-rule.ts';
export type { NoDataRule } from './no-data-rule.ts';
export type { CameraEventRule } from './camera-event-rule.ts';
export type { CompoundRule, CompoundCondition } from './compound-rule.ts';
export { thresholdRuleSchema } from './threshold-rule.ts';
export { rateOfChangeRuleSchema } from './rate-of-change-rule.ts';
export { noDataRuleSchema } from './no-data-rule.ts';
export { cameraEventRuleSchema } from './camera-event-rule.ts';
export { compoundRuleSchema, compoundConditionSchema } from './compound-rule.ts';

export const RULE_TYPES = BUILTIN_RULE_TYPES.map((k) => k.type);
export const ruleSchema = builtinRuleTypes.schema as z.ZodType<Rule>;
