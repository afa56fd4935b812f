import type { DeliveryChannel } from './delivery-channel.ts';
import { mqttAlertChannel } from './mqtt-alert-channel.ts';

/**
 * The delivery channels the platform starts, one line each (delivery-channel.ts is the contract). The
 * WebSocket hub and the webhooks are started beside them by alert-delivery.ts because the API serves them
 * (the stream route, the webhook history routes).
 */
export const DELIVERY_CHANNELS: readonly DeliveryChannel[] = [mqttAlertChannel];
