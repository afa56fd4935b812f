import type { Registry } from 'prom-client';
import type { Clock } from '../../core/clock.ts';
import type { WebhookTarget } from '../../config/webhook-config.ts';
import type { AlertFeed } from './alert-feed.ts';
import { AlertStreamHub, type AlertStreamHubOptions } from './alert-stream-hub.ts';
import type { DeliveryLogger } from './delivery-logger.ts';
import type { DeliveryChannel, RunningChannel } from './delivery-channel.ts';
import { DELIVERY_CHANNELS } from './delivery-channels.ts';
import { registerDeliveryMetrics } from './delivery-metrics.ts';
import { notSilenced } from './silenced-filter.ts';
import { withRecentEvents } from './recent-events.ts';
import type { MqttPublish } from './mqtt-alert-publisher.ts';
import { WebhookDispatcher } from './webhook-dispatcher.ts';
import { WebhookTargetStore } from './webhook-target-store.ts';

export interface AlertDeliveryDeps {
  feed: AlertFeed;
  /**
   * what the WebSocket hub follows, when not `feed`: in a cluster, every node's events
   * (cluster/alert-stream-feed.ts)
   */
  hubFeed?: AlertFeed;
  clock: Clock;
  logger: DeliveryLogger;
  /** the embedded broker's publish */
  publish: MqttPublish;
  webhooks: readonly WebhookTarget[];
  /** security.allowPrivateWebhookTargets: a target added at run time may set allowPrivate (default: no) */
  allowPrivateWebhookTargets?: boolean;
  /** where the targets added at run time are kept (`<dataDir>/webhook-targets.json`); none: in memory */
  dataDir?: string;
  stream?: Partial<Pick<AlertStreamHubOptions, 'maxBufferedBytes' | 'heartbeatIntervalMs' | 'maxClients'>>;
  /** where to expose delivery gauges (/metrics) */
  registry?: Registry;
  /** the channels to start (default: delivery-channels.ts) */
  channels?: readonly DeliveryChannel[];
}

export interface AlertDelivery {
  readonly hub: AlertStreamHub;
  readonly webhooks: WebhookDispatcher;
  /** the webhook targets added at run time (the API's; a cluster's, in a cluster) */
  readonly webhookTargets: WebhookTargetStore;
  /** the channels of delivery-channels.ts as started, by name */
  readonly channels: ReadonlyMap<string, RunningChannel>;
  /** Closes stream clients (1001), hands the last events to the broker and stops webhook retries. */
  stop(): Promise<void>;
}

/** Every way alert events leave the platform, subscribed to the alert bus: WebSocket hub, webhooks, channels. */
export function startAlertDelivery(deps: AlertDeliveryDeps): AlertDelivery {
  const list = deps.channels ?? DELIVERY_CHANNELS;
  const names = list.map((c) => c.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  // refused before anything starts: two channels of one name would overwrite each other's gauges
  if (twice !== undefined) throw new Error(`two delivery channels are named "${twice}"`);
  // one node: the hub resumes a reconnecting client from the events it kept (recent-events.ts)
  const recent = deps.hubFeed ? undefined : withRecentEvents(deps.feed);
  const hub = new AlertStreamHub({
    feed: deps.hubFeed ?? recent!,
    clock: deps.clock,
    logger: deps.logger,
    ...deps.stream,
  });
  hub.start();
  // silenced alerts stay on the live stream (marked) but are not sent out (docs/operations-workflow.md)
  const notifying = notSilenced(deps.feed.bus);
  const webhookTargets = new WebhookTargetStore(
    deps.dataDir,
    deps.clock,
    deps.webhooks.map((t) => t.id),
    deps.logger,
    deps.allowPrivateWebhookTargets ?? false,
  );
  const webhooks = new WebhookDispatcher({
    targets: [...deps.webhooks, ...webhookTargets.list()],
    bus: notifying.bus,
    clock: deps.clock,
    logger: deps.logger,
  });
  webhookTargets.onTargetsChanged((change) =>
    'added' in change ? webhooks.addTarget(change.added) : webhooks.removeTarget(change.removed),
  );
  webhooks.start();
  if (deps.registry) registerDeliveryMetrics(deps.registry, { hub, webhooks });
  const { feed, clock, logger, publish, registry } = deps;
  // the channels notify: they hear only what no silence holds
  const context = { feed: { bus: notifying.bus, open: () => feed.open() }, clock, logger, publish, registry };
  const channels = new Map<string, RunningChannel>();
  for (const channel of list) channels.set(channel.name, channel.start(context));
  return {
    hub,
    webhooks,
    webhookTargets,
    channels,
    async stop() {
      hub.stop();
      recent?.stop();
      notifying.stop();
      await Promise.all([...[...channels.values()].map((c) => c.stop()), webhooks.stop()]);
    },
  };
}
