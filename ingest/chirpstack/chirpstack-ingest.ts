import type { Logger } from 'pino';
import type { City } from '../../config/city-config.ts';
import type { ChirpstackConfig } from '../../config/integrations-config.ts';
import type { IntegrationMetrics } from '../integration-metrics.ts';
import { createOnceLog } from '../integration-metrics.ts';
import type { IngestService } from '../ingest-service.ts';
import type { DialectOutcome, MqttDialect } from '../mqtt-dialects.ts';
import { deviceTopic, isRejection } from '../parse-topic.ts';
import { reject, type Rejection } from '../rejection.ts';
import {
  chirpstackTimeMs,
  isChirpstackEventName,
  parseChirpstackEvent,
  type ChirpstackEvent,
} from './chirpstack-event.ts';
import { mapDecodedObject, resolveLorawanDevices, type LorawanDevice } from './chirpstack-mapping.ts';
import { chargeDevice, type DeviceCharge } from '../device-charge.ts';

/**
 * ChirpStack v4 into the one ingest path (docs/lorawan.md). MQTT (`application/{applicationId}/device/
 * {devEui}/event/{event}`) and HTTP (`?event=`) carry the same JSON and end here:
 * - `up`: the decoded `object` becomes one reading of the mapped sensor, at the uplink's `time`, through
 *   `IngestService.handle` on the sensor's readings topic: same validation, rules and durable ack;
 * - `join`: the device is online; `status`: online, with its battery level when it reports one;
 * - `ack`, `txack`, `log`, `location`, `integration`: not the platform's business, counted as ignored.
 * An unknown DevEUI or application is refused (logged once per DevEUI, counted).
 */
export interface ChirpstackOutcome extends DialectOutcome {
  /** an event the platform takes no data from */
  readonly ignored?: boolean;
}

export interface ChirpstackIngest {
  handle(event: string, body: Buffer, topic?: { applicationId: string; devEui: string }): Promise<ChirpstackOutcome>;
  readonly mqtt: MqttDialect;
}

export interface ChirpstackDeps {
  config: ChirpstackConfig;
  city: City;
  ingest: IngestService;
  logger: Logger;
  metrics: IntegrationMetrics;
  /** each uplink, join and status is charged to its device's message budget (ingest/device-charge.ts) */
  budget?: DeviceCharge;
}

const TOPIC = /^application\/([^/]+)\/device\/([^/]+)\/event\/([^/]+)$/;

export function createChirpstackIngest(deps: ChirpstackDeps): ChirpstackIngest {
  const { config, ingest, metrics } = deps;
  const devices = resolveLorawanDevices(config, deps.city);
  const applications = new Set(config.applications);
  const onceLog = createOnceLog(deps.logger);

  const refused = (event: string, rejection: Rejection, devEui?: string): ChirpstackOutcome => {
    metrics.messages.inc({ integration: 'chirpstack', event, outcome: 'refused' });
    metrics.refused.inc({ integration: 'chirpstack', reason: rejection.code });
    onceLog(
      `${rejection.code}:${devEui ?? rejection.message}`,
      { devEui, event, code: rejection.code, reason: rejection.message },
      'ChirpStack event refused',
    );
    return { accepted: 0, rejected: [rejection] };
  };

  /** Hands a device message to ingest as the sensor would have published it. */
  const toIngest = async (
    event: string,
    device: LorawanDevice,
    channel: 'readings' | 'status',
    payload: unknown,
    transport: 'mqtt' | 'http',
  ): Promise<ChirpstackOutcome> => {
    const topic = deviceTopic(device.sensor.kind, device.sensor.id, channel);
    const body = Buffer.from(JSON.stringify(payload));
    // the device's budget, whichever way ChirpStack sent it; the refusal is logged by the budget
    const overBudget = chargeDevice(
      deps.budget,
      transport,
      device.sensor.id,
      device,
      body.length + topic.length,
      'chirpstack',
    );
    if (overBudget) {
      metrics.messages.inc({ integration: 'chirpstack', event, outcome: 'refused' });
      metrics.refused.inc({ integration: 'chirpstack', reason: overBudget.code });
      return { accepted: 0, rejected: [overBudget] };
    }
    const outcome = await ingest.handle(topic, body);
    const result = outcome.accepted > 0 ? 'accepted' : 'refused';
    metrics.messages.inc({ integration: 'chirpstack', event, outcome: result });
    for (const r of outcome.rejected) metrics.refused.inc({ integration: 'chirpstack', reason: r.code });
    if (outcome.accepted === 0 && outcome.rejected[0]) {
      const first = outcome.rejected[0];
      onceLog(
        `${first.code}:${device.devEui}`,
        { devEui: device.devEui, sensorId: device.sensor.id, event, code: first.code, reason: first.message },
        'ChirpStack uplink refused',
      );
    }
    return { accepted: outcome.accepted, rejected: outcome.rejected };
  };

  const handleEvent = (
    event: string,
    parsed: ChirpstackEvent,
    device: LorawanDevice,
    transport: 'mqtt' | 'http',
  ): Promise<ChirpstackOutcome> | ChirpstackOutcome => {
    const ts = parsed.time === undefined ? undefined : chirpstackTimeMs(parsed.time);
    switch (event) {
      case 'up': {
        if (!parsed.object) {
          return refused(
            event,
            reject(
              'no_metrics',
              `uplink of ${device.devEui} (fPort ${parsed.fPort ?? '?'}) ` +
                'has no decoded object: give its device profile a codec',
            ),
            device.devEui,
          );
        }
        const mapped = mapDecodedObject(device, parsed.object);
        if (isRejection(mapped)) return refused(event, mapped, device.devEui);
        const values = { ...mapped.values, ...(ts === undefined ? {} : { ts }) };
        return toIngest(event, device, 'readings', values, transport);
      }
      case 'join':
        return toIngest(event, device, 'status', { status: 'online' }, transport);
      case 'status': {
        const battery =
          parsed.batteryLevelUnavailable || parsed.batteryLevel === undefined
            ? {}
            : { batteryLevel: parsed.batteryLevel };
        return toIngest(event, device, 'status', { status: 'online', ...battery }, transport);
      }
      default:
        metrics.messages.inc({ integration: 'chirpstack', event, outcome: 'ignored' });
        return { accepted: 0, rejected: [], ignored: true };
    }
  };

  const handle = async (
    event: string,
    body: Buffer,
    topic?: { applicationId: string; devEui: string },
  ): Promise<ChirpstackOutcome> => {
    if (!isChirpstackEventName(event))
      return refused(
        'unknown',
        reject(
          'invalid_event',
          `unknown ChirpStack event "${event.slice(0, 40)}" (known: ` +
            'up, join, status, ack, txack, log, location, integration)',
        ),
      );
    const parsed = parseChirpstackEvent(body);
    if (isRejection(parsed)) return refused(event, parsed, topic?.devEui.toLowerCase());
    const appId = parsed.deviceInfo.applicationId;
    if (
      topic &&
      (topic.devEui.toLowerCase() !== parsed.devEui || (appId !== undefined && appId !== topic.applicationId))
    ) {
      return refused(
        event,
        reject(
          'malformed_payload',
          `the topic names device ${topic.devEui.slice(0, 16)} of application ` +
            `${topic.applicationId.slice(0, 64)}, the body ${parsed.devEui} of ${appId ?? '?'}`,
        ),
        parsed.devEui,
      );
    }
    const application = appId ?? topic?.applicationId;
    if (applications.size && (application === undefined || !applications.has(application))) {
      return refused(
        event,
        reject(
          'unknown_sensor',
          `ChirpStack application ${application?.slice(0, 64) ?? '(none)'} is not in ` +
            'integrations.chirpstack.applications',
        ),
        parsed.devEui,
      );
    }
    const device = devices.get(parsed.devEui);
    if (!device) {
      const name = parsed.deviceInfo.deviceName ? ` ("${parsed.deviceInfo.deviceName.slice(0, 64)}")` : '';
      return refused(
        event,
        reject(
          'unknown_sensor',
          `DevEUI ${parsed.devEui}${name} is not mapped to a sensor (integrations.chirpstack.devices)`,
        ),
        parsed.devEui,
      );
    }
    // the topic is there only when the event came over MQTT
    return handleEvent(event, parsed, device, topic ? 'mqtt' : 'http');
  };

  return {
    handle,
    mqtt: {
      account: config.account,
      roots: ['application'],
      handle(topic, payload) {
        const m = TOPIC.exec(topic);
        if (!m) return undefined; // e.g. its command topics: forwarded as any broker would
        return handle(m[3]!, payload, { applicationId: m[1]!, devEui: m[2]! });
      },
    },
  };
}
