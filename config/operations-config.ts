import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { City } from './city-config.ts';
import { ConfigError, formatZodIssues } from './config-error.ts';
import { readRenamedKey } from './deprecated-keys.ts';
import { parseDuration } from '../core/duration.ts';
import { deepFreeze } from './platform-config.ts';
import { loadSops, type Sops } from './sop-config.ts';

/**
 * The city's operations: who handles which alert (agencies, their members, channels and working hours,
 * routing rules) and how long they may take before it escalates. Read from `operations.yaml` next to the
 * city file, validated against the city (districts, sensors), parsed once and frozen. The procedures
 * (SOPs) are in `sop/vi.yaml` and `sop/en.yaml` beside it (sop-config.ts). docs/operations-workflow.md.
 */
const SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const;
const agencyId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'an agency id is lower-case letters, digits and "-"');
const i18nText = z.object({ vi: z.string().min(1), en: z.string().min(1) }).strict();
const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration such as 5m, 1h or 1h30m` });
    return z.NEVER;
  }
  return ms;
});
const clockTime = z.string().regex(/^([01]\d|2[0-4]):[0-5]\d$/, 'a time of day such as 07:30 (24:00 ends the day)');
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const agencySchema = z
  .object({
    id: agencyId,
    name: i18nText,
    /** account names (config/accounts): members act on the agency's alerts */
    members: z.array(z.string().min(1)).default([]),
    /** the district (in Huế: the ward) this agency answers for; routing `to: { district: true }` finds it */
    district: z.string().min(1).optional(),
    /** the agency's next level: escalation step 2 notifies it (default: straight to the duty desk) */
    escalatesTo: agencyId.optional(),
    channels: z
      .object({
        console: z.boolean().default(true),
        mqttTopic: z
          .string()
          .refine(
            (t) => t.length > 0 && !/[#+]/.test(t) && !t.includes('\u0000'),
            'an MQTT topic without wildcards or NUL',
          )
          .optional(),
        /** signed like the platform's webhooks (alerts/delivery/webhook-dispatcher.ts) */
        webhook: z
          .object({
            url: z.url({ protocol: /^https?$/ }),
            secret: z.string().min(16),
            allowPrivate: z.boolean().default(false),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    /**
     * working hours in the city's time zone; outside them notices say so (offHours), the duty desk is told at
     * once as well, and escalation rungs meant for this agency go to the duty desk (alerts/workflow/working-hours.ts)
     */
    hours: z
      .object({
        days: z.array(z.enum(DAY_NAMES)).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
        from: clockTime.default('07:00'),
        to: clockTime.default('17:00'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const routeSchema = z
  .object({
    id: z.string().min(1),
    /** each list is "any of", lists combine with "and"; an empty match matches every alert */
    match: z
      .object({
        rule: z.array(z.string().min(1)).optional(),
        /** the rule's type (threshold, noData, cameraEvent, device-health...); `ruleKind` before the rename */
        ruleType: z.array(z.string().min(1)).optional(),
        eventType: z.array(z.string().min(1)).optional(),
        sensorKind: z.array(z.string().min(1)).optional(),
        subCategory: z.array(z.string().min(1)).optional(),
        district: z.array(z.string().min(1)).optional(),
        severity: z.array(z.enum(SEVERITIES)).optional(),
      })
      .strict()
      .default({}),
    /** an agency id, or `{ district: true }`: the agency answering for the alert's district (else the next rule) */
    to: z.union([agencyId, z.object({ district: z.literal(true) }).strict()]),
  })
  .strict();

const targetSchema = z.object({ acknowledge: duration, resolve: duration }).strict();

const operationsFileSchema = z
  .object({
    /** the IOC duty desk: the default agency and the last step of every escalation */
    dutyDesk: agencyId,
    agencies: z.array(agencySchema).min(1),
    routing: z.array(routeSchema).default([]),
    escalation: z
      .object(
        Object.fromEntries(SEVERITIES.map((s) => [s, targetSchema.optional()])) as Record<
          (typeof SEVERITIES)[number],
          z.ZodOptional<typeof targetSchema>
        >,
      )
      .strict()
      .default({}),
  })
  .strict();

export type Agency = z.output<typeof agencySchema>;
export type RoutingRule = z.output<typeof routeSchema>;
export type EscalationTarget = z.output<typeof targetSchema>;
export type DayName = (typeof DAY_NAMES)[number];
export { DAY_NAMES };

export interface Operations {
  readonly dutyDesk: string;
  readonly agencies: readonly Agency[];
  readonly agenciesById: ReadonlyMap<string, Agency>;
  readonly routing: readonly RoutingRule[];
  /** per severity; a severity without one never escalates */
  readonly escalation: Readonly<Partial<Record<(typeof SEVERITIES)[number], EscalationTarget>>>;
  readonly sops: Sops;
  readonly timezone: string;
  /** one warning per deprecated name the file used (the platform logs them at start) */
  readonly deprecations: readonly string[];
}

/**
 * A route's `match.ruleKind` was renamed `ruleType` (docs/names.md: "kind" names sensor kinds). A file written
 * before still loads, with one warning for the file naming its routes; both names that disagree are an error.
 */
export const RULE_KIND_MATCH_DEPRECATED =
  'routing match ruleKind is deprecated: use ruleType ("kind" names sensor kinds: air, water, traffic, camera)';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A copy of `raw` with every route's `match.ruleKind` moved to `ruleType`; the routes that used it. */
function moveRuleKind(raw: unknown, errors: string[]): { raw: unknown; routes: string[] } {
  if (!isObject(raw) || !Array.isArray(raw.routing)) return { raw, routes: [] };
  const routes: string[] = [];
  const routing = raw.routing.map((route: unknown, i) => {
    if (!isObject(route)) return route;
    const read = readRenamedKey(route.match, 'ruleKind', 'ruleType');
    if (read.outcome === 'conflict') errors.push(`routing.${i}.match: ${read.message}`);
    if (read.outcome !== 'moved') return route;
    routes.push(typeof route.id === 'string' ? `"${route.id}"` : `#${i + 1}`);
    return { ...route, match: read.raw };
  });
  return { raw: { ...raw, routing }, routes };
}

/** Checks what the schema cannot: agencies named exist, districts are the city's, ids are unique. */
function crossCheck(file: z.output<typeof operationsFileSchema>, city: City): string[] {
  const errors: string[] = [];
  const ids = new Set<string>();
  const districts = new Set(city.sensors.map((s) => s.district));
  file.agencies.forEach((a, i) => {
    if (ids.has(a.id)) errors.push(`agencies.${i}.id: agency "${a.id}" is defined twice`);
    ids.add(a.id);
    if (a.hours.from >= a.hours.to)
      errors.push(`agencies.${i}.hours: from (${a.hours.from}) must be before to (${a.hours.to})`);
  });
  if (!ids.has(file.dutyDesk)) errors.push(`dutyDesk: no agency "${file.dutyDesk}"`);
  file.agencies.forEach((a, i) => {
    if (a.escalatesTo && !ids.has(a.escalatesTo))
      errors.push(`agencies.${i}.escalatesTo: no agency "${a.escalatesTo}"`);
    if (a.district && districts.size && !districts.has(a.district))
      errors.push(`agencies.${i}.district: no sensor of the city is in "${a.district}"`);
  });
  const routes = new Set<string>();
  file.routing.forEach((r, i) => {
    if (routes.has(r.id)) errors.push(`routing.${i}.id: route "${r.id}" is defined twice`);
    routes.add(r.id);
    if (typeof r.to === 'string' && !ids.has(r.to)) errors.push(`routing.${i}.to: no agency "${r.to}"`);
    for (const d of r.match.district ?? [])
      if (districts.size && !districts.has(d))
        errors.push(`routing.${i}.match.district: no sensor of the city is in "${d}"`);
    for (const k of r.match.sensorKind ?? [])
      if (!city.kinds.has(k)) errors.push(`routing.${i}.match.sensorKind: unknown kind "${k}"`);
  });
  return errors;
}

export function parseOperations(raw: unknown, city: City, sops: Sops, source: string): Operations {
  const aliasErrors: string[] = [];
  const moved = moveRuleKind(raw, aliasErrors);
  if (aliasErrors.length) throw new ConfigError(`${source}: invalid operations:\n  - ${aliasErrors.join('\n  - ')}`);
  const parsed = operationsFileSchema.safeParse(moved.raw);
  if (!parsed.success)
    throw new ConfigError(`${source}: invalid operations:\n  - ${formatZodIssues(parsed.error).join('\n  - ')}`);
  const errors = crossCheck(parsed.data, city);
  if (errors.length) throw new ConfigError(`${source}: invalid operations:\n  - ${errors.join('\n  - ')}`);
  const { dutyDesk, agencies, routing, escalation } = parsed.data;
  return deepFreeze({
    dutyDesk,
    agencies,
    agenciesById: new Map(agencies.map((a) => [a.id, a])),
    routing,
    escalation,
    sops,
    timezone: city.timezone,
    deprecations: moved.routes.length
      ? [`${source}: ${RULE_KIND_MATCH_DEPRECATED}; routes using it: ${moved.routes.join(', ')}`]
      : [],
  });
}

/** With no operations.yaml, every alert goes to one duty desk with no members and nothing escalates. */
const FALLBACK = {
  dutyDesk: 'ioc-duty',
  agencies: [{ id: 'ioc-duty', name: { vi: 'Trực ban IOC', en: 'IOC duty desk' } }],
};

/** `<cityDir>/operations.yaml` and `<cityDir>/sop/{vi,en}.yaml`; ConfigError naming file and field. */
export function loadOperations(cityDir: string, city: City): Operations {
  const file = join(cityDir, 'operations.yaml');
  const sops = loadSops(join(cityDir, 'sop'));
  if (!existsSync(file)) return parseOperations(FALLBACK, city, sops, file);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: invalid YAML: ${(err as Error).message}`);
  }
  return parseOperations(raw, city, sops, file);
}
