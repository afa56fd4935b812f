import type { Logger } from 'pino';
import type { Sensor } from '../../config/city-config.ts';
import type { IngestService } from '../ingest-service.ts';
import { createOnceLog, type IntegrationMetrics } from '../integration-metrics.ts';
import type { DialectOutcome } from '../mqtt-dialects.ts';
import { deviceTopic } from '../parse-topic.ts';
import type { Rejection } from '../rejection.ts';

/**
 * What every camera source does with a detection once it is mapped: hand it to ingest as the camera
 * would have published it on `ioc/camera/{id}/events` (same validation, store, rules, durable ack), and
 * count and log (once per camera, label or topic) what it refuses or ignores.
 */
export type CameraOutcome = DialectOutcome & { readonly ignored?: boolean };

export interface CameraEmitter {
  emit(sensor: Sensor, event: Record<string, string | number | boolean>): Promise<CameraOutcome>;
  refuse(key: string, rejection: Rejection, fields?: Record<string, unknown>): CameraOutcome;
  ignore(why: 'ignored' | 'duplicate'): CameraOutcome;
}

export function createCameraEmitter(
  sourceId: string,
  deps: { ingest: IngestService; metrics: IntegrationMetrics; logger: Logger },
): CameraEmitter {
  const { ingest, metrics } = deps;
  const onceLog = createOnceLog(deps.logger);
  const count = (outcome: string) => metrics.messages.inc({ integration: sourceId, event: 'camera', outcome });
  return {
    async emit(sensor, event) {
      const outcome = await ingest.handle(
        deviceTopic(sensor.kind, sensor.id, 'events'),
        Buffer.from(JSON.stringify(event)),
      );
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
