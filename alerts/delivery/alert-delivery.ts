import type { Registry } from 'prom-client';
import type { Clock } from '../../config/clock.ts';
import type { WebhookTarget } from '../../config/webhook-config.ts';
import type { AlertFeed } from './alert-feed.ts';
import { AlertStreamHub, type AlertStreamHubOptions } from './alert-stream-hub.ts';
import type { DeliveryLogger } from './delivery-logger.ts';
import { registerDeliveryMetrics } from './delivery-metrics.ts';
import { startMqttAlertPublisher, type MqttAlertPublisher, type MqttPublish } from './mqtt-alert-publisher.ts';
import { WebhookDispatcher } from './webhook-dispatcher.ts';
import { notSilenced } from './silenced-filter.ts';

export interface AlertDeliveryDeps {
  feed: AlertFeed;
  clock: Clock;
  logger: DeliveryLogger;
  /** the embedded broker's publish */
  publish: MqttPublish;
  webhooks: readonly WebhookTarget[];
  stream?: Partial<Pick<AlertStreamHubOptions, 'maxBufferedBytes' | 'heartbeatIntervalMs' | 'maxClients'>>;
  /** where to expose delivery gauges (/metrics) */
  registry?: Registry;
}

export interface AlertDelivery {
  readonly hub: AlertStreamHub;
  readonly mqtt: MqttAlertPublisher;
  readonly webhooks: WebhookDispatcher;
  /** Closes stream clients (1001), hands the last events to the broker and stops webhook retries. */
  stop(): Promise<void>;
}

/** Every way alert events leave the platform, subscribed to the alert bus: WebSocket hub, MQTT, webhooks. */
export function startAlertDelivery(deps: AlertDeliveryDeps): AlertDelivery {
  const hub = new AlertStreamHub({ feed: deps.feed, clock: deps.clock, logger: deps.logger, ...deps.stream });
  hub.start();
  // silenced alerts stay on the live stream (marked) but are not sent out (docs/operations-workflow.md)
  const notifying = notSilenced(deps.feed.bus);
  const mqtt = startMqttAlertPublisher({ bus: notifying.bus, publish: deps.publish, logger: deps.logger });
  const webhooks = new WebhookDispatcher({ targets: deps.webhooks, bus: notifying.bus, clock: deps.clock, logger: deps.logger });
  webhooks.start();
  if (deps.registry) registerDeliveryMetrics(deps.registry, { hub, mqtt, webhooks });
  return {
    hub, mqtt, webhooks,
    async stop() {
      hub.stop();
      notifying.stop();
      await Promise.all([mqtt.stop(), webhooks.stop()]);
    },
  };
}
