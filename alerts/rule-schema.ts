import { z } from 'zod';
import type { AlertCategory, Severity } from './alert-model.ts';
import { parseDuration } from '../config/duration.ts';

/**
 * Rules are data: one zod schema per rule kind, YAML files hold a list of them. Durations stay as written
 * ("5m") so a rule read from YAML, edited through the API and written back keeps its shape; evaluators
 * turn them into milliseconds with `durationMs`.
 */
export const SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const satisfies readonly Severity[];
export const CATEGORIES = ['environment', 'weather', 'traffic', 'naturalDisaster', 'security'] as const satisfies readonly AlertCategory[];
export const RULE_KINDS = ['threshold', 'rateOfChange', 'noData', 'cameraEvent', 'compound'] as const;
export const AGGREGATES = ['last', 'mean', 'min', 'max', 'sum'] as const;
export type WindowAggregate = (typeof AGGREGATES)[number];

const ruleId = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'lower-case letters, digits, "_", "-" or "." (at most 64), starting with a letter or digit');
const sensorId = z.string().min(1);
const i18nText = z.object({ vi: z.string().min(1), en: z.string().min(1) }).strict();

export const durationSchema = z.union([
  z.string().refine((v) => parseDuration(v) !== undefined, 'expected a duration like "90s", "5m", "1h30m" or "2d"'),
  z.number().nonnegative(),
]);
export type Duration = z.infer<typeof durationSchema>;

const durationCache = new Map<string, number>();
export function durationMs(d: Duration | undefined): number {
  if (d === undefined) return 0;
  if (typeof d === 'number') return d;
  let ms = durationCache.get(d);
  if (ms === undefined) {
    ms = parseDuration(d) ?? 0;
    durationCache.set(d, ms);
  }
  return ms;
}

export const selectorSchema = z.object({
  sensorIds: z.array(sensorId).min(1).optional(),
  kinds: z.array(z.string().min(1)).min(1).optional(),
  districts: z.array(z.string().min(1)).min(1).optional(),
  tags: z.record(z.string(), z.string()).optional(),
}).strict().refine((s) => Object.keys(s).length > 0, 'a selector needs at least one of sensorIds, kinds, districts, tags');
export type Selector = z.infer<typeof selectorSchema>;

const common = {
  id: ruleId,
  title: i18nText.optional(),
  description: z.string().optional(),
  enabled: z.boolean().default(true),
  severity: z.enum(SEVERITIES),
  category: z.enum(CATEGORIES),
  subCategory: z.string().min(1),
  /** Templates with {value} {threshold} {unit} {sensor} {metric} {district} {level} {count} {window}. */
  message: i18nText.optional(),
  /** The condition must hold this long before the alert fires (pending until then), as Prometheus `for`. */
  for: durationSchema.optional(),
};

const metricName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a metric name');

export const thresholdRuleSchema = z.object({
  ...common,
  kind: z.literal('threshold'),
  selector: selectorSchema,
  metric: metricName,
  above: z.number().optional(),
  below: z.number().optional(),
  /** Flood alarm level I/II/III: the threshold is the selected station's own `floodLevels[level-1]`. */
  floodLevel: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
  clearBelow: z.number().optional(),
  clearAbove: z.number().optional(),
  /** Margin of hysteresis: clears at threshold - hysteresis (above) or threshold + hysteresis (below). */
  hysteresis: z.number().nonnegative().optional(),
  window: durationSchema.optional(),
  aggregate: z.enum(AGGREGATES).optional(),
}).strict().superRefine((r, ctx) => {
  const given = (['above', 'below', 'floodLevel'] as const).filter((k) => r[k] !== undefined);
  if (given.length !== 1) ctx.addIssue({ code: 'custom', path: ['above'], message: 'give exactly one of above, below or floodLevel' });
  if (r.clearBelow !== undefined) {
    if (r.below !== undefined) ctx.addIssue({ code: 'custom', path: ['clearBelow'], message: 'clearBelow goes with above or floodLevel; with below use clearAbove' });
    if (r.above !== undefined && r.clearBelow > r.above) ctx.addIssue({ code: 'custom', path: ['clearBelow'], message: `must not exceed above (${r.above})` });
  }
  if (r.clearAbove !== undefined) {
    if (r.below === undefined) ctx.addIssue({ code: 'custom', path: ['clearAbove'], message: 'clearAbove goes with below' });
    else if (r.clearAbove < r.below) ctx.addIssue({ code: 'custom', path: ['clearAbove'], message: `must not be under below (${r.below})` });
  }
  if (r.floodLevel !== undefined && r.clearBelow !== undefined) ctx.addIssue({ code: 'custom', path: ['clearBelow'], message: 'with floodLevel give the margin as hysteresis (m)' });
  if (r.hysteresis !== undefined && (r.clearBelow !== undefined || r.clearAbove !== undefined)) ctx.addIssue({ code: 'custom', path: ['hysteresis'], message: 'give either hysteresis or clearBelow/clearAbove, not both' });
  if (r.aggregate && r.aggregate !== 'last' && r.window === undefined) ctx.addIssue({ code: 'custom', path: ['window'], message: `aggregate ${r.aggregate} needs a window` });
});

export const rateOfChangeRuleSchema = z.object({
  ...common,
  kind: z.literal('rateOfChange'),
  selector: selectorSchema,
  metric: metricName,
  window: durationSchema,
  /** Fires when the value rose by at least this much within the window (latest minus the window's lowest). */
  rise: z.number().positive().optional(),
  /** Fires when the value fell by at least this much within the window (window's highest minus latest). */
  fall: z.number().positive().optional(),
  hysteresis: z.number().nonnegative().optional(),
}).strict().superRefine((r, ctx) => {
  if ((r.rise === undefined) === (r.fall === undefined)) ctx.addIssue({ code: 'custom', path: ['rise'], message: 'give exactly one of rise or fall' });
  if (durationMs(r.window) <= 0) ctx.addIssue({ code: 'custom', path: ['window'], message: 'must be longer than 0' });
});

export const noDataRuleSchema = z.object({
  ...common,
  kind: z.literal('noData'),
  selector: selectorSchema,
  /** Fires when a sensor sent no reading for this long. */
  silence: durationSchema.optional(),
  /** Fires when the device's status topic says offline (its MQTT last will). */
  offline: z.boolean().default(true),
}).strict().superRefine((r, ctx) => {
  if (r.silence === undefined && !r.offline) ctx.addIssue({ code: 'custom', path: ['silence'], message: 'give silence, or leave offline: true' });
  if (r.silence !== undefined && durationMs(r.silence) <= 0) ctx.addIssue({ code: 'custom', path: ['silence'], message: 'must be longer than 0' });
});

export const cameraEventRuleSchema = z.object({
  ...common,
  kind: z.literal('cameraEvent'),
  selector: selectorSchema,
  eventTypes: z.array(z.string().min(1)).min(1),
  /** Fires when at least this many matching events arrived within the window; clears when fewer remain. */
  count: z.number().int().min(1).default(1),
  window: durationSchema.default('5m'),
}).strict().superRefine((r, ctx) => {
  if (durationMs(r.window) <= 0) ctx.addIssue({ code: 'custom', path: ['window'], message: 'must be longer than 0' });
});

export const compoundConditionSchema = z.object({
  selector: selectorSchema,
  metric: metricName,
  /** any: one selected sensor meeting it is enough (default); all: every selected sensor that reported. */
  match: z.enum(['any', 'all']).default('any'),
  window: durationSchema.optional(),
  aggregate: z.enum(AGGREGATES).optional(),
  above: z.number().optional(),
  below: z.number().optional(),
  rise: z.number().positive().optional(),
  fall: z.number().positive().optional(),
}).strict().superRefine((c, ctx) => {
  const given = (['above', 'below', 'rise', 'fall'] as const).filter((k) => c[k] !== undefined);
  if (given.length !== 1) ctx.addIssue({ code: 'custom', path: ['above'], message: 'give exactly one of above, below, rise or fall' });
  if ((c.rise !== undefined || c.fall !== undefined) && c.window === undefined) ctx.addIssue({ code: 'custom', path: ['window'], message: 'rise and fall need a window' });
  if (c.aggregate && c.aggregate !== 'last' && c.window === undefined) ctx.addIssue({ code: 'custom', path: ['window'], message: `aggregate ${c.aggregate} needs a window` });
});
export type CompoundCondition = z.infer<typeof compoundConditionSchema>;

export const compoundRuleSchema = z.object({
  ...common,
  kind: z.literal('compound'),
  /** The sensor the alert is about (and shown at on the map), e.g. the river station. */
  alertSensor: sensorId,
  conditions: z.array(compoundConditionSchema).min(2),
}).strict();

export const ruleSchema = z.discriminatedUnion('kind', [
  thresholdRuleSchema,
  rateOfChangeRuleSchema,
  noDataRuleSchema,
  cameraEventRuleSchema,
  compoundRuleSchema,
]);

export type ThresholdRule = z.infer<typeof thresholdRuleSchema>;
export type RateOfChangeRule = z.infer<typeof rateOfChangeRuleSchema>;
export type NoDataRule = z.infer<typeof noDataRuleSchema>;
export type CameraEventRule = z.infer<typeof cameraEventRuleSchema>;
export type CompoundRule = z.infer<typeof compoundRuleSchema>;
export type Rule = z.infer<typeof ruleSchema>;
export type RuleKind = Rule['kind'];
