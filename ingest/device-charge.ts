import { reject, type Rejection } from './rejection.ts';

/**
 * Integrations (ChirpStack, cameras) speak for many devices through one account. Each message they carry is
 * charged to the device it maps to (its DevEUI's or camera's sensor), in the same budget as the device's own
 * MQTT and HTTP messages (broker/device-budget.ts), so a chatty LoRaWAN node or camera is refused like a
 * chatty device, and the integration's other devices are not held behind it. Over budget the message is
 * refused at once (not held: one device must not stall the integration's whole connection), with the code
 * MQTT uses, `rate_limited`; the budget logs it once a minute per device and counts it.
 */
export type MessageTransport = 'mqtt' | 'http';

/** What the integrations need of the device budget (implemented by broker/device-budget.ts). */
export interface DeviceCharge {
  admitMessage(
    device: string,
    connection: object,
    bytes: number,
    transport: MessageTransport,
    fields?: Record<string, unknown>,
  ): { ok: true } | { ok: false; retryAfterSeconds: number; message: string };
}

export type RateRejection = Rejection & { readonly retryAfterSeconds: number };

/**
 * Charges one message of `bytes` (payload and topic, as MQTT counts them) to `sensorId`; the refusal when over
 * budget. `key` is an object that lives as long as the device's mapping: its byte bucket, not the
 * integration's connection, which the broker already charged to the integration account.
 */
export function chargeDevice(
  charge: DeviceCharge | undefined,
  transport: MessageTransport,
  sensorId: string,
  key: object,
  bytes: number,
  via: string,
): RateRejection | undefined {
  if (!charge) return undefined;
  const verdict = charge.admitMessage(sensorId, key, bytes, transport, { via });
  if (verdict.ok) return undefined;
  return { ...reject('rate_limited', verdict.message), retryAfterSeconds: verdict.retryAfterSeconds };
}

/** The Retry-After of an outcome that nothing but the budget refused. */
export function retryAfterOf(outcome: { accepted: number; rejected: readonly Rejection[] }): number | undefined {
  if (outcome.accepted > 0) return undefined;
  const first = outcome.rejected[0] as Partial<RateRejection> | undefined;
  return first?.code === 'rate_limited' ? first.retryAfterSeconds : undefined;
}
