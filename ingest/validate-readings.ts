import type { Sensor, SensorKind } from '../config/city-config.ts';
import type { ReadingEvent } from './ingest-events.ts';
import type { RawReading } from './parse-payload.ts';
import { reject, type Rejection } from './rejection.ts';
import { ownValue, recordTable } from '../config/lookup-table.ts';

export interface ValidationContext {
  readonly sensor: Sensor;
  readonly kind: SensorKind;
  readonly now: number;
  readonly maxFutureMs: number;
  readonly maxAgeMs: number;
}

export interface ValidationResult {
  readonly accepted: ReadingEvent[];
  readonly rejected: Rejection[];
  /** metric values in the accepted readings */
  readonly values: number;
}

// SenML units (RFC 8428 registry) that mean the same as a kind's UCUM unit.
const UNIT_ALIASES: Record<string, readonly string[]> = {
  'ug/m3': ['ug/m3', 'µg/m3', 'ug/m^3'],
  '%': ['%', '%RH'],
  '1': ['1', '/', 'ratio'],
};

const EPOCH_MS_FLOOR = 1e11; // 1973-03-03: smaller numbers are almost surely epoch seconds

/** Resolves a reading's timestamp, or says precisely why it cannot be used. */
export function resolveTimestamp(ts: unknown, ctx: ValidationContext, index: number): number | Rejection {
  let ms: number;
  if (ts === undefined || ts === null) {
    ms = ctx.now;
  } else if (typeof ts === 'number') {
    if (!Number.isFinite(ts)) return reject('invalid_timestamp', 'ts is not a finite number', { index });
    if (Math.abs(ts) < EPOCH_MS_FLOOR) {
      return reject('invalid_timestamp', `ts ${ts} looks like epoch seconds; send epoch milliseconds or ISO-8601`, {
        index,
      });
    }
    ms = Math.round(ts);
  } else if (typeof ts === 'string') {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(ts)) {
      return reject(
        'invalid_timestamp',
        `ts "${ts.slice(0, 40)}" is not ISO-8601 with a time zone (e.g. 2026-11-27T08:00:00+07:00)`,
        { index },
      );
    }
    ms = Date.parse(ts);
    if (Number.isNaN(ms)) return reject('invalid_timestamp', `ts "${ts.slice(0, 40)}" is not a valid date`, { index });
  } else if (typeof ts === 'object' && 'relativeSeconds' in ts && typeof ts.relativeSeconds === 'number') {
    ms = ctx.now + Math.round(ts.relativeSeconds * 1000);
  } else {
    return reject('invalid_timestamp', `ts must be an ISO-8601 string or epoch milliseconds, got ${typeof ts}`, {
      index,
    });
  }
  if (ms > ctx.now + ctx.maxFutureMs) {
    return reject(
      'timestamp_in_future',
      `ts ${new Date(ms).toISOString()} is more than ${ctx.maxFutureMs / 1000} s ahead of server ` +
        `time ${new Date(ctx.now).toISOString()}: check the device clock`,
      { index },
    );
  }
  if (ms < ctx.now - ctx.maxAgeMs) {
    return reject(
      'timestamp_too_old',
      `ts ${new Date(ms).toISOString()} is older than the ${Math.round(ctx.maxAgeMs / 86_400_000)}-day limit`,
      { index },
    );
  }
  return ms;
}

function checkValue(
  metric: string,
  value: unknown,
  unit: string | undefined,
  ctx: ValidationContext,
  index: number,
): number | Rejection {
  const spec = ctx.kind.metrics[metric];
  if (!spec) {
    const known = Object.keys(ctx.kind.metrics).join(', ');
    return reject(
      'unknown_metric',
      `"${metric.slice(0, 40)}" is not a metric of kind ${ctx.kind.kind} (known: ${known})`,
      { index, metric: metric.slice(0, 64) },
    );
  }
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'boolean' && spec.integer && spec.min === 0 && spec.max === 1) n = value ? 1 : 0;
  else
    return reject('wrong_type', `${metric} must be a number, got ${value === null ? 'null' : typeof value}`, {
      index,
      metric,
    });
  if (!Number.isFinite(n)) return reject('not_finite', `${metric} is not a finite number`, { index, metric });
  if (spec.integer && !Number.isInteger(n))
    return reject('not_integer', `${metric} must be a whole number, got ${n}`, { index, metric });
  if (n < spec.min || n > spec.max) {
    return reject(
      'out_of_range',
      `${metric} = ${n} ${spec.unit} is outside the plausible range ${spec.min}..${spec.max} ${spec.unit}`,
      { index, metric },
    );
  }
  if (unit !== undefined && unit !== spec.unit && !(ownValue(UNIT_ALIASES, spec.unit) ?? []).includes(unit)) {
    return reject('unit_mismatch', `${metric} is in ${spec.unit}, got "${unit.slice(0, 20)}"`, { index, metric });
  }
  return n;
}

/** Keeps a checked value under its metric, or its refusal; true when kept. */
function keepValue(
  values: Record<string, number>,
  rejected: Rejection[],
  checked: number | Rejection,
  metric: string,
): boolean {
  if (typeof checked !== 'number') {
    rejected.push(checked);
    return false;
  }
  values[metric] = checked;
  return true;
}

/**
 * Checks each reading against its sensor's kind. A bad timestamp refuses the whole reading; a bad value
 * refuses that metric only, so one faulty channel does not silence a station's other metrics.
 */
export function validateReadings(raw: readonly RawReading[], ctx: ValidationContext): ValidationResult {
  const accepted: ReadingEvent[] = [];
  const rejected: Rejection[] = [];
  let total = 0;
  for (const reading of raw) {
    const ts = resolveTimestamp(reading.ts, ctx, reading.index);
    if (typeof ts !== 'number') {
      rejected.push(ts);
      continue;
    }
    const values = recordTable<number>();
    let count = 0;
    let sent = 0;
    // a JSON object as sent (every key but ts is a metric), or SenML values with their units
    if ('object' in reading) {
      for (const metric in reading.object) {
        if (metric === 'ts') continue;
        sent++;
        if (
          keepValue(values, rejected, checkValue(metric, reading.object[metric], undefined, ctx, reading.index), metric)
        )
          count++;
      }
    } else {
      for (const { metric, value, unit } of reading.values) {
        sent++;
        if (keepValue(values, rejected, checkValue(metric, value, unit, ctx, reading.index), metric)) count++;
      }
    }
    if (count === 0) {
      if (sent === 0) rejected.push(reject('no_metrics', 'the reading has no metric values', { index: reading.index }));
      continue;
    }
    total += count;
    accepted.push({ sensorId: ctx.sensor.id, kind: ctx.sensor.kind, district: ctx.sensor.district, ts, values });
  }
  return { accepted, rejected, values: total };
}
