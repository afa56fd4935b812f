import { z } from 'zod';
import { parseDuration } from '../core/duration.ts';

/** A scenario file (simulators/scenarios/*.yaml): which sensors, from when, and what happens. */
const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration (e.g. 90s, 10m, 1h30m, 2d)` });
    return z.NEVER;
  }
  return ms;
});
const i18n = z.object({ vi: z.string().min(1), en: z.string().min(1) }).strict();

/** Selects sensors of the city: by id, kind or tag; an empty selector selects every sensor. */
const selector = {
  sensors: z.array(z.string().min(1)).optional(),
  kinds: z.array(z.string().min(1)).optional(),
  tags: z.record(z.string(), z.string()).optional(),
};

const effectSchema = z
  .object({
    /** offset from the scenario start when the effect begins */
    at: duration,
    /** offset when it ends; omitted, it lasts for the rest of the run (the live phase included) */
    until: duration.optional(),
    /** linear ramp from the driver's default to the value after `at`, and back before `until` */
    ramp: duration.optional(),
    ...selector,
    set: z
      .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/), z.number())
      .refine((s) => Object.keys(s).length > 0, { message: 'an effect sets at least one driver' }),
    note: z.string().optional(),
  })
  .strict()
  .refine((e) => e.until === undefined || e.until > e.at, { message: 'until must be after at', path: ['until'] });

export const scenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and "-"'),
    title: i18n,
    description: z.string().optional(),
    seed: z.number().int().min(0).max(0xffffffff),
    /**
     * When simulated time begins: an ISO-8601 instant, a negative offset from the moment the run starts
     * ("-6h"), or omitted: the run is placed so that it ends at the wall clock when it finishes, which keeps
     * every timestamp in the past (the platform rejects readings from the future) at any speed.
     */
    start: z
      .string()
      .refine((s) => /^-\d+(\.\d+)?[smhd]$/.test(s) || !Number.isNaN(Date.parse(s)), {
        message: 'an ISO-8601 instant (2026-10-15T06:00:00+07:00) or a negative offset (-6h)',
      })
      .optional(),
    /** with `start` omitted: begin at this city-local time of day ("16:00"), the latest that still ends in the past */
    startLocalTime: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM')
      .optional(),
    duration,
    /** simulated time between two readings of one device */
    interval: duration.default(60_000),
    /** simulated seconds per real second unless the CLI says otherwise */
    speed: z.number().positive().max(1_000_000).default(1),
    sensors: z.object(selector).strict().default({}),
    effects: z.array(effectSchema).default([]),
    /** after `duration`: stop, or keep the fleet flowing in real time every `liveInterval` */
    // biome-ignore lint/suspicious/noThenProperty: `then` is a key of the scenario YAML format, never awaited
    then: z.enum(['stop', 'live']).default('stop'),
    liveInterval: duration.default(5000),
  })
  .strict();

export type ScenarioFile = z.output<typeof scenarioSchema>;
export type ScenarioEffect = ScenarioFile['effects'][number];
export type SensorSelector = Pick<ScenarioEffect, 'sensors' | 'kinds' | 'tags'>;
