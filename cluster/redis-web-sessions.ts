import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { roleSchema } from '../config/accounts/auth-file.ts';
import type { SharedSessionStore, WebSession, WebSessions } from '../config/accounts/web-sessions.ts';

/**
 * Console sessions shared by a cluster's nodes (docs/cluster.md): behind a round-robin HTTP balancer or the
 * workers of one box, a browser's next request lands on any node, which finds the session here.
 * - `<prefix>session:<key>` (string, expires with the session): the account, role and password stamp; the
 *   key is the digest of the cookie value, so Redis holds nothing a reader could sign in with;
 * - `<prefix>sessions:ended` (pub/sub): a signed-out key; every node drops its copy and closes the alert
 *   streams the session opened. After a lost connection a node checks the copies it holds are still there.
 */
export interface RedisWebSessions {
  readonly store: SharedSessionStore;
  /** listens for sign-outs on other nodes; `sessions` is the node's cache, `ended` closes what they opened */
  start(sessions: WebSessions, ended: () => void): Promise<void>;
  stop(): Promise<void>;
}

const sessionSchema = z
  .object({
    account: z.string().min(1).max(64),
    role: roleSchema,
    passwordSetAt: z.string(),
    expiresAt: z.number().int(),
  })
  .strict();

/** a stored session, or undefined when missing or not one (a malformed value is no session, never a crash) */
function readSession(json: string | null): WebSession | undefined {
  if (json === null) return undefined;
  try {
    const parsed = sessionSchema.safeParse(JSON.parse(json));
    return parsed.success ? (parsed.data as WebSession) : undefined;
  } catch {
    return undefined;
  }
}

export function createRedisWebSessions(o: {
  redisUrl: string;
  keyPrefix: string;
  nodeId: string;
  logger: Pick<Logger, 'warn'>;
}): RedisWebSessions {
  const connect = (name: string, extra: Record<string, unknown> = {}) => {
    const redis = new Redis(o.redisUrl, { connectionName: `${o.nodeId}-${name}`, ...extra });
    redis.on('error', (err: Error) => o.logger.warn({ err: err.message, connection: name }, 'Redis connection error'));
    return redis;
  };
  const redis = connect('sessions');
  const subscriber = connect('sessions-in', { enableReadyCheck: false });
  const keyOf = (key: string) => `${o.keyPrefix}session:${key}`;
  // the keys of an account's sessions, so that a revocation ends them all, even those no node holds in memory
  const indexOf = (account: string) => `${o.keyPrefix}sessions:of:${account}`;
  const channel = `${o.keyPrefix}sessions:ended`;
  let started = false;

  const store: SharedSessionStore = {
    async save(key, session, ttlMs) {
      const ttl = Math.max(1, ttlMs);
      await redis
        .multi()
        .set(keyOf(key), JSON.stringify(session), 'PX', ttl)
        .sadd(indexOf(session.account), key)
        // every session of the account ends by then (each has the same lifetime)
        .pexpire(indexOf(session.account), ttl)
        .exec();
    },
    async load(key) {
      return readSession(await redis.get(keyOf(key)));
    },
    async sessionsOf(account) {
      const keys = await redis.smembers(indexOf(account));
      if (keys.length === 0) return [];
      const found: Array<[string, WebSession]> = [];
      const gone: string[] = [];
      const values = await redis.mget(...keys.map(keyOf));
      keys.forEach((key, i) => {
        const json = values[i] ?? null;
        const session = readSession(json);
        if (session?.account === account) found.push([key, session]);
        else if (json === null) gone.push(key);
      });
      // expired or signed out meanwhile
      if (gone.length) await redis.srem(indexOf(account), ...gone);
      return found;
    },
    async remove(key) {
      await redis.multi().del(keyOf(key)).publish(channel, key).exec();
    },
  };

  return {
    store,
    async start(sessions, ended) {
      subscriber.on('message', (_channel: string, key: string) => {
        sessions.forget(key);
        ended();
      });
      // sign-outs published while the connection was down were missed: keep only the copies Redis still has
      subscriber.on('ready', () => {
        if (!started) return;
        const keys = sessions.keys();
        if (keys.length === 0) return;
        const check = redis.pipeline();
        for (const key of keys) check.exists(keyOf(key));
        void check
          .exec()
          .then((replies) => {
            keys.forEach((key, i) => {
              const [err, found] = replies?.[i] ?? [];
              if (!err && found === 0) sessions.forget(key);
            });
            ended();
          })
          .catch((err: Error) => o.logger.warn({ err: err.message }, 'could not re-check the console sessions'));
      });
      await subscriber.subscribe(channel);
      started = true;
    },
    async stop() {
      started = false;
      subscriber.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
