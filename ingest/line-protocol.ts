/**
 * InfluxDB line protocol, as InfluxDB 1.x and 2.x read it (docs.influxdata.com, "Line protocol"):
 *
 *   measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * Measurement, tag keys and values escape `,` ` ` (and `=` in keys and tag values) with a backslash;
 * field values are floats (`1`, `-1.5e3`), integers (`1i`), unsigned integers (`1u`), strings in double
 * quotes (escaping `"` and `\`) and booleans (t, true, f, false in any of their documented cases). Lines
 * are separated by `\n`; empty lines and `#` comments are skipped. The timestamp is an integer in the
 * write's precision. Written by hand because the npm parsers are unmaintained and read nanosecond
 * timestamps as floating-point numbers, which loses them; this one keeps them as bigint.
 */
export type FieldValue = number | string | boolean;

export interface LinePoint {
  /** 1-based line number in the body, for errors */
  readonly line: number;
  readonly measurement: string;
  readonly tags: ReadonlyMap<string, string>;
  readonly fields: ReadonlyMap<string, FieldValue>;
  /** in the write's precision; undefined: the server's time */
  readonly timestamp?: bigint;
}

export interface LineError {
  readonly line: number;
  readonly message: string;
  /** the line as sent, cut to a readable length */
  readonly text: string;
}

export type ParsedLines = { readonly points: LinePoint[]; readonly errors: LineError[] };

class LineSyntaxError extends Error {}

const MAX_LINE_ECHO = 120;
const BOOLEAN: ReadonlyMap<string, boolean> = new Map([
  ['t', true],
  ['T', true],
  ['true', true],
  ['True', true],
  ['TRUE', true],
  ['f', false],
  ['F', false],
  ['false', false],
  ['False', false],
  ['FALSE', false],
]);
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+i$/;
const UNSIGNED = /^\d+u$/;
const TIMESTAMP = /^-?\d+$/;

/** Parses a whole body; every line is parsed, so one answer lists every bad line (up to `maxErrors`). */
export function parseLineProtocol(body: string, maxErrors = 10): ParsedLines {
  const points: LinePoint[] = [];
  const errors: LineError[] = [];
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    const trimmed = text.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    try {
      points.push(parseLine(trimmed, i + 1));
    } catch (err) {
      if (!(err instanceof LineSyntaxError)) throw err;
      if (errors.length < maxErrors)
        errors.push({
          line: i + 1,
          message: err.message,
          text: trimmed.length > MAX_LINE_ECHO ? `${trimmed.slice(0, MAX_LINE_ECHO)}…` : trimmed,
        });
      else break;
    }
  }
  return { points, errors };
}

/** Reads up to an unescaped character of `stops`, removing the backslash of escaped ones. */
function readUntil(line: string, start: number, stops: string, escapable: string): { value: string; end: number } {
  let value = '';
  let i = start;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length && escapable.includes(line[i + 1]!)) {
      value += line[i + 1];
      i += 2;
      continue;
    }
    if (stops.includes(c)) break;
    value += c;
    i++;
  }
  return { value, end: i };
}

function parseLine(line: string, lineNo: number): LinePoint {
  const m = readUntil(line, 0, ', ', ', \\');
  if (m.value === '') throw new LineSyntaxError('missing measurement');
  let i = m.end;
  const tags = new Map<string, string>();
  while (line[i] === ',') {
    const key = readUntil(line, i + 1, ',= ', ',= \\');
    if (key.value === '' || line[key.end] !== '=')
      throw new LineSyntaxError(`missing tag key or "=" at column ${key.end + 1}`);
    const value = readUntil(line, key.end + 1, ', ', ',= \\');
    if (value.value === '') throw new LineSyntaxError(`missing tag value for "${key.value}"`);
    tags.set(key.value, value.value);
    i = value.end;
  }
  if (line[i] !== ' ') throw new LineSyntaxError('missing fields');
  while (line[i] === ' ') i++;
  const fields = new Map<string, FieldValue>();
  for (;;) {
    const key = readUntil(line, i, ',= ', ',= \\');
    if (key.value === '' || line[key.end] !== '=')
      throw new LineSyntaxError(`missing field key or "=" at column ${key.end + 1}`);
    const parsed = readFieldValue(line, key.end + 1, key.value);
    fields.set(key.value, parsed.value);
    i = parsed.end;
    if (line[i] !== ',') break;
    i++;
  }
  let timestamp: bigint | undefined;
  if (i < line.length) {
    if (line[i] !== ' ') throw new LineSyntaxError(`unexpected "${line[i]}" at column ${i + 1}`);
    const rest = line.slice(i).trim();
    if (rest !== '') {
      if (!TIMESTAMP.test(rest)) throw new LineSyntaxError(`bad timestamp "${rest.slice(0, 40)}"`);
      timestamp = BigInt(rest);
    }
  }
  return { line: lineNo, measurement: m.value, tags, fields, timestamp };
}

function readFieldValue(line: string, start: number, key: string): { value: FieldValue; end: number } {
  if (line[start] === '"') {
    let value = '';
    let i = start + 1;
    while (i < line.length && line[i] !== '"') {
      if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) i++;
      value += line[i];
      i++;
    }
    if (i >= line.length) throw new LineSyntaxError(`unterminated string in field "${key}"`);
    return { value, end: i + 1 };
  }
  const raw = readUntil(line, start, ', ', '');
  const text = raw.value;
  if (text === '') throw new LineSyntaxError(`missing value for field "${key}"`);
  const bool = BOOLEAN.get(text);
  if (bool !== undefined) return { value: bool, end: raw.end };
  if (INTEGER.test(text) || UNSIGNED.test(text)) {
    const n = Number(text.slice(0, -1));
    if (!Number.isSafeInteger(n)) throw new LineSyntaxError(`integer field "${key}" is out of range: ${text}`);
    return { value: n, end: raw.end };
  }
  if (FLOAT.test(text)) {
    const n = Number(text);
    if (!Number.isFinite(n)) throw new LineSyntaxError(`field "${key}" is out of range: ${text}`);
    return { value: n, end: raw.end };
  }
  throw new LineSyntaxError(`invalid value for field "${key}": ${text.slice(0, 40)}`);
}

/** InfluxDB's precision names (1.x `precision=`: n, ns, u, us, ms, s, m, h; 2.x: ns, us, ms, s). */
const PER_MS: ReadonlyMap<string, { div?: bigint; mul?: bigint }> = new Map([
  ['n', { div: 1_000_000n }],
  ['ns', { div: 1_000_000n }],
  ['u', { div: 1000n }],
  ['us', { div: 1000n }],
  ['µ', { div: 1000n }],
  ['ms', {}],
  ['s', { mul: 1000n }],
  ['m', { mul: 60_000n }],
  ['h', { mul: 3_600_000n }],
]);

export const PRECISIONS: readonly string[] = [...PER_MS.keys()];

/** A timestamp in `precision` as epoch milliseconds (the store's resolution); undefined for an unknown precision. */
export function toEpochMs(timestamp: bigint, precision: string): number | undefined {
  const p = PER_MS.get(precision);
  if (!p) return undefined;
  const ms = p.div ? timestamp / p.div : p.mul ? timestamp * p.mul : timestamp;
  const n = Number(ms);
  return Number.isSafeInteger(n) ? n : undefined;
}
