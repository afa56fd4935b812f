import { z } from 'zod';
import type { AlertCategory, Severity } from './alert-model.ts';
import { parseDuration } from '../core/duration.ts';

/**
 * The fields every rule type shares and the pieces types build their schemas from (rule-type.ts is the
 * contract, rule-types.ts the list). Durations stay as written ("5m") so a rule read from YAML, edited
 * through the API and written back keeps its shape; evaluators turn them into milliseconds with `durationMs`.
 */
export const SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const satisfies readonly Severity[];
export const CATEGORIES = [
  'environment',
  'weather',
  'traffic',
  'naturalDisaster',
  'security',
] as const satisfies readonly AlertCategory[];
export const AGGREGATES = ['last', 'mean', 'min', 'max', 'sum'] as const;
export type WindowAggregate = (typeof AGGREGATES)[number];

const ruleId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_.-]{0,63}$/,
    'lower-case letters, digits, "_", "-" or "." (at most 64), starting with a letter or digit',
  );
export const sensorIdField = z.string().min(1);
export const i18nText = z.object({ vi: z.string().min(1), en: z.string().min(1) }).strict();

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

export const selectorSchema = z
  .object({
    sensorIds: z.array(sensorIdField).min(1).optional(),
    kinds: z.array(z.string().min(1)).min(1).optional(),
    districts: z.array(z.string().min(1)).min(1).optional(),
    tags: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .refine((s) => Object.keys(s).length > 0, 'a selector needs at least one of sensorIds, kinds, districts, tags');
export type Selector = z.infer<typeof selectorSchema>;

/** Spread into every rule type's schema: `z.object({ ...commonRuleFields, type: z.literal('mine'), ... })`. */
export const commonRuleFields = {
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

export const metricName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a metric name');

/** What every rule has, whatever its type. */
export type RuleBase = z.infer<z.ZodObject<typeof commonRuleFields>> & { readonly type: string };
