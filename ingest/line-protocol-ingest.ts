import type { City } from '../config/city-config.ts';
import type { IngestService } from './ingest-service.ts';
import { parseLineProtocol, toEpochMs, type LineError, type LinePoint } from './line-protocol.ts';
import { reject, type Rejection } from './rejection.ts';

/**
 * Line protocol into the one ingest path. The mapping (docs/line-protocol.md):
 * - the tag `sensorId` (or `sensor_id`, `sensor`) names the sensor; the measurement is its kind
 *   (`air`, `water`, ...), so Telegraf's `name_override` or a Node-RED measurement names it;
 * - every field is a metric of that kind, validated as a device's reading is (ranges, types, units);
 * - the timestamp, in the write's precision, becomes the reading's time in milliseconds (the store's
 *   resolution); without one, the server's time.
 * Each sensor's points go through `IngestService.handle` as one JSON publish on its readings topic, so
 * validation, rules, alerts and durable acknowledgement are the same as over MQTT.
 */
export const SENSOR_TAGS = ['sensorId', 'sensor_id', 'sensor'] as const;

export interface LineRefusal {
  readonly line: number;
  readonly code: string;
  readonly message: string;
}

export type LineWriteResult =
  /** nothing written: the body does not parse (InfluxDB answers 400 with the line) */
  | { readonly outcome: 'syntax'; readonly errors: readonly LineError[] }
  /** nothing written: a point names a sensor the caller may not write for */
  | { readonly outcome: 'forbidden'; readonly line: number; readonly sensorId: string }
  /** written: `accepted` readings are durable; `refused` points were not valid readings */
  | { readonly outcome: 'written'; readonly accepted: number; readonly refused: readonly LineRefusal[] };

export interface LineWriteDeps {
  readonly ingest: IngestService;
  readonly city: City;
  /** readings per ingest call (the MQTT per-publish limit) */
  readonly maxReadingsPerPublish: number;
}

export function sensorIdOf(point: LinePoint): string | undefined {
  for (const tag of SENSOR_TAGS) {
    const id = point.tags.get(tag);
    if (id !== undefined) return id;
  }
  return undefined;
}

/**
 * Parses `body` and ingests it. `mayWrite` says whether the caller may write for a sensor (a device for
 * itself only); a point for another sensor refuses the whole write before anything is stored.
 */
export async function writeLineProtocol(
  deps: LineWriteDeps,
  body: string,
  precision: string,
  mayWrite: (sensorId: string) => boolean,
): Promise<LineWriteResult> {
  const { points, errors } = parseLineProtocol(body);
  if (errors.length) return { outcome: 'syntax', errors };
  const refused: LineRefusal[] = [];
  const bySensor = new Map<string, Array<{ line: number; reading: Record<string, unknown> }>>();
  for (const point of points) {
    const sensorId = sensorIdOf(point);
    if (sensorId === undefined) {
      refused.push({
        line: point.line,
        code: 'unknown_sensor',
        message: `no sensor tag: add one of ${SENSOR_TAGS.join(', ')}`,
      });
      continue;
    }
    if (!mayWrite(sensorId)) return { outcome: 'forbidden', line: point.line, sensorId };
    const sensor = deps.city.sensorsById.get(sensorId);
    if (!sensor) {
      refused.push({ line: point.line, code: 'unknown_sensor', message: `unknown sensor "${sensorId}"` });
      continue;
    }
    if (point.measurement !== sensor.kind) {
      refused.push({
        line: point.line,
        code: 'kind_mismatch',
        message: `measurement "${point.measurement}" is not the kind of sensor ${sensorId} ("${sensor.kind}")`,
      });
      continue;
    }
    const ts = point.timestamp === undefined ? undefined : toEpochMs(point.timestamp, precision);
    if (point.timestamp !== undefined && ts === undefined) {
      refused.push({
        line: point.line,
        code: 'invalid_timestamp',
        message: `timestamp ${point.timestamp} is out of range in precision ${precision}`,
      });
      continue;
    }
    const reading: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [metric, value] of point.fields) reading[metric] = value;
    if (ts !== undefined) reading.ts = ts;
    let list = bySensor.get(sensorId);
    if (!list) {
      list = [];
      bySensor.set(sensorId, list);
    }
    list.push({ line: point.line, reading });
  }
  // all sensors at once: the commit log's group commit makes them durable together
  const outcomes = await Promise.all(
    [...bySensor].flatMap(([sensorId, list]) => {
      const kind = deps.city.sensorsById.get(sensorId)!.kind;
      const calls: Array<Promise<{ accepted: number; refused: LineRefusal[] }>> = [];
      for (let start = 0; start < list.length; start += deps.maxReadingsPerPublish) {
        const chunk = list.slice(start, start + deps.maxReadingsPerPublish);
        const payload = Buffer.from(JSON.stringify(chunk.map((c) => c.reading)));
        calls.push(
          deps.ingest.handle(`ioc/${kind}/${sensorId}/readings`, payload).then((outcome) => ({
            accepted: outcome.accepted,
            refused: outcome.rejected.map((r) => ({
              line: chunk[r.index ?? 0]?.line ?? chunk[0]!.line,
              code: r.code,
              message: r.message,
            })),
          })),
        );
      }
      return calls;
    }),
  );
  let accepted = 0;
  for (const o of outcomes) {
    accepted += o.accepted;
    refused.push(...o.refused);
  }
  refused.sort((a, b) => a.line - b.line);
  return { outcome: 'written', accepted, refused };
}

/** A readings payload that is line protocol rather than JSON: it starts with a measurement name. */
export function looksLikeLineProtocol(payload: Buffer): boolean {
  for (const byte of payload) {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue;
    return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
  }
  return false;
}

/**
 * Line protocol published on a device's readings topic (Telegraf's mqtt output with `data_format =
 * "influx"`): each line becomes one reading object as a JSON payload would hold it, timestamps in
 * nanoseconds (Telegraf's default). The topic names the sensor: a line for another sensor, or whose
 * measurement is not the sensor's kind, refuses the publish.
 */
export function lineProtocolReadings(
  payload: Buffer,
  sensor: { readonly id: string; readonly kind: string },
): unknown[] | Rejection {
  const { points, errors } = parseLineProtocol(payload.toString('utf8'), 1);
  if (errors.length)
    return reject('malformed_payload', `line protocol, line ${errors[0]!.line}: ${errors[0]!.message}`);
  if (points.length === 0) return reject('no_metrics', 'the line protocol payload holds no line');
  const readings: unknown[] = [];
  for (const point of points) {
    const named = sensorIdOf(point);
    if (named !== undefined && named !== sensor.id)
      return reject(
        'malformed_payload',
        `line ${point.line} is for sensor "${named.slice(0, 64)}", not ${sensor.id} (the topic's)`,
      );
    if (point.measurement !== sensor.kind)
      return reject(
        'kind_mismatch',
        `line ${point.line}: measurement "${point.measurement.slice(0, 64)}" ` +
          `is not ${sensor.id}'s kind (${sensor.kind})`,
      );
    const reading: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [metric, value] of point.fields) reading[metric] = value;
    if (point.timestamp !== undefined) {
      const ts = toEpochMs(point.timestamp, 'ns');
      if (ts === undefined)
        return reject(
          'invalid_timestamp',
          `line ${point.line}: timestamp ${point.timestamp} is out of range (nanoseconds)`,
        );
      reading.ts = ts;
    }
    readings.push(reading);
  }
  return readings;
}
