import type { SensorKind } from '../config/city-config.ts';
import { parseJson } from './parse-payload.ts';
import { isRejection } from './parse-topic.ts';
import { reject, type Rejection } from './rejection.ts';
import { resolveTimestamp, type ValidationContext } from './validate-readings.ts';
import { emptyTable } from '../config/lookup-table.ts';

/** Status payloads: `online` / `offline`, bare or as JSON ("online" or {"status":"online"}). */
export function parseStatus(payload: Buffer): 'online' | 'offline' | Rejection {
  const report = parseStatusReport(payload);
  return isRejection(report) ? report : report.status;
}

export interface StatusReport {
  readonly status: 'online' | 'offline';
  /** percent, when the device (or its network server: LoRaWAN DevStatusAns) reports it */
  readonly batteryLevel?: number;
}

/** A status, and the battery level a JSON status may carry: {"status":"online","batteryLevel":88.3}. */
export function parseStatusReport(payload: Buffer): StatusReport | Rejection {
  const text = payload.toString('utf8').trim();
  let value: unknown = text;
  let batteryLevel: unknown;
  if (text.startsWith('{') || text.startsWith('"')) {
    const json = parseJson(payload);
    if (isRejection(json)) return json;
    value = typeof json === 'object' && json !== null && 'status' in json ? json.status : json;
    if (typeof json === 'object' && json !== null && 'batteryLevel' in json) batteryLevel = json.batteryLevel;
  }
  if (value !== 'online' && value !== 'offline') {
    return reject('invalid_status', `status must be "online" or "offline", got "${String(value).slice(0, 40)}"`);
  }
  if (batteryLevel === undefined) return { status: value };
  if (typeof batteryLevel !== 'number' || !Number.isFinite(batteryLevel) || batteryLevel < 0 || batteryLevel > 100) {
    return reject(
      'invalid_status',
      `batteryLevel must be a percentage 0..100, got ${String(batteryLevel).slice(0, 40)}`,
      { metric: 'batteryLevel' },
    );
  }
  return { status: value, batteryLevel };
}

export interface ParsedCameraEvent {
  ts: number;
  type: string;
  snapshotUrl?: string;
  data: Record<string, string | number | boolean>;
}

const MAX_EVENT_FIELDS = 32;

/** Camera events: `{"ts":..., "type": "<one of the kind's eventTypes>", "snapshotUrl"?: "https://...", ...}`. */
export function parseCameraEvent(
  payload: Buffer,
  kind: SensorKind,
  ctx: ValidationContext,
): ParsedCameraEvent | Rejection {
  if (kind.eventTypes.length === 0) return reject('invalid_event', `sensors of kind ${kind.kind} do not send events`);
  const json = parseJson(payload);
  if (isRejection(json)) return json;
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return reject('invalid_event', 'an event is a JSON object with a "type"');
  const { ts: rawTs, type, snapshotUrl, ...rest } = json as Record<string, unknown>;
  if (typeof type !== 'string' || !kind.eventTypes.includes(type)) {
    return reject(
      'invalid_event',
      `event type must be one of ${kind.eventTypes.join(', ')}, got "${String(type).slice(0, 40)}"`,
    );
  }
  const ts = resolveTimestamp(rawTs, ctx, 0);
  if (typeof ts !== 'number') return ts;
  if (snapshotUrl !== undefined && (typeof snapshotUrl !== 'string' || !/^https?:\/\/\S{1,2000}$/.test(snapshotUrl))) {
    return reject('invalid_event', 'snapshotUrl must be an http(s) URL');
  }
  const entries = Object.entries(rest);
  if (entries.length > MAX_EVENT_FIELDS)
    return reject('invalid_event', `an event may carry at most ${MAX_EVENT_FIELDS} fields`);
  const data = emptyTable<string | number | boolean>();
  for (const [key, value] of entries) {
    if (typeof value === 'string') data[key] = value.slice(0, 500);
    else if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) data[key] = value;
    else return reject('invalid_event', `event field "${key.slice(0, 40)}" must be a string, number or boolean`);
  }
  return { ts, type, data, ...(typeof snapshotUrl === 'string' ? { snapshotUrl } : {}) };
}
