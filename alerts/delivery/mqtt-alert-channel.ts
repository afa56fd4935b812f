import { Gauge } from 'prom-client';
import { defineDeliveryChannel } from './delivery-channel.ts';
import { startMqttAlertPublisher } from './mqtt-alert-publisher.ts';

/** Every alert event on `ioc/alerts/{severity}/{sensorId}` (mqtt-alert-publisher.ts), as a channel. */
export const mqttAlertChannel = defineDeliveryChannel({
  name: 'mqtt',
  start(ctx) {
    const publisher = startMqttAlertPublisher({ bus: ctx.feed.bus, publish: ctx.publish, logger: ctx.logger });
    if (ctx.registry) {
      const registers = [ctx.registry];
      new Gauge({
        name: 'ioc_alert_mqtt_published',
        help: 'Alert events published on ioc/alerts/... since start',
        registers,
        collect() {
          this.set(publisher.stats().published);
        },
      });
      new Gauge({
        name: 'ioc_alert_mqtt_failed',
        help: 'Alert events the broker refused since start',
        registers,
        collect() {
          this.set(publisher.stats().failed);
        },
      });
    }
    return publisher;
  },
});
