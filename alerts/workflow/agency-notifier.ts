import { EventEmitter } from 'node:events';
import type { Clock } from '../../core/clock.ts';
import type { Operations } from '../../config/operations-config.ts';
import type { AlertEvent } from '../alert-model.ts';
import type { MqttPublish } from '../delivery/mqtt-alert-publisher.ts';
import { WebhookDispatcher } from '../delivery/webhook-dispatcher.ts';
import type { DeliveryLogger } from '../delivery/delivery-logger.ts';
import { coverOf } from './working-hours.ts';

/**
 * Tells an agency about its alerts on the channels the city gave it: its MQTT topic and its webhook (signed
 * and retried like the platform's own, one dispatcher per agency). The console channel is the live alert
 * stream itself, where the agency's members filter "my agency's". Sent when an alert fires (to the agency
 * it was routed to), when it is reassigned (to the new agency), at each escalation rung (to that rung's
 * recipient) and when its silence ends while it is still open. Silenced alerts are never sent. Outside an
 * agency's working hours its notice says `offHours` and the IOC duty desk gets a `covering` notice at once.
 */
export type NotifyReason = 'assigned' | 'reassigned' | 'escalated' | 'covering';
export interface AgencyNotice {
  readonly agencyId: string;
  readonly reason: NotifyReason;
  readonly level?: number;
  /** the receiving agency is outside its working hours (or, covering, the one it covers for is) */
  readonly offHours?: boolean;
  /** `covering`: the agency the duty desk stands in for, off hours */
  readonly onBehalfOf?: string;
  readonly event: AlertEvent;
}

export interface AgencyNotifier {
  stop(): Promise<void>;
  /** notices sent so far (newest last, bounded): the tests and the status API read it */
  sent(): readonly AgencyNotice[];
}

const KEEP = 500;

type Notice = Omit<AgencyNotice, 'event'>;

/**
 * The notices an event calls for (pure: what was assigned or escalated, to whom). `coverOf` says who
 * stands in for an agency that is off hours right now (working-hours.ts): that agency is still told, marked
 * `offHours`, and the stand-in (the duty desk) is told at once too. Escalation picked its recipient itself.
 */
export function noticesFor(
  event: AlertEvent,
  coverOf: (agencyId: string) => string | undefined = () => undefined,
): Notice[] {
  const w = event.alert.workflow;
  if (!w || w.silence) return [];
  const toAgency = (agencyId: string, reason: NotifyReason): Notice[] => {
    const cover = coverOf(agencyId);
    if (!cover) return [{ agencyId, reason }];
    return [
      { agencyId, reason, offHours: true },
      { agencyId: cover, reason: 'covering', offHours: true, onBehalfOf: agencyId },
    ];
  };
  if (event.type === 'firing') return toAgency(w.agencyId, 'assigned');
  if (event.type !== 'workflow') return [];
  const last = w.log[w.log.length - 1];
  if (last?.action === 'escalated' && last.agencyId)
    return [
      { agencyId: last.agencyId, reason: 'escalated', level: last.level, ...(last.offHours ? { offHours: true } : {}) },
    ];
  if (last?.action === 'reassigned' && last.agencyId) return toAgency(last.agencyId, 'reassigned');
  // its silence is over and it is still open: the agency hears of it now
  if (last?.action === 'unsilenced') return toAgency(w.agencyId, 'assigned');
  return [];
}

export function startAgencyNotifier(deps: {
  bus: EventEmitter<{ alert: [AlertEvent] }>;
  ops: Operations;
  publish: MqttPublish;
  clock: Clock;
  logger: DeliveryLogger;
}): AgencyNotifier {
  const { ops, logger } = deps;
  const sent: AgencyNotice[] = [];
  const hooks = new Map<string, { bus: EventEmitter<{ alert: [AlertEvent] }>; dispatcher: WebhookDispatcher }>();
  for (const agency of ops.agencies) {
    const hook = agency.channels.webhook;
    if (!hook) continue;
    const bus = new EventEmitter<{ alert: [AlertEvent] }>();
    const dispatcher = new WebhookDispatcher({
      targets: [
        {
          id: `agency-${agency.id}`,
          url: hook.url,
          secret: hook.secret,
          allowPrivate: hook.allowPrivate,
          filter: {},
          timeoutMs: 10_000,
        },
      ],
      bus,
      clock: deps.clock,
      logger,
    });
    dispatcher.start();
    hooks.set(agency.id, { bus, dispatcher });
  }
  let tail: Promise<void> = Promise.resolve();

  const onEvent = (event: AlertEvent): void => {
    const now = deps.clock.now();
    for (const n of noticesFor(event, (agencyId) => coverOf(ops, agencyId, now))) {
      const agency = ops.agenciesById.get(n.agencyId);
      if (!agency) continue;
      const notice: AgencyNotice = { ...n, event };
      sent.push(notice);
      if (sent.length > KEEP) sent.shift();
      hooks.get(agency.id)?.bus.emit('alert', event);
      const topic = agency.channels.mqttTopic;
      if (topic) {
        const payload = Buffer.from(
          JSON.stringify({
            agencyId: agency.id,
            reason: n.reason,
            ...(n.level ? { level: n.level } : {}),
            ...(n.offHours ? { offHours: true } : {}),
            ...(n.onBehalfOf ? { onBehalfOf: n.onBehalfOf } : {}),
            event,
          }),
        );
        tail = tail
          .then(() => deps.publish(topic, payload, { qos: 1, retain: false }))
          .catch((err: unknown) => {
            logger.warn(
              { topic, err: err instanceof Error ? err.message : String(err) },
              'agency notice not published on MQTT',
            );
          });
      }
    }
  };
  deps.bus.on('alert', onEvent);
  return {
    async stop() {
      deps.bus.off('alert', onEvent);
      await tail;
      await Promise.all([...hooks.values()].map((h) => h.dispatcher.stop()));
    },
    sent: () => sent,
  };
}
