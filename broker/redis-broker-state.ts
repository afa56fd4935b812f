import type { Aedes } from 'aedes';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import type { QueueCounts } from './session-bounds.ts';

/**
 * The broker state a cluster shares through Redis (docs/cluster.md): Aedes' own mqemitter-redis fans
 * messages out between nodes, aedes-persistence-redis keeps retained messages, subscriptions and
 * persistent QoS 1 sessions, so a device may reconnect to any node and find its session there.
 */
export type AedesOptions = NonNullable<Parameters<typeof Aedes.createBroker>[0]>;
export interface RedisBrokerState {
  readonly mq: NonNullable<AedesOptions['mq']>;
  readonly persistence: NonNullable<AedesOptions['persistence']>;
  /** each persistent session's queue counted where every node sees it (broker/session-bounds.ts) */
  readonly queueCounts: QueueCounts;
  /** after aedes.close(): Aedes never destroys its persistence, and its Redis connection would linger */
  close(): Promise<void>;
}

// both are CommonJS without types; the async persistence class is the one Aedes 1.x accepts (its setup()
// must be an async function: the package's default export wraps it in the older callback API)
const require = createRequire(import.meta.url);
type Factory = (opts: Record<string, unknown>) => unknown;
interface RetainedSource {
  createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown> | Readable;
  destroy(): Promise<void>;
}
interface RedisEmitter {
  subConn: Redis;
  pubConn: Redis;
  closed: boolean;
  close(cb?: () => void): void;
}
type Ctor = new (opts: Record<string, unknown>) => unknown;
interface QueuedPacket {
  cmd?: string;
  qos?: number;
  brokerId?: string;
  brokerCounter?: number | string;
  messageId?: number;
}
interface SessionQueue {
  outgoingUpdate(client: { id: string }, packet: QueuedPacket): Promise<void>;
  outgoingClearMessageId(client: { id: string }, packet: QueuedPacket): Promise<QueuedPacket | undefined>;
  outgoingStream(client: { id: string }): AsyncIterable<QueuedPacket>;
}

export function createRedisBrokerState(redisUrl: string): RedisBrokerState {
  // required here, not imported: a platform without a cluster never loads ioredis (about 20 files)
  const { Redis } = require('ioredis') as typeof import('ioredis');
  const mqemitterRedis = require('mqemitter-redis') as Factory;
  const AsyncRedisPersistence = require('aedes-persistence-redis/asyncPersistence.js') as Ctor;
  // the Redis database in the URL (redis://host:port/<db>) keeps two clusters on one Redis apart
  // no ready check on the subscriber connection: its INFO can reach Redis after the SUBSCRIBE and is
  // refused there ("only (P|S)SUBSCRIBE ... are allowed"), an unhandled error
  const mq = mqemitterRedis({
    subConn: new Redis(redisUrl, { enableReadyCheck: false }),
    pubConn: new Redis(redisUrl),
  }) as RedisEmitter;
  // its own close() sends QUIT on the subscriber connection, which ioredis refuses in subscriber mode
  // (an unhandled error at every shutdown): drop both connections instead
  mq.close = (cb) => {
    mq.closed = true;
    mq.subConn.disconnect();
    mq.pubConn.disconnect();
    cb?.();
  };
  const conn = new Redis(redisUrl);
  const persistence = new AsyncRedisPersistence({ conn }) as RetainedSource & SessionQueue;
  ownPacketIdentifiers(persistence, conn);
  // Aedes 1.2 pipes the retained messages of a SUBSCRIBE as a stream; this persistence yields an async
  // iterable (without the wrap, the subscribing client's process throws "stream.pipe is not a function")
  const combi = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.createRetainedStreamCombi = (patterns) => Readable.from(combi(patterns));
  return {
    mq,
    persistence,
    queueCounts: redisQueueCounts(conn),
    close: () => persistence.destroy().catch(() => undefined),
  };
}

// a client's count, a hash of messages (m) and bytes (b), checked and added to in one step on the Redis server
const ADMIT = `
local m = tonumber(redis.call('HGET', KEYS[1], 'm') or '0')
local b = tonumber(redis.call('HGET', KEYS[1], 'b') or '0')
local size = tonumber(ARGV[1])
if m + 1 > tonumber(ARGV[2]) or b + size > tonumber(ARGV[3]) then return {0, m, b} end
redis.call('HSET', KEYS[1], 'm', m + 1, 'b', b + size)
return {1, m + 1, b + size}`;
const RELEASE = `
local m = redis.call('HINCRBY', KEYS[1], 'm', -1)
local b = redis.call('HINCRBY', KEYS[1], 'b', -tonumber(ARGV[1]))
if m <= 0 then redis.call('DEL', KEYS[1]) elseif b < 0 then redis.call('HSET', KEYS[1], 'b', 0) end
return m`;

type CountingRedis = Redis & {
  iocQueueAdmit(key: string, size: number, maxMessages: number, maxBytes: number): Promise<[number, number, number]>;
  iocQueueRelease(key: string, size: number): Promise<number>;
};

/**
 * The queue counts of persistent sessions in Redis, beside the queues: a message is counted by the node that
 * queues it (its publisher's) and released by the node that clears it (its subscriber's), so per-node counts only
 * grew on one node and fell on another, and past the limit a node dropped every message for that client.
 */
export function redisQueueCounts(redis: Redis): QueueCounts {
  redis.defineCommand('iocQueueAdmit', { numberOfKeys: 1, lua: ADMIT });
  redis.defineCommand('iocQueueRelease', { numberOfKeys: 1, lua: RELEASE });
  const r = redis as CountingRedis;
  const key = (clientId: string) => `ioc:queue:${clientId}`;
  return {
    async admit(clientId, bytes, limits) {
      const [admitted, messages, counted] = await r.iocQueueAdmit(
        key(clientId),
        bytes,
        limits.queuedMessagesPerClient,
        limits.queuedBytesPerClient,
      );
      return { admitted: admitted === 1, count: { messages, bytes: counted } };
    },
    async release(clientId, bytes) {
      await r.iocQueueRelease(key(clientId), bytes);
    },
    async clear(clientId) {
      await redis.del(key(clientId));
    },
  };
}

/** how long a session's packet identifier of a queued message is kept: past it, a re-send gets a new one */
const PACKET_ID_TTL_SECONDS = 24 * 3600;

/**
 * Each session's own packet identifiers for the QoS 1 messages it was sent [MQTT-4.4.0-1]. aedes-persistence-redis
 * keeps one body per message for all its subscribers and writes the identifier of whichever subscriber was sent
 * it last into that body, so a session resuming got its messages under another session's identifiers (which can
 * collide with its own, and a PUBACK then clears the wrong message). The identifier is kept per session and
 * message (`ioc:pid:<clientId>:<brokerId>:<counter>`) and put back on the replay; a message never sent to that
 * session is replayed without one and gets a fresh one.
 */
function ownPacketIdentifiers(persistence: SessionQueue, redis: Redis): void {
  const key = (clientId: string, p: QueuedPacket) => `ioc:pid:${clientId}:${p.brokerId}:${p.brokerCounter}`;
  const update = persistence.outgoingUpdate.bind(persistence);
  const clear = persistence.outgoingClearMessageId.bind(persistence);
  const stream = persistence.outgoingStream.bind(persistence);
  persistence.outgoingUpdate = async (client, packet) => {
    await update(client, packet);
    if (packet.qos === 1 && packet.messageId !== undefined && packet.brokerId !== undefined) {
      await redis.set(key(client.id, packet), packet.messageId, 'EX', PACKET_ID_TTL_SECONDS);
    }
  };
  persistence.outgoingClearMessageId = async (client, packet) => {
    const removed = await clear(client, packet);
    if (removed?.brokerId !== undefined) await redis.del(key(client.id, removed));
    return removed;
  };
  persistence.outgoingStream = (client) =>
    (async function* () {
      for await (const packet of stream(client)) {
        if (packet.qos !== 1 || packet.brokerId === undefined) {
          yield packet;
          continue;
        }
        const own = Number(await redis.get(key(client.id, packet)));
        const { messageId: _shared, ...rest } = packet;
        yield own > 0 ? { ...rest, messageId: own } : rest;
      }
    })();
}
