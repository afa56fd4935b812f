import type { Aedes } from 'aedes';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { Redis } from 'ioredis';

/**
 * The broker state a cluster shares through Redis (docs/cluster.md): Aedes' own mqemitter-redis fans
 * messages out between nodes, aedes-persistence-redis keeps retained messages, subscriptions and
 * persistent QoS 1 sessions, so a device may reconnect to any node and find its session there.
 */
export type AedesOptions = NonNullable<Parameters<typeof Aedes.createBroker>[0]>;
export interface RedisBrokerState {
  readonly mq: NonNullable<AedesOptions['mq']>;
  readonly persistence: NonNullable<AedesOptions['persistence']>;
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
  const persistence = new AsyncRedisPersistence({
    conn: new Redis(redisUrl),
  }) as RetainedSource;
  // Aedes 1.2 pipes the retained messages of a SUBSCRIBE as a stream; this persistence yields an async
  // iterable (without the wrap, the subscribing client's process throws "stream.pipe is not a function")
  const combi = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.createRetainedStreamCombi = (patterns) => Readable.from(combi(patterns));
  return {
    mq,
    persistence,
    close: () => persistence.destroy().catch(() => undefined),
  };
}
