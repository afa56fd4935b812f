/**
 * Why a reading (or a whole publish) was refused. `code` is stable (metrics label, device firmware may
 * branch on it); `message` is for the device's maintainer and names the metric, value and limit.
 */
export type RejectionCode =
  | 'topic_invalid'
  | 'unknown_kind'
  | 'unknown_sensor'
  | 'kind_mismatch'
  | 'payload_too_large'
  | 'malformed_payload'
  | 'too_many_readings'
  | 'invalid_timestamp'
  | 'timestamp_in_future'
  | 'timestamp_too_old'
  | 'unknown_metric'
  | 'wrong_type'
  | 'not_finite'
  | 'not_integer'
  | 'out_of_range'
  | 'unit_mismatch'
  | 'no_metrics'
  | 'invalid_status'
  | 'invalid_event'
  // refused by the broker before ingest: retained readings or events, publishing faster than allowed
  | 'retain_not_allowed'
  | 'rate_limited'
  // the platform's disk cannot take it (full, failing): not acknowledged, send again later
  | 'storage_unavailable';

export interface Rejection {
  readonly code: RejectionCode;
  readonly message: string;
  /** index of the reading within the publish (array and SenML payloads) */
  readonly index?: number;
  readonly metric?: string;
}

export function reject(
  code: RejectionCode,
  message: string,
  extra: { index?: number; metric?: string } = {},
): Rejection {
  return { code, message, ...extra };
}
