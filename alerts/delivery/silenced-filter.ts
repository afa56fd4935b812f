import { EventEmitter } from 'node:events';
import type { AlertEvent } from '../alert-model.ts';

/** A bus that relays the events of alerts no silence holds (Alert.workflow.silence), for the notifying channels. */
export function notSilenced(source: EventEmitter<{ alert: [AlertEvent] }>): {
  bus: EventEmitter<{ alert: [AlertEvent] }>;
  stop(): void;
} {
  const bus = new EventEmitter<{ alert: [AlertEvent] }>();
  bus.setMaxListeners(100);
  const relay = (event: AlertEvent): void => {
    if (!event.alert.workflow?.silence) bus.emit('alert', event);
  };
  source.on('alert', relay);
  return { bus, stop: () => source.off('alert', relay) };
}
