import { z } from 'zod';
import { parseJson } from '../parse-payload.ts';
import { isRejection } from '../parse-topic.ts';
import { reject, type Rejection } from '../rejection.ts';

/**
 * ChirpStack v4 integration events as its JSON marshaler writes them (the Protobuf JSON mapping of
 * api/proto/integration/integration.proto; examples in docs/lorawan.md and the test fixtures). Only
 * what the platform uses is checked; everything else (rxInfo, txInfo, ...) passes untouched.
 */
export const CHIRPSTACK_EVENTS = ['up', 'join', 'status', 'ack', 'txack', 'log', 'location', 'integration'] as const;
export type ChirpstackEventName = (typeof CHIRPSTACK_EVENTS)[number];

const deviceInfo = z.looseObject({
  devEui: z.string().regex(/^[0-9A-Fa-f]{16}$/, 'deviceInfo.devEui is 16 hexadecimal digits'),
  applicationId: z.string().max(64).optional(),
  deviceName: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
});
// RFC 3339 with up to nanoseconds, as ChirpStack writes it: 2022-07-18T09:34:15.775023242+00:00
const rfc3339 = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/, 'time is RFC 3339');

export const chirpstackEventSchema = z.looseObject({
  deduplicationId: z.string().optional(),
  time: rfc3339.optional(),
  deviceInfo,
  fPort: z.number().int().min(0).max(255).optional(),
  fCnt: z.number().int().min(0).optional(),
  /** the codec's decoded payload: only set when the device profile has a codec */
  object: z.record(z.string(), z.unknown()).optional(),
  // status
  margin: z.number().optional(),
  externalPowerSource: z.boolean().optional(),
  batteryLevelUnavailable: z.boolean().optional(),
  batteryLevel: z.number().optional(),
  // log
  level: z.string().optional(),
  code: z.string().optional(),
  description: z.string().optional(),
});
export type ChirpstackEvent = z.infer<typeof chirpstackEventSchema> & { devEui: string };

export function isChirpstackEventName(name: string): name is ChirpstackEventName {
  return (CHIRPSTACK_EVENTS as readonly string[]).includes(name);
}

/** Parses an event body; the DevEUI comes back lower-case, as the mapping keys it. */
export function parseChirpstackEvent(body: Buffer): ChirpstackEvent | Rejection {
  const json = parseJson(body);
  if (isRejection(json)) return json;
  const parsed = chirpstackEventSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return reject(
      'malformed_payload',
      `not a ChirpStack v4 JSON event: ${issue.path.join('.') || 'body'}: ${issue.message}`,
    );
  }
  return { ...parsed.data, devEui: parsed.data.deviceInfo.devEui.toLowerCase() };
}

/** ChirpStack's nanosecond time to epoch milliseconds (JavaScript dates keep milliseconds). */
export function chirpstackTimeMs(time: string): number {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$/.exec(time)!;
  const fraction = (m[2] ?? '.0').slice(0, 4).padEnd(4, '0');
  return Date.parse(`${m[1]}${fraction}${m[3]}`);
}
