import type { Logger } from 'pino';
import type { CameraSourcesConfig } from '../../config/camera-sources-config.ts';
import type { City } from '../../config/city-config.ts';
import type { IngestService } from '../ingest-service.ts';
import type { IntegrationMetrics } from '../integration-metrics.ts';
import type { MqttDialect } from '../mqtt-dialects.ts';
import type { DeviceCharge } from '../device-charge.ts';
import { createCameraEmitter, type CameraOutcome } from './camera-emitter.ts';
import { resolveCameraSource, type ResolvedCameraSource } from './camera-source.ts';
import { createFrigateSource } from './frigate-source.ts';
import { createOnvifSource } from './onvif-source.ts';

/**
 * Every configured camera source (config `integrations.cameras`), by id: the HTTP route posts to one by
 * its id, and the Frigate ones also listen on their MQTT topic. Adding a format is adding a file like
 * frigate-source.ts and a case here; the mapping, dedupe and ingest path stay the same.
 */
export interface CameraSourceHandler {
  readonly id: string;
  readonly account: string;
  handle(body: Buffer): Promise<CameraOutcome> | CameraOutcome;
}

export interface CameraSources {
  get(id: string): CameraSourceHandler | undefined;
  readonly mqtt: readonly MqttDialect[];
}

export function checkCameraSources(config: CameraSourcesConfig, city: City): ResolvedCameraSource[] {
  return config.sources.map((s, i) => resolveCameraSource(s, city, i));
}

export function createCameraSources(deps: {
  config: CameraSourcesConfig;
  city: City;
  ingest: IngestService;
  logger: Logger;
  metrics: IntegrationMetrics;
  /** each event is charged to its camera's message budget (ingest/device-charge.ts) */
  budget?: DeviceCharge;
}): CameraSources {
  const handlers = new Map<string, CameraSourceHandler>();
  const mqtt: MqttDialect[] = [];
  for (const resolved of checkCameraSources(deps.config, deps.city)) {
    const { config } = resolved;
    const emitter = createCameraEmitter(config.id, {
      ingest: deps.ingest,
      metrics: deps.metrics,
      logger: deps.logger.child({ source: config.id }),
      budget: deps.budget,
    });
    if (config.format === 'frigate') {
      const frigate = createFrigateSource({ ...resolved, config }, emitter, deps.config.dedupeMemory);
      handlers.set(config.id, { id: config.id, account: config.account, handle: frigate.handle });
      mqtt.push(frigate.mqtt);
    } else {
      const onvif = createOnvifSource(resolved, emitter);
      handlers.set(config.id, { id: config.id, account: config.account, handle: onvif.handle });
    }
  }
  return { get: (id) => handlers.get(id), mqtt };
}
