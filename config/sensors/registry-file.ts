import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { ConfigError, formatZodIssues } from '../config-error.ts';
import { sensorSchema } from '../city-config.ts';

/**
 * `<dataDir>/sensors.json`: the device registry, the platform's own state (the city's YAML only seeds it).
 * A file in the data directory rather than a table in the store: it must work the same with the embedded
 * SQLite store and with InfluxDB, and the CLI must be able to change it with the platform stopped.
 * Written whole, fsynced, renamed over the old one and the directory fsynced: a crash leaves the old file
 * or the new one, never half of one. Mode 0600 (it names every device, though it holds no secret).
 */
export const registryEntrySchema = sensorSchema
  .extend({
    disabled: z.boolean().default(false),
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
  })
  .strict();

const registryFileSchema = z
  .object({
    version: z.literal(1),
    sensors: z.array(registryEntrySchema),
  })
  .strict();

export type RegistryEntry = z.output<typeof registryEntrySchema>;
export type RegistryFile = z.output<typeof registryFileSchema>;

export const registryFilePath = (dataDir: string): string => join(dataDir, 'sensors.json');

export function readRegistryFile(file: string): RegistryFile | undefined {
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: not a readable sensor registry: ${(err as Error).message}`);
  }
  const parsed = registryFileSchema.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(`${file}: invalid sensor registry:\n  - ${formatZodIssues(parsed.error).join('\n  - ')}`);
  const seen = new Set<string>();
  for (const s of parsed.data.sensors) {
    if (seen.has(s.id)) throw new ConfigError(`${file}: sensor "${s.id}" appears twice`);
    seen.add(s.id);
  }
  return parsed.data;
}

/** Write, fsync, rename, fsync the directory: durable before the caller answers "created". */
export function writeFileDurably(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export function writeRegistryFile(file: string, registry: RegistryFile): void {
  writeFileDurably(file, `${JSON.stringify(registry, null, 1)}\n`);
}
