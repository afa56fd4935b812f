import type { RecordGroup } from '../log-record.ts';
import type { FieldValue } from '../time-series-store.ts';

/**
 * Commit-log records on their way to the writer worker: packed back to back in one buffer of their own
 * with the end of each, so the buffer is transferred (not cloned) and no JSON array is built around
 * them. The worker then reads most records without parsing all of them: a record in the shared form
 * (store/log-record.ts) starts with its series, `{"m":...,"t":{...},"p":[`, the same bytes for every
 * record of a sensor, so those bytes name the series (a Map lookup) and only the points are parsed.
 * Replaying a million records spent most of its time re-parsing the same tags (issue 13 item 2).
 */
export interface PackedRecords {
  readonly bytes: Uint8Array;
  /** end of each record in `bytes`; a record starts where the previous one ends */
  readonly ends: Uint32Array;
}

export function packRecords(records: readonly Uint8Array[]): PackedRecords {
  let total = 0;
  for (const r of records) total += r.length;
  // its own ArrayBuffer (not a slice of Node's pool), so that it can be transferred
  const bytes = new Uint8Array(new ArrayBuffer(total));
  const ends = new Uint32Array(records.length);
  let at = 0;
  records.forEach((r, i) => {
    bytes.set(r, at);
    at += r.length;
    ends[i] = at;
  });
  return { bytes, ends };
}

const SHARED_START = Buffer.from('{"m":');
/** In the shared form this only occurs where the points start: `m` and the tag values are JSON strings. */
const POINTS_START = Buffer.from(',"p":[');

export interface PackedVisitor {
  /**
   * a shared-form record: `key` names its series; `header` parses it (needed once per series); `fieldsJson`, when
   * given, is each point's fields object as the record holds it (the encoder's JSON.stringify: what the store
   * would get by encoding the parsed fields again)
   */
  shared(
    key: string,
    header: () => { m: string; t: Record<string, string> },
    points: SharedPoints,
    fieldsJson: readonly string[] | undefined,
  ): void;
  /** any other form (a plain array of points, as older logs hold) */
  groups(groups: readonly RecordGroup[]): void;
}

export type SharedPoints = ReadonlyArray<readonly [number, Readonly<Record<string, FieldValue>>]>;

/**
 * Calls the visitor for every record, in order. A record that is not valid JSON throws (the feeder then
 * finds it and sets it aside: store/poison-batch.ts), as parsing the batch at once did.
 */
export function visitPacked(
  packed: PackedRecords,
  visitor: PackedVisitor,
  decode: (list: string) => RecordGroup[],
): void {
  const buf = Buffer.from(packed.bytes.buffer, packed.bytes.byteOffset, packed.bytes.byteLength);
  let start = 0;
  for (const end of packed.ends) {
    const pointsAt = isShared(buf, start, end) ? buf.indexOf(POINTS_START, start) : -1;
    if (pointsAt > start && pointsAt < end) {
      const headerEnd = pointsAt;
      const from = start;
      // latin1: one byte per char, cheap, and as unique a key as the bytes themselves
      const key = buf.toString('latin1', from, headerEnd);
      const text = buf.toString('utf8', pointsAt + POINTS_START.length - 1, end - 1);
      const points = parsePoints(text);
      if (points) {
        const json = fieldsTexts(text);
        const fieldsJson = json?.length === points.length ? json : undefined;
        visitor.shared(key, () => parseHeader(buf.toString('utf8', from, headerEnd)), points, fieldsJson);
      } else {
        // not the encoder's layout: parse it whole
        visitor.groups(decode(`[${buf.toString('utf8', start, end)}]`));
      }
    } else {
      visitor.groups(decode(`[${buf.toString('utf8', start, end)}]`));
    }
    start = end;
  }
}

function isShared(buf: Buffer, start: number, end: number): boolean {
  const n = SHARED_START.length;
  return end - start > n && buf.compare(SHARED_START, 0, n, start, start + n) === 0 && buf[end - 1] === 0x7d; // '}'
}

function parsePoints(text: string): SharedPoints | undefined {
  try {
    const points = JSON.parse(text) as unknown;
    return Array.isArray(points) ? (points as SharedPoints) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The text of each point's fields object in `[[ts,{...}],[ts,{...}]]` (already parsed whole, so valid JSON), or
 * undefined if the text is not in that layout. Encoding the parsed fields again was most of the store worker's
 * own work per reading beside SQLite's (793 against 505 ns with parsing, in a micro-benchmark).
 */
export function fieldsTexts(text: string): string[] | undefined {
  const n = text.length;
  if (text.charCodeAt(0) !== 0x5b || text.charCodeAt(n - 1) !== 0x5d) return undefined; // [ ]
  const out: string[] = [];
  let i = 1;
  while (i < n - 1) {
    if (text.charCodeAt(i) !== 0x5b) return undefined; // [ of a point
    const comma = text.indexOf(',', i); // the time is a number: no comma in it
    if (comma < 0 || text.charCodeAt(comma + 1) !== 0x7b) return undefined; // {
    if (!isNumberText(text, i + 1, comma)) return undefined;
    let j = comma + 1;
    let depth = 0;
    for (; j < n; j++) {
      const c = text.charCodeAt(j);
      if (c === 0x22) {
        // a string: up to its closing quote, escapes skipped
        for (j++; j < n; j++) {
          const d = text.charCodeAt(j);
          if (d === 0x5c) j++;
          else if (d === 0x22) break;
        }
      } else if (c === 0x7b || c === 0x5b) depth++;
      else if ((c === 0x7d || c === 0x5d) && --depth === 0) break;
    }
    if (text.charCodeAt(j + 1) !== 0x5d) return undefined; // ] of the point
    out.push(text.slice(comma + 1, j + 1));
    i = j + 2;
    if (text.charCodeAt(i) === 0x2c)
      i++; // , before the next point
    else if (i !== n - 1) return undefined;
  }
  return out;
}

/** Only the characters of a JSON number between `from` and `to` (a time written as anything else is not ours). */
function isNumberText(text: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    // 0-9 - + . e E
    if (!((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45)) return false;
  }
  return true;
}

function parseHeader(text: string): { m: string; t: Record<string, string> } {
  const header = JSON.parse(`${text}}`) as { m?: unknown; t?: unknown };
  if (typeof header.m !== 'string' || typeof header.t !== 'object' || header.t === null || Array.isArray(header.t)) {
    throw new SyntaxError('record header has no measurement or tags');
  }
  return { m: header.m, t: header.t as Record<string, string> };
}
