import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';
import { WebSocket } from 'ws';
import type { ServerMessage } from '../alerts/delivery/alert-stream-protocol.ts';
import type { Clock } from '../core/clock.ts';
import type { PlatformConfigInput } from '../config/platform-config.ts';
import { startPlatform, type Platform } from '../platform.ts';

/**
 * A real platform for tests: ephemeral ports, a fresh data directory, the default city, generated
 * credentials; plus real MQTT clients and a small HTTP helper. Each test makes its own.
 */
export interface TestPlatform extends Platform {
  readonly dataDir: string;
  readonly operatorToken: string;
  readonly adminToken: string;
  devicePassword(sensorId: string): string;
  /** a real mqtt.js client logged in as the device (over TCP, or WebSocket with ws: true) */
  connectDevice(sensorId: string, options?: IClientOptions & { ws?: boolean }): Promise<MqttClient>;
  connectOperator(options?: IClientOptions): Promise<MqttClient>;
  request(
    method: string,
    path: string,
    options?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; json: unknown; text: string; headers: Headers }>;
  /** closes the platform and deletes its data directory */
  stop(): Promise<void>;
}

export interface TestPlatformOptions {
  overrides?: PlatformConfigInput;
  clock?: Clock;
  /** reuse a data directory (restart tests); not deleted by stop() */
  dataDir?: string;
  /** a logger to read the platform's log lines (default: silent, or IOC_TEST_LOG_LEVEL) */
  logger?: Logger;
}

export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'ioc-test-'));
  const platform = await startPlatform({
    env: {},
    overrides: {
      dataDir,
      mqtt: { port: 0, host: '127.0.0.1' },
      http: { port: 0, host: '127.0.0.1' },
      demo: { enabled: false },
      ...options.overrides,
    },
    clock: options.clock,
    logger: options.logger ?? pino({ level: process.env.IOC_TEST_LOG_LEVEL ?? 'silent' }),
  });
  const creds = platform.credentials;
  if (!creds) throw new Error('the test platform has no credentials file');
  const clients: MqttClient[] = [];

  const connect = async (url: string, opts: IClientOptions): Promise<MqttClient> => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error('connection closed before CONNACK')));
    });
    return client;
  };
  const devicePassword = (sensorId: string) => {
    const device = creds.devices.find((d) => d.sensorId === sensorId);
    if (!device) throw new Error(`no credentials for ${sensorId}`);
    return device.password;
  };

  return Object.assign(Object.create(null) as object, platform, {
    dataDir,
    operatorToken: creds.operator.token,
    adminToken: creds.admin.token,
    devicePassword,
    connectDevice: (sensorId: string, opts: IClientOptions & { ws?: boolean } = {}) =>
      connect(opts.ws ? platform.mqttWsUrl : platform.mqttUrl, {
        username: sensorId,
        password: devicePassword(sensorId),
        clientId: `${sensorId}-${Math.random().toString(16).slice(2, 8)}`,
        ...opts,
      }),
    connectOperator: (opts: IClientOptions = {}) =>
      connect(platform.mqttUrl, {
        username: 'operator',
        password: creds.operator.token,
        clientId: `operator-${Math.random().toString(16).slice(2, 8)}`,
        ...opts,
      }),
    async request(
      method: string,
      path: string,
      opts: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
    ) {
      const token = opts.token === undefined ? creds.operator.token : opts.token;
      const headers: Record<string, string> = {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...opts.headers,
      };
      let body: string | undefined;
      if (opts.body !== undefined) {
        body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${platform.httpUrl}${path}`, { method, headers, body });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text, headers: res.headers };
    },
    async stop() {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
      await platform.close();
      if (ownDir) {
        rmSync(dataDir, { recursive: true, force: true });
        rmSync(`${dataDir}.audit.key`, { force: true }); // the audit key lives beside the data dir (audit/audit-key.ts)
      }
    },
  }) as TestPlatform;
}

/** Publishes and resolves when the broker acknowledged it (PUBACK for QoS 1). */
export function publishAcked(
  client: MqttClient,
  topic: string,
  payload: string | Buffer,
  qos: 0 | 1 = 1,
): Promise<void> {
  return new Promise((resolve, reject) =>
    client.publish(topic, payload, { qos }, (err) => (err ? reject(err) : resolve())),
  );
}

/** Collects messages on a topic filter; `next()` waits for the next one. */
export async function subscribeCollect(
  client: MqttClient,
  filter: string,
): Promise<{
  messages: Array<{ topic: string; payload: string }>;
  next(timeoutMs?: number): Promise<{ topic: string; payload: string }>;
}> {
  const messages: Array<{ topic: string; payload: string }> = [];
  const waiters: Array<(m: { topic: string; payload: string }) => void> = [];
  client.on('message', (topic, payload) => {
    const m = { topic, payload: payload.toString() };
    messages.push(m);
    waiters.shift()?.(m);
  });
  await client.subscribeAsync(filter, { qos: 1 });
  let read = 0;
  return {
    messages,
    next(timeoutMs = 5000) {
      if (read < messages.length) return Promise.resolve(messages[read++]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no message on ${filter} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((m) => {
          clearTimeout(timer);
          read++;
          resolve(m);
        });
      });
    },
  };
}

/** An operator's alert stream (`query` appended, e.g. `&since=12`): every frame it got, its close code. */
export interface AlertStreamFrames {
  readonly frames: ServerMessage[];
  readonly closed: Promise<number>;
  close(): void;
}

/** Opens the alert stream with the operator token and resolves once its first frame came; refused: rejects. */
export async function openAlertStream(platform: TestPlatform, query = ''): Promise<AlertStreamFrames> {
  const url = `${platform.httpUrl.replace(/^http/, 'ws')}/api/alerts/stream?token=${platform.operatorToken}${query}`;
  const socket = new WebSocket(url);
  const frames: ServerMessage[] = [];
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.on('message', (data) => {
      frames.push(JSON.parse(data.toString()) as ServerMessage);
      resolve();
    });
    socket.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    socket.once('error', reject);
  });
  return { frames, closed, close: () => socket.close() };
}

/** Tries an MQTT login with a fresh clientId; true on CONNACK, false when refused. */
export async function canConnect(url: string, username: string, password: string): Promise<boolean> {
  const client = mqtt.connect(url, {
    username,
    password,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    clientId: `${username}-probe-${Math.random().toString(16).slice(2, 8)}`,
  });
  try {
    return await new Promise<boolean>((resolve) => {
      client.once('connect', () => resolve(true));
      client.once('error', () => resolve(false));
      client.once('close', () => resolve(false));
    });
  } finally {
    client.end(true);
  }
}

/** Connects and says how CONNECT ended: `ok` with the client, or the CONNACK refusal code (the client closed). */
export function tryConnect(
  url: string,
  options: IClientOptions,
): Promise<{ ok: boolean; code?: number; sessionPresent?: boolean; client?: MqttClient }> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    client.once('connect', (connack) => resolve({ ok: true, sessionPresent: connack.sessionPresent, client }));
    client.once('error', (err: Error & { code?: number }) => {
      client.end(true);
      resolve({ ok: false, code: err.code });
    });
  });
}
