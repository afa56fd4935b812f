import { createServer, type Server, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { City } from '../config/city-config.ts';
import { addressKey } from '../core/address-key.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import type { AuthStore, Principal } from '../config/credentials.ts';
import { DEFAULT_LIMITS, type LimitsConfig } from '../config/limits-config.ts';
import type { LiveSessionRegistry } from '../config/accounts/live-sessions.ts';
import type { IngestService } from '../ingest/ingest-service.ts';
import type { MqttDialects } from '../ingest/mqtt-dialects.ts';
import { deviceTopic, parseDeviceTopic, isRejection } from '../ingest/parse-topic.ts';
import type { Rejection } from '../ingest/rejection.ts';
import { clientIdProblem, limitKey } from './client-id-policy.ts';
import type { SharedBrokerLimits } from '../cluster/shared-broker-limits.ts';
import { ConnectionLimits } from './connection-limits.ts';
import { certificateLogin } from './client-cert-auth.ts';
import { guardPacketSize } from './packet-size-guard.ts';
import { protocolVersionProblem, unparsedConnect } from './protocol-versions.ts';
import { createPublishGate } from './publish-gate.ts';
import { PublishRateLimiter } from './publish-rate-limiter.ts';
import type { DeviceBudget } from './device-budget.ts';
import { createRefusalLog } from './refusal-log.ts';
import { createConnectPenalty } from './connect-penalty.ts';
import { SessionBounds, type QueuePersistence } from './session-bounds.ts';
import { SessionResume, type ReplayPersistence } from './session-resume.ts';
import { maySubscribe } from './topic-acl.ts';
import { printableTopic, topicProblem } from './topic-shape.ts';
import type { RedisBrokerState } from './redis-broker-state.ts';
import { plainAddress, type ProxyTrust } from '../config/trusted-proxies.ts';
import { readPreamble } from './proxy-preamble.ts';

/** how long a client (or a trusted balancer) may take to send its first bytes (proxy-preamble.ts): Aedes' own
 * connect timeout, which starts only once the preamble is read */
const PREAMBLE_TIMEOUT_MS = 30_000;

/**
 * The embedded MQTT broker: authenticates clients, applies the topic ACL and hands device messages to
 * ingest. A QoS 1 publish is acknowledged by Aedes only when `authorizePublish` calls back, which this
 * does only after ingest made the readings durable: holding the callback is what ties PUBACK to the log.
 * Each client keeps to its own lane: its clientId belongs to its account, and `limits:` bounds its
 * connections, rate, unfinished QoS 2, queues and sessions (see broker/README.md).
 */
export interface BrokerDeps {
  /** packets larger than this close the connection before they are buffered (see packet-size-guard.ts) */
  maxPacketBytes: number;
  auth: AuthStore;
  insecure: boolean;
  ingest: IngestService;
  /** what integration accounts publish in other systems' dialects (ChirpStack, Frigate) */
  dialects?: MqttDialects;
  city: City;
  logger: Logger;
  registry: Registry;
  /** the device budgets and refusal log shared with HTTP ingest (broker/device-budget.ts); own ones when absent */
  budget?: DeviceBudget;
  /** config `limits:` (defaults when absent) */
  limits?: LimitsConfig;
  clock?: Clock;
  /** live connections by principal, so that revoking a credential closes them (config/accounts/) */
  sessions?: LiveSessionRegistry;
  /** false once a principal's credential was revoked between CONNECT and CONNACK */
  isCurrent?: (principal: Principal) => boolean;
  /** cluster mode: message fan-out and sessions in Redis (broker/redis-broker-state.ts); in memory when absent */
  shared?: RedisBrokerState;
  /** cluster mode: connection limits, device budgets and CONNECT penalties of the cluster (shared-broker-limits.ts) */
  sharedLimits?: SharedBrokerLimits;
  /**
   * told of every refused CONNECT (after authentication ran), for the audit log (platform.ts bounds it per
   * address and minute, audit/bounded-audit.ts); never given the password
   */
  onConnectRefused?: (refusal: ConnectRefusal) => void;
  /** mqtt.trustedProxies: peers that must send a PROXY protocol header (config/trusted-proxies.ts); none when absent */
  trustedProxies?: ProxyTrust;
}

export interface ConnectRefusal {
  /** the client's address (a trusted balancer's PROXY header's), or "unknown" */
  address: string;
  username: string | undefined;
  clientId: string;
  /** the CONNACK return code sent */
  returnCode: number;
  reason: string;
}

export interface Broker {
  readonly aedes: Aedes;
  publish(topic: string, payload: string | Buffer, options?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  listenTcp(port: number, host: string): Promise<Server>;
  /**
   * Reads the PROXY protocol preamble of a raw TCP socket (proxy-preamble.ts) and calls `then` with the
   * client's address; a refused socket is logged, counted and destroyed. For the TLS listener, before TLS.
   */
  readClientAddress(socket: Socket, then: (address: string) => void): void;
  /** `address`: the client's, when known (request.ip for MQTT over WebSocket, the PROXY header's for TLS) */
  handleStream(stream: Duplex, req?: IncomingMessage, address?: string): void;
  readonly connectedClients: number;
  close(): Promise<void>;
}

function authError(message: string, returnCode: 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function createBroker(deps: BrokerDeps): Promise<Broker> {
  const { auth, insecure, ingest, city, logger } = deps;
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const clock = deps.clock ?? systemClock;
  const principals = new WeakMap<Client, Principal>();
  const denied = new Counter({
    name: 'ioc_mqtt_denied_total',
    help: 'Refused MQTT connects, publishes and subscribes',
    labelNames: ['action'],
    registers: [deps.registry],
  });
  const clients = new Gauge({ name: 'ioc_mqtt_clients', help: 'Connected MQTT clients', registers: [deps.registry] });
  const refusals = deps.budget?.refusals ?? createRefusalLog(logger, deps.registry, clock);
  const connections = new ConnectionLimits(limits, deps.sharedLimits);
  const resumes = new SessionResume(limits.queuedMessagesPerClient, refusals);
  // what is under these floors on a node is not reported (connection-limits.ts): 1/64 of the address limit, and
  // accounts with one connection unless the limit is one
  deps.sharedLimits?.reportFrom(() =>
    connections.report(
      Math.max(1, Math.floor(limits.connectionsPerAddress / 64)),
      Math.min(2, limits.connectionsPerAccount),
    ),
  );
  const rate =
    deps.budget?.rate ??
    new PublishRateLimiter(
      {
        ratePerSecond: limits.devicePublishesPerSecond,
        burst: limits.devicePublishBurst,
        abusiveAfter: limits.abusiveRefusalsBeforeDisconnect,
        bytesPerSecond: limits.deviceBytesPerSecond,
        byteBurst: limits.deviceByteBurst,
        connectionBytesPerSecond: limits.connectionBytesPerSecond,
        maxHoldMs: limits.rateHoldMaxMs,
      },
      clock,
    );
  const penalty = createConnectPenalty(limits, clock, refusals, logger, deps.sharedLimits);
  // cluster mode: what a device uses on each node is charged to its budget on the others (a device spread over
  // nodes has one budget); accounts under a quarter of the rate per second are not reported. Only the city's
  // sensors are charged: a name from Redis that is none of them would only grow the budgets kept here
  if (deps.sharedLimits) {
    rate.shareUsage();
    deps.sharedLimits.usageFrom(
      () => rate.takeUsage(limits.devicePublishesPerSecond / 4, limits.deviceBytesPerSecond / 4),
      (account, publishes, bytes) => {
        if (city.sensorsById.has(account)) rate.chargeRemote(account, publishes, bytes);
      },
    );
  }
  // source address of each stream (set in admitSocket), for penalties by address
  const addresses = new WeakMap<object, string>();
  // publishes held over their budget (publish-gate.ts), cancelled when the broker closes
  const holds = new Set<{ cancel(): void }>();
  const kindOf = (id: string) => city.sensorsById.get(id)?.kind;
  // publishes refused but acknowledged: Aedes must not forward or retain them (see the publish override)
  const dropped = new WeakSet<PublishPacket>();
  const refuseConnect = (
    client: Client,
    account: string,
    reason: 'client_id' | 'connections_per_account' | 'sessions_per_account',
    message: string,
    returnCode: 2 | 3,
    done: (err: AuthenticateError, ok: boolean) => void,
  ) => {
    denied.inc({ action: 'connect' });
    refusals.refuse(reason, account, message, { clientId: printableTopic(client.id, 64) });
    done(authError(message, returnCode as 4), false);
  };

  /**
   * One refusal for every protocol level the broker does not speak: level 5 in preConnect, any other level
   * from the parser's error (protocol-versions.ts, `unparsedConnect`), whose CONNECT was never read further.
   */
  const refuseProtocol = (
    client: Client,
    problem: string,
    connect: { clientId?: string; protocolVersion?: number; protocolId?: string; username?: string },
  ) => {
    denied.inc({ action: 'connect' });
    // the client's own address (behind a trusted proxy: the one its PROXY header gave), never the proxy's
    const address = (client.conn && addresses.get(client.conn)) ?? '';
    const { clientId, username } = connect;
    // no account exists before authentication: one line per client (clientId, else its address) a minute
    refusals.refuse('protocol_version', clientId ? `client:${clientId}` : `address:${addressKey(address)}`, problem, {
      ...(clientId !== undefined ? { clientId } : {}),
      protocolVersion: connect.protocolVersion,
      protocolId: printableTopic(String(connect.protocolId ?? ''), 16),
      ...(username ? { username: printableTopic(username, 64) } : {}),
      ...(address ? { address } : {}),
    });
  };

  const aedes: Aedes = await Aedes.createBroker({
    ...(deps.shared ? { mq: deps.shared.mq, persistence: deps.shared.persistence } : {}),
    concurrency: 1000,
    drainTimeout: 30_000,
    // topic depth is checked in authorizePublish with a reason (limits.topicMaxLevels); this is aedes' own ceiling
    maxTopicLevels: 100,
    maxInflightInbound: limits.qos2InflightPerSession,
    heartbeatInterval: 60_000,
    // The seam for MQTT 5 (broker/protocol-versions.ts, docs/mqtt5.md): a protocol level the broker does
    // not speak is logged and counted here; Aedes then answers it as before (CONNACK 1) and closes.
    preConnect(client, packet, done) {
      resumes.hold(client);
      const problem = protocolVersionProblem(packet.protocolVersion ?? 0);
      if (problem) {
        refuseProtocol(client, problem, {
          clientId: printableTopic(packet.clientId ?? '', 64),
          protocolVersion: packet.protocolVersion,
          protocolId: packet.protocolId,
          username: packet.username,
        });
      }
      done(null, true);
    },
    authenticate(client, username, password, reply) {
      // every refusal below, whichever check made it, is also told to the audit (never the password)
      const done: typeof reply = (err, ok) => {
        if (err && deps.onConnectRefused) {
          deps.onConnectRefused({
            address: addresses.get(client.conn) ?? 'unknown',
            username: username === undefined ? undefined : printableTopic(username, 64),
            clientId: printableTopic(client.id ?? '', 64),
            returnCode: err.returnCode,
            reason: err.message.slice(0, 300),
          });
        }
        reply(err, ok);
      };
      if (insecure) {
        principals.set(client, { role: 'admin', name: username ?? 'anonymous' });
        return done(null, true);
      }
      // an address serving a penalty for abuse is refused before any work; an account's penalty only once
      // its credentials are proven (below), so a stranger cannot tell a penalised name from an unknown one
      const penalized = penalty.refusal(undefined, addresses.get(client.conn));
      if (penalized) {
        denied.inc({ action: 'connect' });
        return done(authError(penalized, 3 as 4), false);
      }
      // a device certificate signed by tls.ca logs in as the sensor of its CN (broker/client-cert-auth.ts)
      const byCert = certificateLogin(client.conn, username, (id) => city.sensorsById.has(id));
      if (byCert.outcome === 'refused') {
        denied.inc({ action: 'connect' });
        logger.info({ clientId: client.id, reason: byCert.reason }, 'MQTT login refused: client certificate');
        return done(authError(byCert.reason, 5), false);
      }
      let principal: Principal | undefined;
      if (byCert.outcome === 'device') {
        // bound to the device's current secret: rotating it closes this session and refuses certificates
        // issued before the rotation (a stolen certificate stops working with the secret)
        const secret = auth.device?.(byCert.sensorId);
        const rotatedAt = secret?.rotatedAt === undefined ? undefined : Date.parse(secret.rotatedAt);
        // 62 s: issuers (ioc tls dev-cert) date a certificate a minute back, and X.509 keeps whole seconds
        if (rotatedAt !== undefined && !(byCert.validFrom >= rotatedAt - 62_000)) {
          denied.inc({ action: 'connect' });
          const reason =
            `client certificate of ${byCert.sensorId} was issued before its credentials were rotated ` +
            `(${secret!.rotatedAt}): issue a new one`;
          logger.info({ clientId: printableTopic(client.id, 64), reason }, 'MQTT login refused: client certificate');
          return done(authError(reason, 5), false);
        }
        principal = {
          role: 'device',
          name: byCert.sensorId,
          sensorId: byCert.sensorId,
          ...(secret ? { credential: { scheme: 'device', hash: secret.hash } } : {}),
        };
      } else {
        if (!username || !password) {
          denied.inc({ action: 'connect' });
          return done(authError('username and password are required', 4), false);
        }
        const secret = password.toString('utf8');
        // a token logs in only under its own account's name, so the username says who is connected
        const device = auth.verifyDevice(username, secret);
        const byToken = device ? undefined : auth.verifyToken(secret);
        principal = device ?? (byToken?.name === username ? byToken : undefined);
        if (!principal) {
          denied.inc({ action: 'connect' });
          logger.info(
            {
              clientId: printableTopic(client.id, 64),
              username: printableTopic(username, 64),
              address: addresses.get(client.conn),
            },
            'MQTT login refused: bad username or password',
          );
          return done(authError('bad username or password', 4), false);
        }
      }
      // a penalised account learns it (CONNACK 3) only with its own credentials: one SHA-256 spent above
      const accountPenalty = penalty.refusal(principal.name, undefined);
      if (accountPenalty) {
        denied.inc({ action: 'connect' });
        return done(authError(accountPenalty, 3 as 4), false);
      }
      // decided before Aedes touches the session of that clientId (subscriptions, queue, will, takeover)
      const idProblem = clientIdProblem(principal, client.id, limits.clientIdMaxBytes, (id) =>
        city.sensorsById.has(id),
      );
      if (idProblem) return refuseConnect(client, principal.name, 'client_id', idProblem, 2, done);
      const key = limitKey(principal);
      if (!sessions.mayOpen(key, client.id, client.clean)) {
        return refuseConnect(
          client,
          principal.name,
          'sessions_per_account',
          `account ${principal.name} keeps ${limits.sessionsPerAccount} persistent sessions already`,
          3,
          done,
        );
      }
      if (!connections.admit(key, client, client.id)) {
        return refuseConnect(
          client,
          principal.name,
          'connections_per_account',
          `account ${principal.name} has ${limits.connectionsPerAccount} connections already`,
          3,
          done,
        );
      }
      client.conn.once('close', () => connections.release(key, client));
      principals.set(client, principal);
      done(null, true);
    },

    authorizePublish: createPublishGate({
      insecure,
      limits,
      ingest,
      dialects: deps.dialects,
      principals,
      kindOf,
      rate,
      refusals,
      denied,
      logger,
      now: () => clock.now(),
      hold(ms, then) {
        const handle = clock.setTimeout(() => {
          holds.delete(handle);
          then();
        }, ms);
        holds.add(handle);
      },
      penalize: (client, principal) => penalty.penalize(principal.name, addresses.get(client.conn)),
      drop(packet) {
        dropped.add(packet);
        // an empty body: a QoS 2 packet is stored until PUBREL, and its payload was refused anyway
        packet.payload = Buffer.alloc(0);
        packet.retain = false;
      },
      publishErrors: (principal, topic, rejected, accepted) => publishErrors(principal, topic, rejected, accepted),
    }),

    authorizeSubscribe(client, subscription, done) {
      const principal = client ? principals.get(client) : undefined;
      if (!principal) return done(new Error('not authenticated'), null);
      const problem =
        topicProblem(subscription.topic, limits) ??
        (insecure
          ? undefined
          : maySubscribe(principal, subscription.topic, kindOf, (account) => deps.dialects?.rootsOf(account)));
      if (problem !== undefined && (typeof problem === 'string' || !problem.allowed)) {
        denied.inc({ action: 'subscribe' });
        const reason = typeof problem === 'string' ? problem : problem.reason;
        refusals.refuse(typeof problem === 'string' ? 'topic_shape' : 'subscribe_acl', principal.name, reason, {
          topic: printableTopic(subscription.topic),
        });
        return done(null, null); // SUBACK 0x80 for this filter, connection stays
      }
      done(null, subscription);
    },
  });

  // A publish refused in authorizePublish but acknowledged (see publish-gate.ts) reaches this with the
  // same packet object; it stops here, so nobody receives it and nothing retains it.
  const basePublish = aedes.publish.bind(aedes) as unknown as (
    packet: PublishPacket,
    client: Client | null,
    done: (err?: Error) => void,
  ) => void;
  (aedes as unknown as { publish: typeof basePublish }).publish = (packet, client, done) => {
    if (dropped.has(packet)) {
      const callback = typeof client === 'function' ? (client as (err?: Error) => void) : done;
      return callback?.();
    }
    return basePublish(packet, client, done);
  };

  const sessions = new SessionBounds(
    (aedes as unknown as { persistence: QueuePersistence }).persistence,
    limits,
    clock,
    refusals,
    deps.shared?.queueCounts,
  );
  sessions.install();
  resumes.install((aedes as unknown as { persistence: ReplayPersistence }).persistence);
  keepTakeoverWills(aedes);

  // live connections by principal, so that revoking a credential closes them (config/accounts/)
  const unregister = new WeakMap<Client, () => void>();
  aedes.on('client', (client) => {
    clients.inc();
    const principal = principals.get(client);
    if (!principal) return;
    sessions.connected(limitKey(principal), client.id, client.clean);
    if (!deps.sessions) return;
    if (deps.isCurrent && !deps.isCurrent(principal)) return client.close();
    unregister.set(client, deps.sessions.register({ principal, channel: 'mqtt', close: () => client.close() }));
  });
  aedes.on('clientReady', (client) => resumes.release(client));
  aedes.on('clientDisconnect', (client) => {
    clients.dec();
    sessions.disconnected(client.id, client.clean);
    unregister.get(client)?.();
  });
  // a CONNECT of a protocol level the parser does not know ends here, not in preConnect: refused the same way
  const onError = (what: string) => (client: Client, err: Error) => {
    const connect = unparsedConnect(client, err);
    if (connect) return refuseProtocol(client, protocolVersionProblem(connect.protocolVersion) ?? err.message, connect);
    logger.debug({ clientId: printableTopic(client.id ?? '', 64), err: err.message }, what);
  };
  aedes.on('clientError', onError('MQTT client error'));
  aedes.on('connectionError', onError('MQTT connection error'));

  /** Counts the socket against its source address; false (and the socket destroyed) when over the limit. */
  const admitSocket = (stream: Duplex, address: string): boolean => {
    if (!connections.openSocket(address)) {
      refusals.refuse(
        'connections_per_address',
        // the log's key by /64 for IPv6 (as the count): one host cannot write a line per address of its prefix
        addressKey(address),
        `address ${address}${addressKey(address) === address ? '' : ` (${addressKey(address)})`} has ` +
          `${limits.connectionsPerAddress} connections already`,
      );
      stream.destroy();
      return false;
    }
    stream.once('close', () => connections.closeSocket(address));
    addresses.set(stream, address);
    return true;
  };

  const trust = deps.trustedProxies ?? (() => false);
  /** The PROXY preamble (proxy-preamble.ts): `then` gets the client's address; a refused socket is closed. */
  const readClientAddress = (socket: Socket, then: (address: string) => void) =>
    readPreamble(socket, { trust, clock, timeoutMs: PREAMBLE_TIMEOUT_MS }, (outcome) => {
      if (outcome.ok) return then(outcome.address);
      if (outcome.reason === 'closed') {
        socket.destroy();
        return;
      }
      denied.inc({ action: 'connect' });
      const peer = plainAddress(socket.remoteAddress ?? 'unknown');
      refusals.refuse(outcome.reason, `address:${addressKey(peer)}`, outcome.message, { address: peer });
      socket.destroy();
    });

  const publish = (topic: string, payload: string | Buffer, options: { qos?: 0 | 1; retain?: boolean } = {}) =>
    new Promise<void>((resolve, reject) => {
      const packet = {
        cmd: 'publish',
        topic,
        payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
        qos: options.qos ?? 0,
        retain: options.retain ?? false,
        dup: false,
      } as PublishPacket;
      aedes.publish(packet, (err?: Error) => (err ? reject(err) : resolve()));
    });

  /** Tells the device's maintainer what was refused, on the device's own errors topic. */
  async function publishErrors(
    principal: Principal | undefined,
    topic: string,
    rejected: readonly Rejection[],
    accepted = 0,
  ): Promise<void> {
    // a device hears about its mistakes on the one topic it may read, whatever kind its topic named
    const parsed = parseDeviceTopic(topic);
    let errorsTopic: string | undefined;
    if (principal?.sensorId)
      errorsTopic = deviceTopic(kindOf(principal.sensorId) ?? 'unknown', principal.sensorId, 'errors');
    else if (!isRejection(parsed)) errorsTopic = deviceTopic(parsed.kind, parsed.sensorId, 'errors');
    if (!errorsTopic) return;
    const body = JSON.stringify({
      ts: new Date(clock.now()).toISOString(),
      topic: printableTopic(topic, 200),
      accepted,
      errors: rejected,
    });
    await publish(errorsTopic, body).catch((err: Error) =>
      logger.warn({ err: err.message }, 'could not publish a rejection'),
    );
  }

  const servers: Server[] = [];
  return {
    aedes,
    publish,
    async listenTcp(port, host) {
      const server = createServer((socket) => {
        const handle = () => guardPacketSize(aedes.handle(socket), deps.maxPacketBytes);
        const peer = plainAddress(socket.remoteAddress ?? 'unknown');
        // a client's socket counts against its address before a byte is read; a balancer's once its
        // PROXY header has named the client
        if (!trust(peer)) {
          if (admitSocket(socket, peer)) readClientAddress(socket, handle);
          return;
        }
        readClientAddress(socket, (address) => {
          if (admitSocket(socket, address)) handle();
        });
      });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      return server;
    },
    readClientAddress,
    handleStream(stream, req, address) {
      const client = plainAddress(address ?? req?.socket.remoteAddress ?? 'unknown');
      if (admitSocket(stream, client)) guardPacketSize(aedes.handle(stream, req), deps.maxPacketBytes);
    },
    get connectedClients() {
      return aedes.connectedClients;
    },
    async close() {
      sessions.stop();
      for (const h of holds) h.cancel();
      // aedes first: it disconnects the clients, and a server only closes once its connections are gone
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await deps.shared?.close();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

interface WillStore {
  persistence: { delWill(client: { id: string; brokerId?: string }): Promise<unknown> };
  clients: Record<string, { closed?: boolean; will?: unknown } | undefined>;
  id: string;
}

/**
 * A session taken over (the same clientId connecting again) keeps the new connection's will. Aedes stores the new
 * will, then closes the old connection, whose close deletes the will of that clientId on this broker, after it
 * published the old will: the new one, by then. In cluster mode that stored will is what the other nodes publish
 * if this node dies, so it was lost. The delete is skipped while a live connection of that id here has a will;
 * a dead broker's wills (another broker id) are deleted as before.
 */
function keepTakeoverWills(aedes: Aedes): void {
  const broker = aedes as unknown as WillStore;
  const delWill = broker.persistence.delWill.bind(broker.persistence);
  broker.persistence.delWill = (client) => {
    const live = broker.clients[client.id];
    const ours = (client.brokerId ?? broker.id) === broker.id;
    if (ours && live && live !== client && !live.closed && live.will) return Promise.resolve(undefined);
    return delWill(client);
  };
}
