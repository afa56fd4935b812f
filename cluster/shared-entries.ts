import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { diffEntries, pendingChanges, type EntryChanges } from '../core/entry-diff.ts';

/**
 * State every node of a cluster must hold alike (accounts and device secrets, the device registry, the rules
 * changed through the API: cluster/shared-state.ts), shared through Redis (docs/cluster.md):
 * - the truth is a Redis hash per document, `<prefix>shared:<name>`, entry key -> canonical JSON; each node
 *   keeps its own copy (its files, which the rest of the platform reads as on one node) and follows the hash;
 * - a node's own change runs one script that writes the changed entries, takes the next version
 *   (`<prefix>shared:<name>:version`) and publishes `<version> <notice>` on `<prefix>shared:<name>:changes`,
 *   all at once: every node, the sender included, applies the notices in that one order;
 * - a node that sees a gap in the versions (a notice lost while its connection dropped), reconnects or
 *   starts, takes the whole hash (a resync); the first node of a new cluster seeds the hash from its copy.
 * A change Redis could not take is kept and sent again, before any resync would undo it here.
 */
export interface SharedDocument {
  /** names its keys: `<prefix>shared:<name>` */
  readonly name: string;
  /** this node's entries now */
  local(): ReadonlyMap<string, string>;
  /** makes this node's copy hold these entries (another node's change, or the cluster's at a resync) */
  apply(changes: EntryChanges): void;
}

export interface SharedHandle {
  /** sends this node's own change to the cluster, in order */
  publish(changes: EntryChanges): void;
  /** resolves once every change published before is in Redis (never rejects: a failure is logged, kept) */
  flushed(): Promise<void>;
  /** the entry as Redis holds it now (undefined: none); this node's earlier changes are sent first */
  read(key: string): Promise<string | undefined>;
  /**
   * Sets the entry to `next` only if Redis still holds `expected`, in one script that publishes the change
   * in order like any other (so every node, this one too, applies it from the notice): true if it did. Two
   * nodes swapping the same entry at once: exactly one wins (a single-use code claimed twice).
   */
  swap(key: string, expected: string, next: string): Promise<boolean>;
}

export interface ClusterSync {
  /** registers a document; before start() */
  share(doc: SharedDocument): SharedHandle;
  /** subscribes, then seeds or takes each document from Redis */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterSyncOptions {
  readonly redisUrl: string;
  readonly keyPrefix: string;
  readonly nodeId: string;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** how often changes Redis refused are sent again (default 2 s) */
  readonly retryMs?: number;
}

// KEYS: hash, version. ARGV: channel, notice, number of sets, then key/value pairs, then keys to delete.
const PUBLISH_SCRIPT = `
local sets = tonumber(ARGV[3])
local i = 4
for _ = 1, sets do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
  i = i + 1
end
local v = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], v .. ' ' .. ARGV[2])
return v`;

// KEYS: hash, version. ARGV: key/value pairs. The version key marks a seeded document (even an empty one).
const SEED_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('SET', KEYS[2], 0)
return 1`;

// KEYS: hash, version. ARGV: channel, notice, key, expected value, new value. 0 when the entry was not `expected`.
const SWAP_SCRIPT = `
if redis.call('HGET', KEYS[1], ARGV[3]) ~= ARGV[4] then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[5])
local v = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], v .. ' ' .. ARGV[2])
return v`;

interface Notice {
  readonly from: string;
  readonly changes: ReadonlyArray<readonly [string, string | null]>;
}

interface DocState {
  readonly doc: SharedDocument;
  readonly hash: string;
  readonly version: string;
  readonly channel: string;
  lastVersion: number;
  readonly pending: EntryChanges[];
  /** notices and resyncs, one after another */
  queue: Promise<void>;
  flushing: Promise<boolean> | undefined;
}

export function createClusterSync(o: ClusterSyncOptions): ClusterSync {
  const connect = (name: string, extra: Record<string, unknown> = {}) => {
    const redis = new Redis(o.redisUrl, { connectionName: `${o.nodeId}-${name}`, ...extra });
    redis.on('error', (err: Error) => o.logger.warn({ err: err.message, connection: name }, 'Redis connection error'));
    return redis;
  };
  const redis = connect('shared');
  // no ready check: its INFO could reach Redis after SUBSCRIBE, which refuses it there
  const subscriber = connect('shared-in', { enableReadyCheck: false });
  const docs = new Map<string, DocState>();
  let started = false;
  let retry: NodeJS.Timeout | undefined;

  const enqueue = (st: DocState, step: () => Promise<void>) => {
    st.queue = st.queue
      .then(step)
      .catch((err: Error) =>
        o.logger.error({ err: err.message, document: st.doc.name }, 'cannot follow the cluster: retried at reconnect'),
      );
    return st.queue;
  };

  const send = async (st: DocState, changes: EntryChanges) => {
    const sets = [...changes].filter((c): c is [string, string] => c[1] !== null);
    const deletes = [...changes].filter(([, v]) => v === null).map(([k]) => k);
    const notice: Notice = { from: o.nodeId, changes: [...changes] };
    await redis.eval(
      PUBLISH_SCRIPT,
      2,
      st.hash,
      st.version,
      st.channel,
      JSON.stringify(notice),
      sets.length,
      ...sets.flat(),
      ...deletes,
    );
  };

  /** true once nothing is left to send; one sender at a time per document, so Redis gets them in order */
  const flush = (st: DocState): Promise<boolean> => {
    if (st.flushing) return st.flushing;
    if (st.pending.length === 0) return Promise.resolve(true);
    // pending is not empty: the body awaits before it ends, so `flushing` is this run when it is cleared
    st.flushing = (async () => {
      try {
        while (st.pending.length) {
          await send(st, st.pending[0]!);
          st.pending.shift();
        }
        st.flushing = undefined;
        return true;
      } catch (err) {
        st.flushing = undefined;
        o.logger.error(
          { err: (err as Error).message, document: st.doc.name, waiting: st.pending.length },
          'a change could not reach Redis: kept here and sent again; the other nodes do not have it yet',
        );
        return false;
      }
    })();
    return st.flushing;
  };

  const apply = (st: DocState, changes: EntryChanges, why: string) => {
    const left = pendingChanges(st.doc.local(), changes);
    if (left.size === 0) return;
    st.doc.apply(left);
    o.logger.info({ document: st.doc.name, entries: left.size, why }, 'took the cluster change');
  };

  const resync = async (st: DocState) => {
    // this node's own changes first: the cluster's copy would undo them here
    if (!(await flush(st))) throw new Error('own changes not yet in Redis');
    for (;;) {
      const [[, version], [, all]] = (await redis.multi().get(st.version).hgetall(st.hash).exec()) as unknown as [
        [unknown, string | null],
        [unknown, Record<string, string>],
      ];
      if (version === null) {
        const seeded = await redis.eval(SEED_SCRIPT, 2, st.hash, st.version, ...[...st.doc.local()].flat());
        if (seeded === 1) o.logger.info({ document: st.doc.name }, 'seeded the cluster copy from this node');
        continue;
      }
      const truth = new Map(Object.entries(all));
      apply(st, diffEntries(st.doc.local(), truth), 'resync');
      st.lastVersion = Number(version);
      return;
    }
  };

  const receive = async (st: DocState, message: string) => {
    const space = message.indexOf(' ');
    const version = Number(message.slice(0, space));
    if (!Number.isSafeInteger(version) || version <= st.lastVersion) return;
    // a notice lost in between: the hash holds them all
    if (version !== st.lastVersion + 1) return resync(st);
    const notice = JSON.parse(message.slice(space + 1)) as Notice;
    apply(st, new Map(notice.changes), `from ${notice.from}`);
    st.lastVersion = version;
  };

  subscriber.on('message', (channel: string, message: string) => {
    const st = docs.get(channel);
    if (st && started) void enqueue(st, () => receive(st, message));
  });
  // after a dropped connection the notices sent meanwhile are lost: take each document whole again (a 'ready'
  // before start() is the first connection, which start() follows with a resync of its own)
  subscriber.on('ready', () => {
    if (!started) return;
    for (const st of docs.values()) void enqueue(st, () => resync(st));
  });

  return {
    share(doc) {
      const base = `${o.keyPrefix}shared:${doc.name}`;
      const st: DocState = {
        doc,
        hash: base,
        version: `${base}:version`,
        channel: `${base}:changes`,
        lastVersion: 0,
        pending: [],
        queue: Promise.resolve(),
        flushing: undefined,
      };
      docs.set(st.channel, st);
      return {
        publish(changes) {
          if (changes.size === 0) return;
          st.pending.push(changes);
          if (started) void flush(st);
        },
        flushed: async () => {
          await flush(st);
        },
        async read(key) {
          await flush(st);
          return (await redis.hget(st.hash, key)) ?? undefined;
        },
        async swap(key, expected, next) {
          const notice: Notice = { from: o.nodeId, changes: [[key, next]] };
          const version = await redis.eval(
            SWAP_SCRIPT,
            2,
            st.hash,
            st.version,
            st.channel,
            JSON.stringify(notice),
            key,
            expected,
            next,
          );
          return Number(version) > 0;
        },
      };
    },
    async start() {
      await subscriber.subscribe(...docs.keys());
      started = true;
      const states = [...docs.values()];
      // at start a failure is the caller's: a node that cannot read the cluster's accounts must not serve
      await Promise.all(
        states.map((st) => {
          const first = st.queue.then(() => resync(st));
          st.queue = first.catch(() => undefined);
          return first;
        }),
      );
      retry = setInterval(() => {
        for (const st of docs.values()) if (st.pending.length && !st.flushing) void flush(st);
      }, o.retryMs ?? 2000);
      retry.unref();
    },
    async stop() {
      started = false;
      if (retry) clearInterval(retry);
      await Promise.all([...docs.values()].map((st) => st.queue));
      // a last try for changes not yet sent, unless Redis is gone (ioredis would retry for seconds)
      if (redis.status === 'ready') await Promise.all([...docs.values()].map((st) => flush(st)));
      subscriber.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
