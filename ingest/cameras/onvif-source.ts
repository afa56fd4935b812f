import type { CameraEmitter, CameraOutcome } from './camera-emitter.ts';
import { IGNORE, type ResolvedCameraSource } from './camera-source.ts';
import { parseOnvifNotifications } from './onvif-notification.ts';
import { isRejection } from '../parse-topic.ts';
import { reject, type Rejection } from '../rejection.ts';

/**
 * ONVIF-style alarm pushes (onvif-notification.ts) into camera events. An alarm is a property that turns
 * true and later false; a camera repeats `true` while it lasts (and on re-subscription), so only the
 * change to true of a camera and topic is an event; a repeated true is a duplicate, false is ignored.
 */
export interface OnvifSource {
  handle(body: Buffer): Promise<CameraOutcome> | CameraOutcome;
}

export function createOnvifSource(source: ResolvedCameraSource, emitter: CameraEmitter): OnvifSource {
  const { config } = source;
  // camera/topic pairs whose alarm is on now (bounded by cameras x mapped topics)
  const active = new Set<string>();

  const one = async (n: {
    topic: string;
    sources: readonly string[];
    state: boolean;
    time?: number;
  }): Promise<CameraOutcome> => {
    const camera = n.sources.find((s) => source.cameras.has(s));
    if (camera === undefined) {
      const named = n.sources[0]?.slice(0, 64) ?? '(none)';
      return emitter.refuse(
        `camera:${named}`,
        reject('unknown_sensor', `ONVIF source "${named}" is not mapped to a sensor (source ${config.id}: cameras)`),
        { camera: named },
      );
    }
    const eventType = source.events.get(n.topic);
    if (eventType === IGNORE || (eventType === undefined && config.unmapped === 'ignore'))
      return emitter.ignore('ignored');
    if (eventType === undefined) {
      return emitter.refuse(
        `topic:${n.topic}`,
        reject(
          'invalid_event',
          `ONVIF topic "${n.topic.slice(0, 120)}" is not mapped to an event type (source ${config.id}: events)`,
        ),
        { topic: n.topic.slice(0, 120) },
      );
    }
    const key = `${camera}\u0000${n.topic}`;
    if (!n.state) {
      active.delete(key);
      return emitter.ignore('ignored');
    }
    if (active.has(key)) return emitter.ignore('duplicate');
    active.add(key);
    const event = {
      ...(n.time === undefined ? {} : { ts: n.time }),
      type: eventType,
      onvifTopic: n.topic,
      camera,
      source: config.id,
    };
    try {
      const outcome = await emitter.emit(source.cameras.get(camera)!, event);
      if (outcome.accepted === 0) active.delete(key);
      return outcome;
    } catch (err) {
      active.delete(key);
      throw err;
    }
  };

  return {
    async handle(body) {
      const list = parseOnvifNotifications(body);
      if (isRejection(list)) return emitter.refuse('body', list);
      let accepted = 0;
      const rejected: Rejection[] = [];
      let ignored = 0;
      // in order: a true then a false in one push is an alarm that happened
      for (const [index, n] of list.entries()) {
        const outcome = await one(n);
        accepted += outcome.accepted;
        rejected.push(...outcome.rejected.map((r) => ({ ...r, index })));
        if (outcome.ignored) ignored++;
      }
      return { accepted, rejected, ...(ignored === list.length ? { ignored: true } : {}) };
    },
  };
}
