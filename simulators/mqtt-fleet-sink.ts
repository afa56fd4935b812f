import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Sensor } from '../config/city-config.ts';
import type { SimStep, SimulationSink, SinkStats } from './simulation-sink.ts';

/**
 * A fleet of simulated devices, each its own MQTT connection (mqtt.js, MQTT 3.1.1, QoS 1), as real ones
 * are: a last will of `offline` (retained) on its status topic and `online` (retained) at every connect;
 * an outage drops the socket without DISCONNECT so the broker publishes the will. Rejections are counted
 * from the platform's `ioc/{kind}/{id}/errors` messages, through one operator subscription when an
 * operator login is given, else through each device's own subscription.
 * For fleets of thousands, connections open in waves of `connectConcurrency` and a device holds little
 * beyond its client: readings wait in a small array until the runner's tick ends.
 */
export interface DeviceLogin {
  readonly username: string;
  readonly password: string;
}

export interface FleetLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface MqttFleetOptions {
  readonly url: string;
  /** a device's login; undefined connects without credentials (a broker in insecure mode) */
  readonly loginOf: (sensorId: string) => DeviceLogin | undefined;
  /** an operator login to count rejections with one subscription (ioc/+/+/errors) */
  readonly operator?: DeviceLogin;
  readonly connectConcurrency?: number;
  /** unacknowledged messages per device before the runner holds that device back */
  readonly maxInflight?: number;
  readonly maxReadingsPerMessage?: number;
  readonly keepaliveSeconds?: number;
  /** how long drain() waits for late rejections after the last acknowledgement */
  readonly settleMs?: number;
  readonly logger?: FleetLogger;
}

export interface MqttFleetSink extends SimulationSink {
  /** devices that could not connect, with the first reasons */
  connectFailures(): { count: number; reasons: string[] };
}

interface Device {
  readonly sensor: Sensor;
  readonly base: string;
  client?: MqttClient;
  pending: Array<Record<string, number>>;
  inflight: number;
  /** false while the simulator holds the device in an outage */
  up: boolean;
  /** an outage began while messages were in flight: drop the socket once they are acknowledged */
  dropWhenIdle: boolean;
}

const RECONNECT_MS = 2000;

export function createMqttFleetSink(options: MqttFleetOptions): MqttFleetSink {
  const concurrency = options.connectConcurrency ?? 200;
  const maxInflight = options.maxInflight ?? 16;
  const perMessage = options.maxReadingsPerMessage ?? 100;
  const settleMs = options.settleMs ?? 500;
  const runId = randomBytes(3).toString('hex');
  const devices = new Map<string, Device>();
  const dirty = new Set<Device>();
  const failures: string[] = [];
  let failedConnects = 0;
  let operatorClient: MqttClient | undefined;
  let connected = 0;
  let readings = 0;
  let acknowledged = 0;
  let rejected = 0;
  let failed = 0;
  let events = 0;
  let inflightTotal = 0;
  let idle: Array<() => void> = [];

  const countRejection = (topic: string, payload: Buffer): void => {
    const sensorId = topic.split('/')[2];
    if (!sensorId || !devices.has(sensorId)) return;
    try {
      const body = JSON.parse(payload.toString()) as { errors?: Array<{ index?: number }> };
      const indices = new Set((body.errors ?? []).map((e) => e.index ?? -1));
      rejected += Math.max(1, indices.size);
    } catch {
      rejected++;
    }
  };

  const settled = (): void => {
    if (inflightTotal > 0) return;
    const waiting = idle;
    idle = [];
    for (const fn of waiting) fn();
  };

  const send = (device: Device, topic: string, payload: string, count: number, isEvent = false): void => {
    const client = device.client;
    if (!client) {
      failed += count;
      return;
    }
    device.inflight++;
    inflightTotal++;
    client.publish(topic, payload, { qos: 1 }, (err) => {
      device.inflight--;
      inflightTotal--;
      if (device.dropWhenIdle && device.inflight === 0) drop(device);
      if (!isEvent) {
        if (err) failed += count;
        else acknowledged += count;
      }
      settled();
    });
  };

  /** A power or network failure: the socket dies without DISCONNECT, so the broker sends the will. */
  const drop = (device: Device): void => {
    device.dropWhenIdle = false;
    if (!device.client || device.up) return;
    device.client.options.reconnectPeriod = 0;
    (device.client as unknown as { stream?: { destroy(): void } }).stream?.destroy();
  };

  const flush = (device: Device): void => {
    while (device.pending.length) {
      const batch = device.pending.splice(0, perMessage);
      send(device, `${device.base}/readings`, JSON.stringify(batch.length === 1 ? batch[0] : batch), batch.length);
    }
    dirty.delete(device);
  };

  const connectDevice = (device: Device): Promise<void> =>
    new Promise((resolve) => {
      const login = options.loginOf(device.sensor.id);
      const clientOptions: IClientOptions = {
        clientId: `${device.sensor.id}-sim-${runId}`,
        protocolVersion: 4,
        clean: true,
        keepalive: options.keepaliveSeconds ?? 60,
        reconnectPeriod: 0, // until the first CONNACK: a refused login must fail, not loop
        connectTimeout: 30_000,
        ...(login ? { username: login.username, password: login.password } : {}),
        will: { topic: `${device.base}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
      };
      const client = mqtt.connect(options.url, clientOptions);
      let first = true;
      let isConnected = false;
      client.on('connect', () => {
        if (!isConnected) connected++;
        isConnected = true;
        client.publish(`${device.base}/status`, 'online', { qos: 1, retain: true });
        if (first) {
          first = false;
          device.client = client;
          client.options.reconnectPeriod = RECONNECT_MS;
          if (!operatorClient) {
            client.subscribe(`${device.base}/errors`, { qos: 0 });
            client.on('message', (topic, payload) => countRejection(topic, payload));
          }
          resolve();
        }
      });
      client.on('close', () => {
        if (isConnected) connected--;
        isConnected = false;
        if (first) {
          first = false;
          failedConnects++;
          if (failures.length < 5) failures.push(`${device.sensor.id}: connection closed before CONNACK`);
          client.end(true);
          resolve();
        }
      });
      client.on('error', (err) => {
        if (first) {
          first = false;
          failedConnects++;
          if (failures.length < 5) failures.push(`${device.sensor.id}: ${err.message}`);
          client.end(true);
          resolve();
        }
      });
    });

  return {
    async open(sensors) {
      for (const sensor of sensors)
        devices.set(sensor.id, {
          sensor,
          base: `ioc/${sensor.kind}/${sensor.id}`,
          pending: [],
          inflight: 0,
          up: true,
          dropWhenIdle: false,
        });
      if (options.operator) {
        operatorClient = await new Promise<MqttClient>((resolve, reject) => {
          const client = mqtt.connect(options.url, {
            clientId: `operator-sim-${runId}`,
            protocolVersion: 4,
            reconnectPeriod: 0,
            connectTimeout: 15_000,
            username: options.operator!.username,
            password: options.operator!.password,
          });
          client.once('connect', () => {
            client.options.reconnectPeriod = RECONNECT_MS;
            client.subscribe('ioc/+/+/errors', { qos: 0 }, (err) => (err ? reject(err) : resolve(client)));
          });
          client.once('error', (err) => {
            client.end(true);
            reject(new Error(`operator login to ${options.url} failed: ${err.message}`));
          });
        });
        operatorClient.on('message', (topic, payload) => countRejection(topic, payload));
        operatorClient.on('error', () => undefined);
      }
      const queue = [...devices.values()];
      const started = Date.now();
      const worker = async () => {
        for (let d = queue.shift(); d; d = queue.shift()) await connectDevice(d);
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
      const ok = devices.size - failedConnects;
      options.logger?.info(
        `${ok} of ${devices.size} simulated devices connected to ${options.url} in ${Date.now() - started} ms`,
      );
      if (ok === 0) throw new Error(`no simulated device could connect to ${options.url}: ${failures.join('; ')}`);
      if (failedConnects) options.logger?.warn(`${failedConnects} devices could not connect: ${failures.join('; ')}`);
    },
    write(sensor, step: SimStep) {
      const device = devices.get(sensor.id);
      if (!device?.client) return;
      if (step.status === 'online' && !device.up) {
        device.up = true;
        device.dropWhenIdle = false;
        device.client.options.reconnectPeriod = RECONNECT_MS;
        if (!device.client.connected) device.client.reconnect();
      }
      if (step.values) {
        device.pending.push({ ts: step.ts, ...step.values });
        readings++;
        dirty.add(device);
      }
      for (const event of step.events ?? []) {
        events++;
        send(
          device,
          `${device.base}/events`,
          JSON.stringify({ ts: step.ts, type: event.type, ...event.data }),
          1,
          true,
        );
      }
      if (step.status === 'offline' && device.up) {
        flush(device);
        device.up = false;
        // Readings already sent were measured before the outage: let them be acknowledged first.
        if (device.inflight === 0) drop(device);
        else device.dropWhenIdle = true;
      }
    },
    endTick() {
      for (const device of [...dirty]) flush(device);
    },
    isBusy(sensorId) {
      const device = devices.get(sensorId);
      return device !== undefined && device.inflight >= maxInflight;
    },
    async drain() {
      for (const device of [...dirty]) flush(device);
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, 30_000).unref());
      await Promise.race([
        new Promise<void>((resolve) => {
          idle.push(resolve);
          settled();
        }),
        deadline,
      ]);
      await new Promise((resolve) => setTimeout(resolve, settleMs));
    },
    async close() {
      const ends = [...devices.values()].map(
        (device) =>
          new Promise<void>((resolve) => {
            const client = device.client;
            if (!client) return resolve();
            const end = () => client.end(false, () => resolve());
            // A fleet that stops on purpose says so, rather than leaving a stale retained `online`.
            if (client.connected) client.publish(`${device.base}/status`, 'offline', { qos: 1, retain: true }, end);
            else client.end(true, () => resolve());
          }),
      );
      await Promise.race([Promise.all(ends), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      // Whatever did not close in time must not linger and reconnect: the fleet is over.
      for (const device of devices.values()) {
        if (device.client && !device.client.disconnected) {
          device.client.options.reconnectPeriod = 0;
          device.client.end(true);
        }
      }
      operatorClient?.end(true);
      connected = 0;
    },
    stats: (): SinkStats => ({ readings, acknowledged, rejected, failed, events, connected }),
    connectFailures: () => ({ count: failedConnects, reasons: [...failures] }),
  };
}
