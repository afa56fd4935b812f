import { reject, type Rejection } from './rejection.ts';
import { truncate } from './parse-topic.ts';

/**
 * A payload as devices send it, before validation against the sensor's kind: a list of raw readings,
 * each with an optional timestamp and its metric values as given. Accepted forms (see README):
 * a JSON object `{"ts": ..., "<metric>": <number>, ...}`, an array of such objects, or a SenML pack
 * (RFC 8428 JSON: an array of records with n/v, bn/bt/bu, t, u).
 */
export type RawReading = SenmlReading | ObjectReading;

interface ReadingBase {
  readonly index: number;
  /** as sent: ISO-8601 string or epoch ms number; undefined means server time */
  readonly ts: unknown;
}

/** A reading gathered from SenML records: its values, each with the unit the record gave. */
export interface SenmlReading extends ReadingBase {
  readonly values: ReadonlyArray<{ metric: string; value: unknown; unit?: string }>;
}

/** A JSON object as the device sent it: every key but `ts` is a metric (no copy: devices send many). */
export interface ObjectReading extends ReadingBase {
  readonly object: Readonly<Record<string, unknown>>;
}

export type ParsedPayload = { readings: RawReading[] } | Rejection;

export function parseJson(payload: Buffer): unknown | Rejection {
  const text = payload.toString('utf8');
  if (text.includes('\uFFFD') && !Buffer.from(text, 'utf8').equals(payload)) {
    return reject('malformed_payload', 'payload is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    return reject('malformed_payload', `payload is not valid JSON: ${truncate((err as Error).message, 120)}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const SENML_KEYS = new Set(['bn', 'bt', 'bu', 'bv', 'bver', 'n', 'u', 'v', 'vs', 'vb', 'vd', 's', 't', 'ut']);

function looksLikeSenml(list: unknown[]): boolean {
  return (
    list.length > 0 &&
    list.every(
      (r) =>
        isObject(r) &&
        Object.keys(r).every((k) => SENML_KEYS.has(k)) &&
        ('n' in r || 'bn' in r || 'v' in r || 'vb' in r),
    )
  );
}

export function parseReadingsPayload(json: unknown, maxReadings: number): ParsedPayload {
  if (isObject(json)) return { readings: [objectReading(json, 0)] };
  if (!Array.isArray(json)) {
    return reject('malformed_payload', 'expected a JSON object of metrics, an array of them, or a SenML pack');
  }
  if (json.length === 0) return reject('no_metrics', 'the payload is an empty array');
  if (looksLikeSenml(json)) return parseSenml(json, maxReadings);
  if (json.length > maxReadings) {
    return reject('too_many_readings', `${json.length} readings in one publish; the limit is ${maxReadings}`);
  }
  const readings: RawReading[] = [];
  for (let i = 0; i < json.length; i++) {
    const item: unknown = json[i];
    if (!isObject(item)) return reject('malformed_payload', `reading ${i} is not a JSON object`, { index: i });
    readings.push(objectReading(item, i));
  }
  return { readings };
}

function objectReading(object: Record<string, unknown>, index: number): ObjectReading {
  return { index, ts: object.ts, object };
}

/** RFC 8428: times are seconds; a time below 2^28 is relative to now. Names end in the metric. */
function parseSenml(records: unknown[], maxReadings: number): ParsedPayload {
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  const byTime = new Map<
    string,
    { index: number; ts: unknown; values: Array<{ metric: string; value: unknown; unit?: string }> }
  >();
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as Record<string, unknown>;
    if (r.bn !== undefined) {
      if (typeof r.bn !== 'string')
        return reject('malformed_payload', `SenML record ${i}: bn must be a string`, { index: i });
      bn = r.bn;
    }
    if (r.bt !== undefined) {
      if (typeof r.bt !== 'number' || !Number.isFinite(r.bt))
        return reject('malformed_payload', `SenML record ${i}: bt must be a number`, { index: i });
      bt = r.bt;
    }
    if (r.bu !== undefined) {
      if (typeof r.bu !== 'string')
        return reject('malformed_payload', `SenML record ${i}: bu must be a string`, { index: i });
      bu = r.bu;
    }
    if (r.v === undefined && r.vb === undefined) {
      if (r.vs !== undefined || r.vd !== undefined || r.s !== undefined) {
        return reject('wrong_type', `SenML record ${i}: only numeric (v) and boolean (vb) values are accepted`, {
          index: i,
        });
      }
      continue; // a base-only record
    }
    const name = `${bn}${typeof r.n === 'string' ? r.n : ''}`;
    const metric = name.split(/[:/]/).pop() ?? '';
    if (!metric)
      return reject('malformed_payload', `SenML record ${i}: no name (n or bn) to take the metric from`, { index: i });
    const t = r.t === undefined ? 0 : r.t;
    if (typeof t !== 'number' || !Number.isFinite(t))
      return reject('invalid_timestamp', `SenML record ${i}: t must be a number (seconds)`, { index: i });
    const seconds = bt + t;
    const ts =
      seconds === 0 ? undefined : seconds < 2 ** 28 ? { relativeSeconds: seconds } : Math.round(seconds * 1000);
    const key = JSON.stringify(ts ?? null);
    let reading = byTime.get(key);
    if (!reading) {
      if (byTime.size >= maxReadings)
        return reject('too_many_readings', `more than ${maxReadings} readings in one SenML pack`);
      reading = { index: i, ts, values: [] };
      byTime.set(key, reading);
    }
    const unit = typeof r.u === 'string' ? r.u : bu;
    reading.values.push({ metric, value: r.v !== undefined ? r.v : r.vb, ...(unit ? { unit } : {}) });
  }
  if (byTime.size === 0) return reject('no_metrics', 'the SenML pack has no values');
  return { readings: [...byTime.values()] };
}
