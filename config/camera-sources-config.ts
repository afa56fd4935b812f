import { z } from 'zod';

/**
 * `integrations.cameras.sources`: camera and NVR software that reports detections in its own shape
 * (docs/cameras.md). Each source says which integration account sends it, which of its cameras is which
 * of our sensors, and which of its labels or event topics is which of our event types. Our event types
 * are the camera kind's `eventTypes` (config/kinds/camera.yaml): a city adds one there, without code,
 * and maps to it here.
 */
const ACCOUNT = /^[a-z][a-z0-9._-]{1,63}$/;
const SOURCE_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** an external label or topic -> our event type; `ignore` drops it on purpose (counted, not refused) */
const eventMap = z.record(z.string().min(1).max(200), z.string().min(1).max(64));

const common = {
  id: z.string().regex(SOURCE_ID, 'a source id: a-z, 0-9, "_" or "-" (at most 64)'),
  account: z.string().regex(ACCOUNT, 'the integration account that sends this source (role integration)'),
  /** the source's camera name (Frigate camera, ONVIF source token or device address) -> sensor id */
  cameras: z.record(z.string().min(1).max(200), z.string().min(1)),
  events: eventMap,
  /** a label or topic not in `events`: refused (logged once, counted) or ignored (counted) */
  unmapped: z.enum(['refuse', 'ignore']).default('refuse'),
  /** the event's snapshot for operators: `{id}` and `{camera}` are replaced (e.g. Frigate's API) */
  snapshotUrl: z
    .string()
    .regex(/^https?:\/\/\S+$/, 'an http(s) URL template')
    .optional(),
};

export const frigateSourceSchema = z
  .object({
    ...common,
    format: z.literal('frigate'),
    /** Frigate's `mqtt.topic_prefix` + `/events` */
    topic: z
      .string()
      .regex(/^[^#+\s]{1,200}$/, 'an MQTT topic without wildcards')
      .default('frigate/events'),
    /** a tracked object becomes an event once its top_score reaches this */
    minScore: z.number().min(0).max(1).default(0),
    /** only objects that entered one of these zones (empty: anywhere in the frame) */
    zones: z.array(z.string().min(1)).default([]),
  })
  .strict();

export const onvifSourceSchema = z
  .object({
    ...common,
    format: z.literal('onvif'),
  })
  .strict();

export const cameraSourceSchema = z.discriminatedUnion('format', [frigateSourceSchema, onvifSourceSchema]);
export type CameraSourceConfig = z.output<typeof cameraSourceSchema>;
export type FrigateSourceConfig = z.output<typeof frigateSourceSchema>;
export type OnvifSourceConfig = z.output<typeof onvifSourceSchema>;

export const cameraSourcesSchema = z
  .object({
    sources: z.array(cameraSourceSchema).default([]),
    /** Frigate event ids remembered for dedupe (per source; the oldest are forgotten first) */
    dedupeMemory: z.number().int().min(100).max(1_000_000).default(10_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    const ids = new Set<string>();
    c.sources.forEach((s, i) => {
      if (ids.has(s.id))
        ctx.addIssue({ code: 'custom', path: ['sources', i, 'id'], message: `camera source ${s.id} is defined twice` });
      ids.add(s.id);
    });
  });
export type CameraSourcesConfig = z.output<typeof cameraSourcesSchema>;
