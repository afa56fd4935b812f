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

export function encodeRecord(points: readonly Point[]): Buffer {
  const first = points[0];
  if (first && points.every((p) => p.measurement === first.measurement && sameTags(p.tags, first.tags))) {
    const record: SharedRecord = { m: first.measurement, t: { ...first.tags }, p: points.map((p) => [p.ts, p.fields as Record<string, FieldValue>]) };
    return Buffer.from(JSON.stringify(record));
  }
  return Buffer.from(JSON.stringify(points));
}

export function decodeRecord(text: string): Point[] {
  const parsed = JSON.parse(text) as Point[] | SharedRecord;
  if (Array.isArray(parsed)) return parsed;
  const { m, t, p } = parsed;
  return p.map(([ts, fields]) => ({ measurement: m, tags: t, fields, ts }));
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
