import type { FieldValue, Point } from './time-series-store.ts';

/**
 * The payload of one commit-log record: the points of one durable write, as JSON. Most writes are one
 * device message, whose points share their measurement and tags; those are written once, followed by each
 * point's time and fields, so the bytes encoded on the broker's thread (and decoded again by the store)
 * are about half of the plain form:
 *
 *   {"m":"air","t":{"sensorId":"air-1","kind":"air","district":"Phú Xuân"},"p":[[ts,{"pm25":12}],...]}
 *
 * Anything else is a JSON array of points, which is also how logs written before this format read.
 */
interface SharedRecord {
  m: string;
  t: Record<string, string>;
  p: Array<[number, Record<string, FieldValue>]>;
}

/**
 * The record as text (the log writes it as UTF-8), built without an intermediate object: this runs on the
 * broker's thread for every device message. A frozen tag object's record start (measurement and tags) is kept,
 * so callers that reuse one per sensor (ingest does) pay for it once.
 */
export function encodeRecord(points: readonly Point[]): string {
  const first = points[0];
  if (!first) return JSON.stringify(points);
  for (let i = 1; i < points.length; i++) {
    const p = points[i]!;
    if (p.measurement !== first.measurement || !sameTags(p.tags, first.tags)) return JSON.stringify(points);
  }
  let text = recordStart(first.measurement, first.tags);
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    text += `${i === 0 ? '' : ','}[${JSON.stringify(p.ts)},${JSON.stringify(p.fields)}]`;
  }
  return `${text}]}`;
}

/**
 * `{"m":...,"t":{...},"p":[` of frozen tag objects (which cannot change under the cache), by measurement: ingest
 * keeps one tag object per sensor, whose readings and status share it.
 */
const startCache = new WeakMap<Readonly<Record<string, string>>, Map<string, string>>();

function recordStart(measurement: string, tags: Readonly<Record<string, string>>): string {
  if (!Object.isFrozen(tags)) return `{"m":${JSON.stringify(measurement)},"t":${asciiJson(tags)},"p":[`;
  let byMeasurement = startCache.get(tags);
  if (!byMeasurement) {
    byMeasurement = new Map();
    startCache.set(tags, byMeasurement);
  }
  let start = byMeasurement.get(measurement);
  if (start === undefined) {
    start = `{"m":${JSON.stringify(measurement)},"t":${asciiJson(tags)},"p":[`;
    byMeasurement.set(measurement, start);
  }
  return start;
}

const NON_ASCII = /[\u0080-\uffff]/;
const NON_ASCII_ALL = /[\u0080-\uffff]/g;

/**
 * The same JSON with every character beyond ASCII as a `\u` escape (JSON.parse reads back the same strings).
 * The commit log writes a record's text as UTF-8: an ASCII string at copying speed, where one "ú" of a district
 * name in the tags sent every record of that sensor through the slower encoder (169 against 96 ns a record).
 */
function asciiJson(value: unknown): string {
  const json = JSON.stringify(value);
  return NON_ASCII.test(json)
    ? json.replace(NON_ASCII_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : json;
}

export function decodeRecord(text: string): Point[] {
  const parsed = JSON.parse(text) as Point[] | SharedRecord;
  if (Array.isArray(parsed)) return parsed;
  const { m, t, p } = parsed;
  return p.map(([ts, fields]) => ({ measurement: m, tags: t, fields, ts }));
}

/** Points that share a measurement and tag set, as a record holds them: [ts, fields] each. */
export interface RecordGroup {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly points: ReadonlyArray<readonly [number, Readonly<Record<string, FieldValue>>]>;
}

/**
 * The groups of many records sent as one JSON array (`[record,record,...]`): one parse for a whole batch,
 * and no object per point, for a store that resolves a series once per group (the embedded store).
 */
export function decodeRecordList(text: string): RecordGroup[] {
  const groups: RecordGroup[] = [];
  for (const record of JSON.parse(text) as Array<Point[] | SharedRecord>) {
    if (!Array.isArray(record)) groups.push({ measurement: record.m, tags: record.t, points: record.p });
    else for (const p of record) groups.push({ measurement: p.measurement, tags: p.tags, points: [[p.ts, p.fields]] });
  }
  return groups;
}

function sameTags(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}
