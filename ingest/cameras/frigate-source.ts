import { z } from 'zod';
import type { FrigateSourceConfig } from '../../config/camera-sources-config.ts';
import type { MessageTransport } from '../device-charge.ts';
import type { MqttDialect } from '../mqtt-dialects.ts';
import { parseJson } from '../parse-payload.ts';
import { isRejection } from '../parse-topic.ts';
import { reject } from '../rejection.ts';
import type { CameraEmitter, CameraOutcome } from './camera-emitter.ts';
import { IGNORE, snapshotUrlOf, type ResolvedCameraSource } from './camera-source.ts';

/**
 * Frigate's `frigate/events` (docs/cameras.md): one message per change of a tracked object, `new`, then
 * `update`s (a better snapshot, a zone change), then `end`, all with the same `after.id`. A tracked object
 * becomes one camera event, the first time it qualifies (a mapped label, top_score at or above minScore,
 * in a configured zone if any, not a false positive); later messages of that id are duplicates.
 */
const tracked = z.looseObject({
  id: z.string().min(1).max(200),
  camera: z.string().min(1).max(200),
  label: z.string().min(1).max(200),
  sub_label: z.unknown().optional(),
  score: z.number().optional(),
  top_score: z.number().nullable().optional(),
  false_positive: z.boolean().optional(),
  start_time: z.number().positive(),
  end_time: z.number().nullable().optional(),
  current_zones: z.array(z.string()).optional(),
  entered_zones: z.array(z.string()).optional(),
  has_snapshot: z.boolean().optional(),
});
const frigateMessage = z.looseObject({
  type: z.enum(['new', 'update', 'end']),
  before: tracked.optional(),
  after: tracked,
});

export interface FrigateSource {
  handle(payload: Buffer, transport?: MessageTransport): Promise<CameraOutcome> | CameraOutcome;
  readonly mqtt: MqttDialect;
}

export function createFrigateSource(
  source: ResolvedCameraSource & { config: FrigateSourceConfig },
  emitter: CameraEmitter,
  dedupeMemory: number,
): FrigateSource {
  const { config } = source;
  // tracked-object ids already turned into an event, oldest first (a Map keeps insertion order)
  const emitted = new Map<string, true>();
  const remember = (id: string) => {
    emitted.set(id, true);
    if (emitted.size > dedupeMemory) emitted.delete(emitted.keys().next().value!);
  };

  const handle = (payload: Buffer, transport: MessageTransport = 'http'): Promise<CameraOutcome> | CameraOutcome => {
    const json = parseJson(payload);
    if (isRejection(json)) return emitter.refuse('json', json);
    const parsed = frigateMessage.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return emitter.refuse(
        'shape',
        reject('malformed_payload', `not a Frigate event: ${issue.path.join('.') || 'body'}: ${issue.message}`),
      );
    }
    const { type, after } = parsed.data;
    const key = `${after.camera}/${after.id}`;
    if (emitted.has(key)) {
      if (type === 'end') emitted.delete(key); // Frigate sends nothing more for it
      return emitter.ignore('duplicate');
    }
    const sensor = source.cameras.get(after.camera);
    if (!sensor) {
      return emitter.refuse(
        `camera:${after.camera}`,
        reject(
          'unknown_sensor',
          `Frigate camera "${after.camera.slice(0, 64)}" is not mapped to a sensor (source ${config.id}: cameras)`,
        ),
        { camera: after.camera.slice(0, 64) },
      );
    }
    const eventType = source.events.get(after.label);
    if (eventType === IGNORE || (eventType === undefined && config.unmapped === 'ignore'))
      return emitter.ignore('ignored');
    if (eventType === undefined) {
      return emitter.refuse(
        `label:${after.label}`,
        reject(
          'invalid_event',
          `Frigate label "${after.label.slice(0, 64)}" is not mapped to an event type (source ${config.id}: events)`,
        ),
        { label: after.label.slice(0, 64) },
      );
    }
    const score = after.top_score ?? after.score ?? 0;
    const zones = after.entered_zones ?? after.current_zones ?? [];
    const inZone = config.zones.length === 0 || zones.some((z) => config.zones.includes(z));
    // not (yet) an event: a later update may qualify (a higher score, entering a zone)
    if (after.false_positive === true || score < config.minScore || !inZone) return emitter.ignore('ignored');
    remember(key);
    const snapshotUrl =
      after.has_snapshot === false ? undefined : snapshotUrlOf(config.snapshotUrl, after.id, after.camera);
    const event = {
      ts: Math.round(after.start_time * 1000),
      type: eventType,
      label: after.label,
      score,
      sourceEventId: after.id,
      source: config.id,
      ...(zones.length ? { zones: zones.join(',') } : {}),
      ...(snapshotUrl ? { snapshotUrl } : {}),
    };
    return emitter.emit(sensor, event, transport).then(
      (outcome) => {
        // refused (an out-of-range time, say): a later message of the same object may be taken
        if (outcome.accepted === 0) emitted.delete(key);
        return outcome;
      },
      (err: Error) => {
        emitted.delete(key); // not durable: Frigate's redelivery (QoS 1) must be able to land it
        throw err;
      },
    );
  };

  const root = config.topic.split('/')[0]!;
  return {
    handle,
    mqtt: {
      account: config.account,
      roots: [root],
      handle: (topic, payload) => (topic === config.topic ? Promise.resolve(handle(payload, 'mqtt')) : undefined),
    },
  };
}
