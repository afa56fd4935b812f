import type { EventEmitter } from 'node:events';
import type { Alert, AlertEvent } from '../alert-model.ts';
import { silentLogger, type DeliveryLogger } from './delivery-logger.ts';

/** Publishes one message on the embedded broker; resolves once the broker has taken it. */
export type MqttPublish = (topic: string, payload: Buffer, options: { qos: 0 | 1; retain: boolean }) => Promise<void>;

/** The one method of an Aedes broker this module uses (so any broker object with it fits). */
export interface AedesLike {
  publish(
    packet: { cmd: 'publish'; topic: string; payload: Buffer; qos: 0 | 1; retain: boolean; dup: boolean },
    callback: (error?: Error) => void,
  ): void;
}

export function aedesPublish(broker: AedesLike): MqttPublish {
  return (topic, payload, { qos, retain }) =>
    new Promise((resolve, reject) => {
      broker.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      );
    });
}

// Sensor ids are validated as topic levels (config/city-config.ts ID_PATTERN); this guards alerts about
// anything else (a compound rule's sensor, a future kind) so one odd id cannot publish to a wildcard.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is refused in a topic level
const topicLevel = (s: string): string => s.replace(/[/+#\u0000]/g, '_') || '_';

/**
 * `ioc/alerts/{severity}/{sensorId}`: integrations subscribe to `ioc/alerts/critical/#` or
 * `ioc/alerts/+/water-kimlong`.
 */
export function alertTopic(alert: Pick<Alert, 'severity' | 'sensorId'>): string {
  return `ioc/alerts/${topicLevel(alert.severity)}/${topicLevel(alert.sensorId)}`;
}

export interface MqttAlertPublisherOptions {
  bus: EventEmitter<{ alert: [AlertEvent] }>;
  publish: MqttPublish;
  logger?: DeliveryLogger;
  /** QoS 1 (default) so that subscribers with a persistent session get the events they missed. */
  qos?: 0 | 1;
}

export interface MqttAlertPublisher {
  /** Resolves when every event taken so far has been handed to the broker. */
  flush(): Promise<void>;
  stop(): Promise<void>;
  stats(): { published: number; failed: number };
}

/**
 * Every alert event, as JSON (the AlertEvent itself), on the alert's topic. Not retained: a retained
 * message would keep showing an alert after it resolved. Events are handed to the broker one after the
 * other so that subscribers see them in seq order.
 */
export function startMqttAlertPublisher(options: MqttAlertPublisherOptions): MqttAlertPublisher {
  const logger = options.logger ?? silentLogger;
  const qos = options.qos ?? 1;
  const counts = { published: 0, failed: 0 };
  let tail: Promise<void> = Promise.resolve();
  const onEvent = (event: AlertEvent): void => {
    const topic = alertTopic(event.alert);
    const payload = Buffer.from(JSON.stringify(event));
    tail = tail
      .then(() => options.publish(topic, payload, { qos, retain: false }))
      .then(
        () => {
          counts.published++;
        },
        (err: unknown) => {
          counts.failed++;
          logger.warn(
            { topic, seq: event.seq, err: err instanceof Error ? err.message : String(err) },
            'alert not published on MQTT',
          );
        },
      );
  };
  options.bus.on('alert', onEvent);
  return {
    flush: () => tail,
    async stop() {
      options.bus.off('alert', onEvent);
      await tail;
    },
    stats: () => ({ ...counts }),
  };
}
