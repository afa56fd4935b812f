import { createServer, type Server } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { City } from '../config/city-config.ts';
import type { AuthStore, Principal } from '../config/credentials.ts';
import type { LiveSessionRegistry } from '../config/accounts/live-sessions.ts';
import type { IngestService } from '../ingest/ingest-service.ts';
import { deviceTopic, parseDeviceTopic, isRejection } from '../ingest/parse-topic.ts';
import type { Rejection } from '../ingest/rejection.ts';
import { guardPacketSize } from './packet-size-guard.ts';
import { mayPublish, maySubscribe } from './topic-acl.ts';

/**
 * The embedded MQTT broker: authenticates clients, applies the topic ACL and hands device messages to
 * ingest. A QoS 1 publish is acknowledged by Aedes only when `authorizePublish` calls back, which this
 * does only after ingest made the readings durable: holding the callback is what ties PUBACK to the log.
 */
export interface BrokerDeps {
  /** packets larger than this close the connection before they are buffered (see packet-size-guard.ts) */
  maxPacketBytes: number;
  auth: AuthStore;
  insecure: boolean;
  ingest: IngestService;
  city: City;
  logger: Logger;
  registry: Registry;
  /** live connections by principal, so that revoking a credential closes them (config/accounts/) */
  sessions?: LiveSessionRegistry;
  /** false once a principal's credential was revoked between CONNECT and CONNACK */
  isCurrent?: (principal: Principal) => boolean;
}

export interface Broker {
  readonly aedes: Aedes;
  publish(topic: string, payload: string | Buffer, options?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  listenTcp(port: number, host: string): Promise<Server>;
  handleStream(stream: Duplex, req?: IncomingMessage): void;
  readonly connectedClients: number;
  close(): Promise<void>;
}

function authError(message: string, returnCode: 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function createBroker(deps: BrokerDeps): Promise<Broker> {
  const { auth, insecure, ingest, city, logger } = deps;
  const principals = new WeakMap<Client, Principal>();
  const denied = new Counter({ name: 'ioc_mqtt_denied_total', help: 'Refused MQTT connects, publishes and subscribes', labelNames: ['action'], registers: [deps.registry] });
  const clients = new Gauge({ name: 'ioc_mqtt_clients', help: 'Connected MQTT clients', registers: [deps.registry] });

  const aedes: Aedes = await Aedes.createBroker({
    concurrency: 1000,
    drainTimeout: 30_000,
    maxTopicLevels: 16,
    heartbeatInterval: 60_000,
    authenticate(client, username, password, done) {
      if (insecure) {
        principals.set(client, { role: 'admin', name: username ?? 'anonymous' });
        return done(null, true);
      }
      if (!username || !password) {
        denied.inc({ action: 'connect' });
        return done(authError('username and password are required', 4), false);
      }
      const secret = password.toString('utf8');
      // a token logs in only under its own account's name, so the username says who is connected
      const device = auth.verifyDevice(username, secret);
      const byToken = device ? undefined : auth.verifyToken(secret);
      const principal = device ?? (byToken?.name === username ? byToken : undefined);
      if (!principal) {
        denied.inc({ action: 'connect' });
        logger.info({ clientId: client.id, username: username.slice(0, 64) }, 'MQTT login refused: bad username or password');
        return done(authError('bad username or password', 4), false);
      }
      principals.set(client, principal);
      done(null, true);
    },

    authorizePublish(client, packet, done) {
      const principal = client ? principals.get(client) : undefined;
      if (client && !principal) return done(new Error('not authenticated'));
      if (principal) {
        const decision = mayPublish(principal, packet.topic, insecure);
        if (!decision.allowed) {
          denied.inc({ action: 'publish' });
          logger.warn({ clientId: client?.id, principal: principal.name, topic: packet.topic.slice(0, 200) }, decision.reason);
          return done(new Error(decision.reason));
        }
      }
      const parsed = parseDeviceTopic(packet.topic);
      if (isRejection(parsed) || parsed.channel === 'errors') {
        if (packet.topic.startsWith('ioc/') && !packet.topic.startsWith('ioc/alerts/')) {
          void publishErrors(principal, packet.topic, [parsed as Rejection]).finally(() => done(null));
          return;
        }
        return done(null);
      }
      const origin = client && (client as Client & { will?: unknown }).will === packet ? 'will' : client ? 'device' : 'broker';
      ingest.handle(packet.topic, packet.payload as Buffer, origin).then(
        async (outcome) => {
          if (outcome.rejected.length) await publishErrors(principal, packet.topic, outcome.rejected, outcome.accepted);
          done(null);
        },
        (err: Error) => {
          // Not durable: refuse the publish so that it is not acknowledged; the device will resend.
          logger.error({ err: err.message, topic: packet.topic }, 'could not make a publish durable; disconnecting the client without PUBACK');
          done(err);
        },
      );
    },

    authorizeSubscribe(client, subscription, done) {
      const principal = client ? principals.get(client) : undefined;
      if (!principal) return done(new Error('not authenticated'), null);
      const decision = maySubscribe(principal, subscription.topic, insecure, (id) => city.sensorsById.get(id)?.kind);
      if (!decision.allowed) {
        denied.inc({ action: 'subscribe' });
        logger.info({ principal: principal.name, topic: subscription.topic.slice(0, 200) }, decision.reason);
        return done(null, null); // SUBACK 0x80 for this filter, connection stays
      }
      done(null, subscription);
    },
  });

  const unregister = new WeakMap<Client, () => void>();
  aedes.on('client', (client) => {
    clients.inc();
    const principal = principals.get(client);
    if (!principal || !deps.sessions) return;
    if (deps.isCurrent && !deps.isCurrent(principal)) return client.close();
    unregister.set(client, deps.sessions.register({ principal, channel: 'mqtt', close: () => client.close() }));
  });
  aedes.on('clientDisconnect', (client) => {
    clients.dec();
    unregister.get(client)?.();
  });
  aedes.on('clientError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'MQTT client error'));
  aedes.on('connectionError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'MQTT connection error'));

  const publish = (topic: string, payload: string | Buffer, options: { qos?: 0 | 1; retain?: boolean } = {}) =>
    new Promise<void>((resolve, reject) => {
      const packet = { cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: options.qos ?? 0, retain: options.retain ?? false, dup: false } as PublishPacket;
      aedes.publish(packet, (err?: Error) => (err ? reject(err) : resolve()));
    });

  /** Tells the device's maintainer what was refused, on the device's own errors topic. */
  async function publishErrors(principal: Principal | undefined, topic: string, rejected: readonly Rejection[], accepted = 0): Promise<void> {
    const parsed = parseDeviceTopic(topic);
    let errorsTopic: string | undefined;
    if (!isRejection(parsed)) errorsTopic = deviceTopic(parsed.kind, parsed.sensorId, 'errors');
    else if (principal?.sensorId) errorsTopic = deviceTopic(city.sensorsById.get(principal.sensorId)?.kind ?? 'unknown', principal.sensorId, 'errors');
    if (!errorsTopic) return;
    const body = JSON.stringify({ ts: new Date().toISOString(), topic: topic.slice(0, 200), accepted, errors: rejected });
    await publish(errorsTopic, body).catch((err: Error) => logger.warn({ err: err.message }, 'could not publish a rejection'));
  }

  const servers: Server[] = [];
  return {
    aedes,
    publish,
    async listenTcp(port, host) {
      const server = createServer((socket) => guardPacketSize(aedes.handle(socket), deps.maxPacketBytes));
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      return server;
    },
    handleStream(stream, req) {
      guardPacketSize(aedes.handle(stream, req), deps.maxPacketBytes);
    },
    get connectedClients() {
      return aedes.connectedClients;
    },
    async close() {
      // aedes first: it disconnects the clients, and a server only closes once its connections are gone
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
