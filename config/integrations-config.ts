import { z } from 'zod';
import { cameraSourcesSchema } from './camera-sources-config.ts';

/**
 * `integrations:`: systems that speak their own dialect to the platform through an integration account
 * (role `integration`, tokens only): ChirpStack v4 for LoRaWAN (docs/lorawan.md) and camera/NVR event
 * sources (docs/cameras.md). Parsed here; checked against the city (sensor ids, metrics, event types)
 * when the platform builds them, so a typo stops the start with every problem named.
 */
const ACCOUNT = /^[a-z][a-z0-9._-]{1,63}$/;
export const integrationAccount = z
  .string()
  .regex(ACCOUNT, 'an account name: a-z first, then a-z, 0-9, ".", "_" or "-" (2-64)');

/** `field.path` in the decoded object -> metric, with an optional linear conversion (value * scale + offset). */
export const fieldMappingSchema = z.record(
  z
    .string()
    .regex(
      /^[A-Za-z0-9_$-]{1,64}(\.[A-Za-z0-9_$-]{1,64}){0,7}$/,
      'a field name or dotted path such as "level" or "sensor.temp"',
    ),
  z.union([
    z.string().min(1),
    z
      .object({
        metric: z.string().min(1),
        scale: z.number().finite().default(1),
        offset: z.number().finite().default(0),
      })
      .strict(),
  ]),
);
export type FieldMappingInput = z.infer<typeof fieldMappingSchema>;

const devEui = z
  .string()
  .regex(/^[0-9A-Fa-f]{16}$/, 'a DevEUI is 16 hexadecimal digits')
  .transform((s) => s.toLowerCase());

export const chirpstackSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** the integration account ChirpStack logs in with (MQTT username + token; HTTP Bearer token) */
    account: integrationAccount.default('chirpstack'),
    /** ChirpStack application ids (UUIDs) taken; empty: any application */
    applications: z.array(z.string().min(1)).default([]),
    /** decoded-object fields -> metrics for every device (a device's own `fields` add to and override these) */
    fields: fieldMappingSchema.default({}),
    devices: z
      .array(z.object({ devEui, sensorId: z.string().min(1), fields: fieldMappingSchema.default({}) }).strict())
      .default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.devices.forEach((d, i) => {
      if (seen.has(d.devEui))
        ctx.addIssue({ code: 'custom', path: ['devices', i, 'devEui'], message: `DevEUI ${d.devEui} is mapped twice` });
      seen.add(d.devEui);
    });
  });
export type ChirpstackConfig = z.output<typeof chirpstackSchema>;

export const integrationsSchema = z
  .object({
    chirpstack: chirpstackSchema.prefault({}),
    cameras: cameraSourcesSchema.prefault({}),
  })
  .strict();
export type IntegrationsConfig = z.output<typeof integrationsSchema>;
