import type { Logger } from 'pino';
import type { Sensor } from '../../config/city-config.ts';
import type { IngestService } from '../ingest-service.ts';
import { createOnceLog, type IntegrationMetrics } from '../integration-metrics.ts';
import type { DialectOutcome } from '../mqtt-dialects.ts';
import { deviceTopic } from '../parse-topic.ts';
import type { Rejection } from '../rejection.ts';
import { chargeDevice, type DeviceCharge, type MessageTransport } from '../device-charge.ts';

/**
 * What every camera source does with a detection once it is mapped: hand it to ingest as the camera
 * would have published it on `ioc/camera/{id}/events` (same validation, store, rules, durable ack), and
 * count and log (once per camera, label or topic) what it refuses or ignores.
 */
export type CameraOutcome = DialectOutcome & { readonly ignored?: boolean };

export interface CameraEmitter {
  /** `transport`: how the source sent it; the event is charged to the camera's budget (ingest/device-charge.ts) */
  emit(
    sensor: Sensor,
    event: Record<string, string | number | boolean>,
    transport?: MessageTransport,
  ): Promise<CameraOutcome>;
  refuse(key: string, rejection: Rejection, fields?: Record<string, unknown>): CameraOutcome;
  ignore(why: 'ignored' | 'duplicate'): CameraOutcome;
}

export function createCameraEmitter(
  sourceId: string,
  deps: { ingest: IngestService; metrics: IntegrationMetrics; logger: Logger; budget?: DeviceCharge },
): CameraEmitter {
  const { ingest, metrics } = deps;
  const onceLog = createOnceLog(deps.logger);
  const count = (outcome: string) => metrics.messages.inc({ integration: sourceId, event: 'camera', outcome });
  return {
    async emit(sensor, event, transport = 'http') {
      const topic = deviceTopic(sensor.kind, sensor.id, 'events');
      const body = Buffer.from(JSON.stringify(event));
      // the camera's own budget (the sensor object lives as long as the city); the budget logs the refusal
      const overBudget = chargeDevice(deps.budget, transport, sensor.id, sensor, body.length + topic.length, sourceId);
      if (overBudget) {
        count('refused');
        metrics.refused.inc({ integration: sourceId, reason: overBudget.code });
        return { accepted: 0, rejected: [overBudget] };
      }
      const outcome = await ingest.handle(topic, body);
      count(outcome.accepted > 0 ? 'accepted' : 'refused');
      for (const r of outcome.rejected) {
        metrics.refused.inc({ integration: sourceId, reason: r.code });
        onceLog(
          `${r.code}:${sensor.id}`,
          { source: sourceId, sensorId: sensor.id, code: r.code, reason: r.message },
          'camera event refused',
        );
      }
      return outcome;
    },
    refuse(key, rejection, fields = {}) {
      count('refused');
      metrics.refused.inc({ integration: sourceId, reason: rejection.code });
      onceLog(
        `${rejection.code}:${key}`,
        { source: sourceId, code: rejection.code, reason: rejection.message, ...fields },
        'camera event refused',
      );
      return { accepted: 0, rejected: [rejection] };
    },
    ignore(why) {
      count(why);
      return { accepted: 0, rejected: [], ignored: true };
    },
  };
}
