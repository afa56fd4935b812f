import type { Logger } from 'pino';
import type { City, Sensor } from '../config/city-config.ts';
import type { Clock } from '../core/clock.ts';
import type { Point } from '../store/time-series-store.ts';
import {
  CAMERA_EVENT_MEASUREMENT,
  DEVICE_STATUS_MEASUREMENT,
  type CameraEvent,
  type DeviceStatusEvent,
  type IngestEventMap,
  type IngestEvents,
} from './ingest-events.ts';
import type { IngestMetrics } from './ingest-metrics.ts';
import { lineProtocolReadings, looksLikeLineProtocol } from './line-protocol-ingest.ts';
import { parseJson, parseReadingsPayload } from './parse-payload.ts';
import { isRejection, parseDeviceTopic, type DeviceTopic } from './parse-topic.ts';
import { reject, type Rejection } from './rejection.ts';
import { validateReadings } from './validate-readings.ts';
import { parseCameraEvent, parseStatusReport } from './parse-device-messages.ts';

/**
 * The one ingest path. MQTT (broker/) and HTTP (api/) both call `handle`, which validates a device
 * message, starts making the accepted part durable, hands it on to alerts and device states through
 * IngestEvents while the disk works (an alert must not wait for an fsync), and resolves only once it is
 * durable: the caller acknowledges after that.
 */
export interface IngestLimits {
  readonly maxPayloadBytes: number;
  readonly maxFutureSkewSeconds: number;
  readonly maxAgeDays: number;
  readonly maxReadingsPerPublish: number;
}

export interface DurableSink {
  write(points: readonly Point[]): Promise<void>;
  /** the error to refuse with while the disk cannot take writes (counted), else undefined */
  refusal?(): Error | undefined;
}

export interface IngestDeps {
  city: City;
  limits: IngestLimits;
  sink: DurableSink;
  events: IngestEvents;
  clock: Clock;
  logger: Logger;
  metrics: IngestMetrics;
}

export interface IngestOutcome {
  readonly topic?: DeviceTopic;
  readonly accepted: number;
  readonly rejected: readonly Rejection[];
}

export type StatusOrigin = DeviceStatusEvent['source'];

export interface IngestService {
  handle(topic: string, payload: Buffer, origin?: StatusOrigin): Promise<IngestOutcome>;
}

export function createIngest(deps: IngestDeps): IngestService {
  const { city, limits, sink, events, clock, logger, metrics } = deps;

  /** One tag object per sensor: the commit log encodes a tag object's JSON once (store/log-record.ts). */
  const sensorTags = new WeakMap<Sensor, Readonly<Record<string, string>>>();
  const tagsOf = (sensor: Sensor): Readonly<Record<string, string>> => {
    let tags = sensorTags.get(sensor);
    if (!tags) {
      tags = Object.freeze({ sensorId: sensor.id, kind: sensor.kind, district: sensor.district });
      sensorTags.set(sensor, tags);
    }
    return tags;
  };

  /** Counts and logs refusals; every refusal, whole-message or per reading, goes through here. */
  const record = (rejected: readonly Rejection[], topic?: DeviceTopic): void => {
    for (const r of rejected) metrics.rejected.inc({ reason: r.code });
    if (!rejected.length) return;
    logger.debug({ topic, rejected }, 'device message rejected');
    // a registered device's mistakes count against its health (device-health rules, `refusals`)
    if (topic && city.sensorsById.has(topic.sensorId)) {
      const at = clock.now();
      announce('refused', { sensorId: topic.sensorId, code: rejected[0]!.code, count: rejected.length, ts: at });
    }
  };
  const refuse = (rejected: Rejection[], topic?: DeviceTopic): IngestOutcome => {
    record(rejected, topic);
    return { topic, accepted: 0, rejected };
  };

  /** Hands validated data on; a listener that throws is reported and never costs the device its ack. */
  const announce = <K extends 'readings' | 'status' | 'cameraEvent' | 'refused'>(
    name: K,
    ...args: IngestEventMap[K]
  ): void => {
    try {
      (events.emit as (n: K, ...a: IngestEventMap[K]) => boolean).call(events, name, ...args);
    } catch (err) {
      logger.error({ err, event: name }, 'an ingest event listener threw');
    }
  };

  /** Makes the points durable; resolves with the outcome once they are (the caller acknowledges then). */
  const commit = (points: Point[], outcome: IngestOutcome, values = 0): Promise<IngestOutcome> => {
    const started = performance.now();
    return sink.write(points).then(() => {
      metrics.commitSeconds.observe((performance.now() - started) / 1000);
      if (values > 0) metrics.countStored(outcome.accepted, values);
      return outcome;
    });
  };

  /** The outcome, at once for a refusal, or once the accepted part is durable. Not async: it runs per publish. */
  const accept = (topicName: string, payload: Buffer, origin: StatusOrigin): IngestOutcome | Promise<IngestOutcome> => {
    const topic = parseDeviceTopic(topicName);
    if (isRejection(topic)) return refuse([topic]);
    metrics.countMessage(topic.channel);
    if (!city.kinds.has(topic.kind))
      return refuse(
        [reject('unknown_kind', `unknown sensor kind "${topic.kind}" (known: ${[...city.kinds.keys()].join(', ')})`)],
        topic,
      );
    const sensor = city.sensorsById.get(topic.sensorId);
    if (!sensor)
      return refuse(
        [reject('unknown_sensor', `sensor "${topic.sensorId}" is not registered in the city configuration`)],
        topic,
      );
    if (sensor.kind !== topic.kind) {
      return refuse(
        [reject('kind_mismatch', `sensor "${sensor.id}" is registered as kind ${sensor.kind}, not ${topic.kind}`)],
        topic,
      );
    }
    if (payload.length > limits.maxPayloadBytes) {
      return refuse(
        [
          reject(
            'payload_too_large',
            `payload of ${payload.length} bytes exceeds the ${limits.maxPayloadBytes}-byte limit`,
          ),
        ],
        topic,
      );
    }
    const now = clock.now();
    const kind = city.kinds.get(sensor.kind)!;
    const ctx = {
      sensor,
      kind,
      now,
      maxFutureMs: limits.maxFutureSkewSeconds * 1000,
      maxAgeMs: limits.maxAgeDays * 86_400_000,
    };
    // the disk cannot take it: refuse before anything is announced (no alert on a reading never stored)
    const down = topic.channel === 'errors' ? undefined : sink.refusal?.();
    if (down) return Promise.reject(down);

    switch (topic.channel) {
      case 'readings': {
        // JSON or SenML, or line protocol (Telegraf's mqtt output with data_format = "influx")
        const json = looksLikeLineProtocol(payload) ? lineProtocolReadings(payload, sensor) : parseJson(payload);
        if (isRejection(json)) return refuse([json], topic);
        const parsed = parseReadingsPayload(json, limits.maxReadingsPerPublish);
        if (isRejection(parsed)) return refuse([parsed], topic);
        const { accepted, rejected, values } = validateReadings(parsed.readings, ctx);
        record(rejected, topic);
        if (accepted.length === 0) return { topic, accepted: 0, rejected };
        const tags = tagsOf(sensor);
        const durable = commit(
          accepted.map((r) => ({ measurement: r.kind, tags, fields: r.values, ts: r.ts })),
          { topic, accepted: accepted.length, rejected },
          values,
        );
        announce('readings', accepted);
        return durable;
      }
      case 'status': {
        const report = parseStatusReport(payload);
        if (isRejection(report)) return refuse([report], topic);
        const { status, batteryLevel } = report;
        const battery: { batteryLevel?: number } = batteryLevel === undefined ? {} : { batteryLevel };
        const event: DeviceStatusEvent = {
          sensorId: sensor.id,
          kind: sensor.kind,
          district: sensor.district,
          status,
          ts: now,
          source: origin,
          ...battery,
        };
        const durable = commit(
          [
            {
              measurement: DEVICE_STATUS_MEASUREMENT,
              tags: tagsOf(sensor),
              fields:
                batteryLevel === undefined ? { status, source: origin } : { status, source: origin, batteryLevel },
              ts: now,
            },
          ],
          { topic, accepted: 1, rejected: [] },
        );
        announce('status', event);
        return durable;
      }
      case 'events': {
        const parsed = parseCameraEvent(payload, kind, ctx);
        if (isRejection(parsed)) return refuse([parsed], topic);
        const event: CameraEvent = { sensorId: sensor.id, district: sensor.district, ...parsed };
        const fields: Record<string, string | number | boolean> = {
          type: parsed.type,
          data: JSON.stringify(parsed.data),
        };
        if (parsed.snapshotUrl) fields.snapshotUrl = parsed.snapshotUrl;
        const durable = commit(
          [{ measurement: CAMERA_EVENT_MEASUREMENT, tags: tagsOf(sensor), fields, ts: parsed.ts }],
          { topic, accepted: 1, rejected: [] },
        );
        announce('cameraEvent', event);
        return durable;
      }
      case 'errors':
        return refuse(
          [reject('topic_invalid', 'the errors channel is written by the platform, not by devices')],
          topic,
        );
    }
  };

  return {
    handle(topic, payload, origin = 'device') {
      try {
        return Promise.resolve(accept(topic, payload, origin));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
  };
}
