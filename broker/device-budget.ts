import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.ts';
import type { LimitsConfig } from '../config/limits-config.ts';
import { PublishRateLimiter } from './publish-rate-limiter.ts';
import { createRefusalLog, type RefusalListener, type RefusalLog, type RefusalTransport } from './refusal-log.ts';

/**
 * One budget per device, whichever way its messages come: the broker's publish gate and the HTTP ingest
 * routes (POST /api/ingest/..., /write, /api/v2/write) charge the same token buckets, so a device cannot
 * double its rate by sending over HTTP beside MQTT. MQTT holds a publish over budget (its PUBACK late);
 * HTTP cannot hold a request cheaply, so it is refused at once with 429 and Retry-After, logged at most
 * once a minute per device (an episode) and counted in the same `ioc_mqtt_refused_total{reason,transport}`.
 * Integrations (ChirpStack, cameras) charge each message to the device it maps to through `admitMessage`
 * (ingest/device-charge.ts), by MQTT or HTTP, and are refused the same way.
 */
export interface DeviceBudget {
  readonly rate: PublishRateLimiter;
  readonly refusals: RefusalLog;
  /** HTTP: charges one message of `bytes`; or the refusal to answer with */
  admitHttp(device: string, connection: object, bytes: number): HttpBudgetVerdict;
  /** a message that cannot be held (HTTP, or an integration's message for one of its devices) */
  admitMessage(
    device: string,
    connection: object,
    bytes: number,
    transport: RefusalTransport,
    fields?: Record<string, unknown>,
  ): HttpBudgetVerdict;
}

export type HttpBudgetVerdict = { ok: true } | { ok: false; retryAfterSeconds: number; message: string };

export function createDeviceBudget(
  limits: LimitsConfig,
  clock: Clock,
  logger: Logger,
  registry: Registry,
  onRefusal?: RefusalListener,
): DeviceBudget {
  const refusals = createRefusalLog(logger, registry, clock, onRefusal);
  const rate = new PublishRateLimiter(
    {
      ratePerSecond: limits.devicePublishesPerSecond,
      burst: limits.devicePublishBurst,
      abusiveAfter: limits.abusiveRefusalsBeforeDisconnect,
      bytesPerSecond: limits.deviceBytesPerSecond,
      byteBurst: limits.deviceByteBurst,
      connectionBytesPerSecond: limits.connectionBytesPerSecond,
      maxHoldMs: limits.rateHoldMaxMs,
    },
    clock,
  );
  const admitMessage: DeviceBudget['admitMessage'] = (device, connection, bytes, transport, fields = {}) => {
    const verdict = rate.takeNow(device, connection, bytes);
    if (verdict.ok) return verdict;
    const retryAfterSeconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
    const message =
      `device ${device} sends faster than ${limits.devicePublishesPerSecond} messages/s or ` +
      `${limits.deviceBytesPerSecond} bytes/s (MQTT and HTTP together): nothing was stored, ` +
      `retry after ${retryAfterSeconds} s`;
    refusals.refuse('rate_limited', device, message, { retryAfterSeconds, ...fields }, transport);
    return { ok: false, retryAfterSeconds, message };
  };
  return {
    rate,
    refusals,
    admitHttp: (device, connection, bytes) => admitMessage(device, connection, bytes, 'http'),
    admitMessage,
  };
}
