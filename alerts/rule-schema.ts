import type { z } from 'zod';
import { BUILTIN_RULE_KINDS, builtinRuleKinds, type Rule } from './rule-kinds.ts';

/**
 * Rules are data: one zod schema per rule kind (in the kind's file), YAML files hold a list of them. This
 * is the union of the built-in kinds, for code that works with those; rule-kinds.ts builds the same for
 * any set of kinds.
 */
export * from './rule-fields.ts';
export type { Rule, RuleKind } from './rule-kinds.ts';
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

export const RULE_KINDS = BUILTIN_RULE_KINDS.map((k) => k.kind);
export const ruleSchema = builtinRuleKinds.schema as z.ZodType<Rule>;
