import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { cameraEventsRoutes } from './api/camera-events-routes.ts';
import { chirpstackRoutes } from './api/chirpstack-routes.ts';
import type { City } from './config/city-config.ts';
import type { PlatformConfig } from './config/platform-config.ts';
import { createChirpstackIngest } from './ingest/chirpstack/chirpstack-ingest.ts';
import { resolveLorawanDevices } from './ingest/chirpstack/chirpstack-mapping.ts';
import { checkCameraSources, createCameraSources } from './ingest/cameras/camera-sources.ts';
import type { IngestService } from './ingest/ingest-service.ts';
import { createIntegrationMetrics } from './ingest/integration-metrics.ts';
import type { DeviceCharge } from './ingest/device-charge.ts';
import { combineDialects, type MqttDialect, type MqttDialects } from './ingest/mqtt-dialects.ts';

/**
 * Other systems' dialects (config `integrations:`), built from the configuration by the composition root:
 * what the broker hands integration accounts' publishes to, and their HTTP routes. A mapping that names
 * an unknown sensor, metric or event type throws a ConfigError here, before anything listens.
 */
export interface PlatformIntegrations {
  readonly dialects: MqttDialects;
  readonly routes: readonly FastifyPluginAsync[];
}

/** Checks every mapping against the city before anything is opened (throws a ConfigError naming each mistake). */
export function checkIntegrations(config: PlatformConfig, city: City): void {
  if (config.integrations.chirpstack.enabled) resolveLorawanDevices(config.integrations.chirpstack, city);
  checkCameraSources(config.integrations.cameras, city);
}

export function createIntegrations(deps: {
  config: PlatformConfig;
  city: City;
  ingest: IngestService;
  logger: Logger;
  registry: Registry;
  /** the per-device message budget, charged for each device an integration speaks for (ingest/device-charge.ts) */
  budget?: DeviceCharge;
}): PlatformIntegrations {
  const { config, city, ingest, logger, budget } = deps;
  const metrics = createIntegrationMetrics(deps.registry);
  const dialects: MqttDialect[] = [];
  const routes: FastifyPluginAsync[] = [];
  const maxBodyBytes = config.mqtt.maxPayloadBytes * 4;
  const chirpstackConfig = config.integrations.chirpstack;
  if (chirpstackConfig.enabled) {
    const chirpstack = createChirpstackIngest({
      config: chirpstackConfig,
      city,
      ingest,
      metrics,
      logger: logger.child({ module: 'chirpstack' }),
      budget,
    });
    dialects.push(chirpstack.mqtt);
    routes.push(chirpstackRoutes({ chirpstack, account: chirpstackConfig.account, maxBodyBytes }));
  }
  if (config.integrations.cameras.sources.length) {
    const sources = createCameraSources({
      config: config.integrations.cameras,
      city,
      ingest,
      metrics,
      logger: logger.child({ module: 'camera-sources' }),
      budget,
    });
    dialects.push(...sources.mqtt);
    routes.push(cameraEventsRoutes({ sources, maxBodyBytes }));
  }
  return { dialects: combineDialects(dialects), routes };
}
