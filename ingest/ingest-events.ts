import { EventEmitter } from 'node:events';

/**
 * What ingest hands on to the modules after it (alerts, device states). Events are emitted as soon as a
 * message is validated, in arrival order per device, while its commit-log write is under way; the device
 * is acknowledged only once that write is durable. A write that fails is not acknowledged, so the device
 * sends the message again: listeners must take a repeated reading in their stride (QoS 1 redelivery
 * repeats them too).
 */
export interface ReadingEvent {
  readonly sensorId: string;
  readonly kind: string;
  readonly district: string;
  /** epoch ms */
  readonly ts: number;
  readonly values: Readonly<Record<string, number>>;
}

export interface DeviceStatusEvent {
  readonly sensorId: string;
  readonly kind: string;
  readonly district: string;
  readonly status: 'online' | 'offline';
  readonly ts: number;
  /** 'device' when the device published it; 'will' when the broker published its last will */
  readonly source: 'device' | 'will' | 'broker';
  /** percent, when the status reported one */
  readonly batteryLevel?: number;
}

export interface CameraEvent {
  readonly sensorId: string;
  readonly district: string;
  readonly ts: number;
  readonly type: string;
  readonly snapshotUrl?: string;
  /** the event's other fields as the camera sent them (counts, plate, confidence...) */
  readonly data: Readonly<Record<string, string | number | boolean>>;
}

/**
 * A device's message refused: by ingest (payload, ranges, clock skew) or by the broker's lanes (ACL, rate,
 * retain). Only for a known sensor, and never for the platform's own trouble (disk full): it is what
 * device-health rules count as "repeated refusals" (issue 16 item 6). One event per refused message.
 */
export interface DeviceRefusalEvent {
  readonly sensorId: string;
  /** a RejectionCode from ingest, or the broker's refusal reason (publish_acl, rate_limited, ...) */
  readonly code: string;
  /** refusals the message carried (readings of a pack); at least 1 */
  readonly count: number;
  /** platform clock, epoch ms */
  readonly ts: number;
}

export interface IngestEventMap {
  readings: [readonly ReadingEvent[]];
  status: [DeviceStatusEvent];
  cameraEvent: [CameraEvent];
  refused: [DeviceRefusalEvent];
  // a listener that threw or rejected (captureRejections): reported, never fatal
  error: [Error];
}

/** A typed emitter. Listeners must not throw; a listener that does is reported, not propagated. */
export class IngestEvents extends EventEmitter<IngestEventMap> {
  constructor() {
    super({ captureRejections: true });
    this.setMaxListeners(50);
  }
}

/** Point measurements for non-reading data, shared by every store adapter and the API. */
export const DEVICE_STATUS_MEASUREMENT = 'device_status';
export const CAMERA_EVENT_MEASUREMENT = 'camera_events';
