import { z } from 'zod';
import type { RegistryEntry } from '../config/sensors/registry-file.ts';

/** How a registry entry looks to an admin: the sensor config, its state, never a secret. */
export const registryEntryBody = z.object({
  id: z.string(),
  kind: z.string(),
  name: z.string(),
  lat: z.number(),
  lon: z.number(),
  district: z.string(),
  tags: z.record(z.string(), z.string()),
  floodLevels: z.array(z.number()).optional(),
  disabled: z.boolean(),
  hasSecret: z
    .boolean()
    .describe('false: the device cannot log in until its secret is rotated or a provisioning code is used'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const deviceCredentialsBody = z.object({
  sensorId: z.string(),
  kind: z.string(),
  username: z.string(),
  password: z.string().describe('shown once: the platform keeps only a hash'),
});

export function presentRegistryEntry(e: RegistryEntry, hasSecret: boolean): z.infer<typeof registryEntryBody> {
  return {
    id: e.id,
    kind: e.kind,
    name: e.name,
    lat: e.lat,
    lon: e.lon,
    district: e.district,
    tags: { ...e.tags },
    ...(e.floodLevels ? { floodLevels: [...e.floodLevels] } : {}),
    disabled: e.disabled,
    hasSecret,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

/** what the audit log keeps of a sensor: its config and state, comparable before/after */
export const auditShape = (e: RegistryEntry | undefined) =>
  e
    ? {
        kind: e.kind,
        name: e.name,
        lat: e.lat,
        lon: e.lon,
        district: e.district,
        tags: e.tags,
        floodLevels: e.floodLevels,
        disabled: e.disabled,
      }
    : undefined;
