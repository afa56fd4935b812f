import { validateDetailed } from 'node-cron';
import { z } from 'zod';
import { readRenamedKey, type RenamedKeyRead } from '../../config/deprecated-keys.ts';

/**
 * Silences and maintenance windows. A silence matches alerts by sensor, sensor kind (air, water, traffic,
 * camera...), rule, rule type or district (each list "any of", lists combined with "and", at least one
 * given) and is in force either ad hoc (from `startsAt`, default now, to `endsAt`) or on a schedule: a
 * five-field cron expression in the city's time zone (node-cron's syntax) opening a window of `duration`
 * minutes each time it matches, until `until`. `maintenance: true` also means the matched devices are being
 * worked on: they raise no no-data alerts.
 */
const list = z.array(z.string().trim().min(1).max(128)).min(1).max(200).optional();

const matchShape = {
  sensorId: list,
  /** the sensor kind, as in the device contract: air, water, traffic, camera... */
  sensorKind: list,
  ruleId: list,
  /** the rule's type: threshold, noData, cameraEvent, device-health... (`ruleKind` before the rename) */
  ruleType: list,
  district: list,
};

export const silenceMatchSchema = z
  .object(matchShape)
  .strict()
  .refine((m) => Object.values(m).some((v) => v !== undefined), {
    message: 'name at least one of sensorId, sensorKind, ruleId, ruleType, district',
  });

/**
 * `match.ruleKind` was renamed `ruleType` (docs/names.md: "kind" names sensor kinds). A client or a
 * silences file written before still works: it is read as `ruleType`, and the API says it is deprecated.
 */
export const RULE_KIND_MATCH_DEPRECATED =
  'match.ruleKind is deprecated for a silence: use match.ruleType ("kind" names sensor kinds: air, water, ' +
  'traffic, camera; match them with sensorKind)';

/** A copy of a silence (input or stored) with `match.ruleKind` read as `match.ruleType`. */
export function readSilenceAlias(raw: unknown): RenamedKeyRead {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { outcome: 'none', raw };
  const match = readRenamedKey((raw as { match?: unknown }).match, 'ruleKind', 'ruleType');
  if (match.outcome === 'conflict') return { outcome: 'conflict', message: `match: ${match.message}` };
  if (match.outcome === 'none') return { outcome: 'none', raw };
  return { outcome: 'moved', raw: { ...(raw as Record<string, unknown>), match: match.raw } };
}

const cronExpression = z
  .string()
  .trim()
  .superRefine((text, ctx) => {
    if (text.split(/\s+/).length !== 5) {
      ctx.addIssue({
        code: 'custom',
        message: 'a five-field cron expression such as "0 22 * * 6" (minute hour day month weekday)',
      });
      return;
    }
    const result = validateDetailed(text);
    if (!result.valid)
      ctx.addIssue({
        code: 'custom',
        message: `invalid cron expression: ${result.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
      });
  });

/**
 * An ad hoc silence lasts at most a year (366 days): longer is a rule switched off, which belongs in the rules,
 * and a mistyped year must not hide a district's alerts for a lifetime. A schedule may run without end (`until`).
 */
export const MAX_AD_HOC_MS = 366 * 86_400_000;
export const AD_HOC_TOO_LONG = 'an ad hoc silence lasts at most 366 days (endsAt - startsAt)';

export const silenceInputSchema = z
  .object({
    match: silenceMatchSchema,
    reason: z.string().trim().min(1).max(500),
    maintenance: z.boolean().default(false),
    startsAt: z.number().int().optional().describe('epoch ms; default now (ad hoc only)'),
    endsAt: z.number().int().optional().describe('epoch ms: an ad hoc silence ends then (required without cron)'),
    cron: cronExpression.optional().describe('a scheduled window opens when it matches (city time zone)'),
    durationMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .optional()
      .describe('how long each scheduled window lasts'),
    until: z.number().int().optional().describe('epoch ms: the schedule ends then (default: never)'),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.cron === undefined) {
      if (s.endsAt === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['endsAt'],
          message: 'an ad hoc silence needs endsAt (or give cron and durationMinutes)',
        });
      if (s.durationMinutes !== undefined)
        ctx.addIssue({ code: 'custom', path: ['durationMinutes'], message: 'durationMinutes goes with cron' });
    } else {
      if (s.durationMinutes === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['durationMinutes'],
          message: 'a scheduled window needs durationMinutes',
        });
      if (s.endsAt !== undefined || s.startsAt !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['endsAt'],
          message: 'a scheduled window takes cron, durationMinutes and until, not startsAt/endsAt',
        });
    }
    if (s.startsAt !== undefined && s.endsAt !== undefined && s.endsAt <= s.startsAt)
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'endsAt must be after startsAt' });
    if (s.startsAt !== undefined && s.endsAt !== undefined && s.endsAt - s.startsAt > MAX_AD_HOC_MS)
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: AD_HOC_TOO_LONG });
  });
export type SilenceInput = z.input<typeof silenceInputSchema>;

export const silenceSchema = z.object({
  id: z.string(),
  match: z.object(matchShape).strict(),
  reason: z.string(),
  maintenance: z.boolean(),
  createdBy: z.string(),
  createdAt: z.number(),
  startsAt: z.number().optional(),
  endsAt: z.number().optional(),
  cron: z.string().optional(),
  durationMinutes: z.number().optional(),
  until: z.number().optional(),
  /** set when someone ended it early */
  endedAt: z.number().optional(),
  endedBy: z.string().optional(),
});
export type Silence = z.infer<typeof silenceSchema>;

const epochMs = z.number().int().min(-8.64e15).max(8.64e15);
const person = z.string().min(1).max(128);

/**
 * A silence another node sent through Redis (cluster/shared-state.ts), held to what this node's own API takes:
 * a hostile or damaged entry (no match at all, which would silence every alert; no end; a cron node-cron
 * cannot read; a year-long ad hoc window; huge lists or text) is refused, that entry only.
 */
export const sharedSilenceSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    match: silenceMatchSchema,
    reason: z.string().trim().min(1).max(500),
    maintenance: z.boolean(),
    createdBy: person,
    createdAt: epochMs,
    startsAt: epochMs.optional(),
    endsAt: epochMs.optional(),
    cron: cronExpression.optional(),
    durationMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .optional(),
    until: epochMs.optional(),
    endedAt: epochMs.optional(),
    endedBy: person.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const scheduled = s.cron !== undefined && s.durationMinutes !== undefined;
    const adHoc = s.cron === undefined && s.durationMinutes === undefined && s.until === undefined;
    if (scheduled && (s.startsAt !== undefined || s.endsAt !== undefined))
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'a schedule has no startsAt/endsAt' });
    else if (!scheduled && !adHoc)
      ctx.addIssue({ code: 'custom', path: ['cron'], message: 'cron and durationMinutes go together' });
    else if (adHoc) {
      const from = s.startsAt ?? s.createdAt;
      if (s.endsAt === undefined || s.endsAt <= from)
        ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'an ad hoc silence needs an end after its start' });
      else if (s.endsAt - from > MAX_AD_HOC_MS)
        ctx.addIssue({ code: 'custom', path: ['endsAt'], message: AD_HOC_TOO_LONG });
    }
  });

/** What a silence is matched against: an alert (or a device about to raise one). */
export interface SilenceSubject {
  sensorId: string;
  sensorKind: string;
  ruleId: string;
  ruleType?: string;
  district: string;
}

/** The subject of an alert whose rule has type `ruleType` (escalation and the raise hook use the same). */
export function subjectOf(
  alert: { sensorId: string; kind: string; ruleId: string; district: string },
  ruleType: string | undefined,
): SilenceSubject {
  return {
    sensorId: alert.sensorId,
    sensorKind: alert.kind,
    ruleId: alert.ruleId,
    ruleType,
    district: alert.district,
  };
}

export function matchesSubject(s: Silence, x: SilenceSubject): boolean {
  const m = s.match;
  return (
    (!m.sensorId || m.sensorId.includes(x.sensorId)) &&
    (!m.sensorKind || m.sensorKind.includes(x.sensorKind)) &&
    (!m.ruleId || m.ruleId.includes(x.ruleId)) &&
    (!m.ruleType || (x.ruleType !== undefined && m.ruleType.includes(x.ruleType))) &&
    (!m.district || m.district.includes(x.district))
  );
}
