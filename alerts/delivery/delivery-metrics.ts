import { Gauge, type Registry } from 'prom-client';
import type { AlertStreamHub } from './alert-stream-hub.ts';
import type { WebhookDispatcher } from './webhook-dispatcher.ts';

/** Delivery health for /metrics, read when Prometheus scrapes (no bookkeeping on the hot path). */
export function registerDeliveryMetrics(
  registry: Registry,
  parts: { hub: AlertStreamHub; webhooks: WebhookDispatcher },
): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('ioc_alert_stream_clients', 'WebSocket clients of /api/alerts/stream', () => parts.hub.stats().clients);
  gauge(
    'ioc_alert_stream_dropped_slow',
    'Stream clients dropped as slow consumers (close 4008) since start',
    () => parts.hub.stats().droppedSlow,
  );
  gauge(
    'ioc_alert_stream_dropped_dead',
    'Stream clients terminated for not answering pings since start',
    () => parts.hub.stats().droppedDead,
  );
  // the MQTT channel's gauges are its own (mqtt-alert-channel.ts)
  const webhook = (name: string, help: string, key: 'queued' | 'delivered' | 'failed' | 'dropped' | 'refused') =>
    gauge(name, help, () => parts.webhooks.targets().reduce((n, t) => n + t[key], 0));
  webhook('ioc_webhook_queued', 'Webhook deliveries waiting, all targets', 'queued');
  webhook('ioc_webhook_delivered', 'Webhook deliveries accepted (2xx) since start', 'delivered');
  webhook('ioc_webhook_failed', 'Webhook deliveries given up since start', 'failed');
  webhook(
    'ioc_webhook_refused',
    'Webhook deliveries refused since start: the target is on a private, loopback or metadata address',
    'refused',
  );
  webhook('ioc_webhook_dropped', 'Webhook events dropped at a full queue since start', 'dropped');
}
