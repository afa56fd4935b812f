import type { Registry } from 'prom-client';
import type { Clock } from '../../core/clock.ts';
import type { AlertFeed } from './alert-feed.ts';
import type { DeliveryLogger } from './delivery-logger.ts';
import type { MqttPublish } from './mqtt-alert-publisher.ts';

/**
 * The contract of a delivery channel: one way alert events leave the platform (MQTT out, SMS, Zalo, a
 * siren controller, a file for an auditor). A channel is one file that exports a DeliveryChannel, plus one
 * line in delivery-channels.ts; alert-delivery.ts starts and stops every channel in that list and never
 * switches on a name. docs/ARCHITECTURE.md, "Add a delivery channel".
 */
export interface DeliveryContext {
  /** every lifecycle event in seq order (`bus`), and the open alerts for a snapshot */
  readonly feed: AlertFeed;
  /** the platform's clock: retries, batching and quiet hours run in simulated time in tests */
  readonly clock: Clock;
  readonly logger: DeliveryLogger;
  /** publish on the embedded broker (for channels that speak MQTT) */
  readonly publish: MqttPublish;
  /** where to add the channel's own gauges (/metrics); absent in bare tests */
  readonly registry?: Registry;
}

export interface RunningChannel {
  /** Stops taking events and finishes (or gives up) what is in flight; delivery stops before the broker. */
  stop(): Promise<void>;
}

export interface DeliveryChannel {
  /** a short name for logs and metrics, unique among the channels */
  readonly name: string;
  start(context: DeliveryContext): RunningChannel;
}

/** Type-checks a channel where it is written (the way defineRuleType and defineSimulator do). */
export function defineDeliveryChannel(channel: DeliveryChannel): DeliveryChannel {
  return channel;
}
