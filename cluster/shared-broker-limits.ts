import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { AccountUsage } from '../broker/publish-rate-limiter.ts';
import { keyDigest } from './cluster-node.ts';
import { redisOutageLog } from './redis-outage.ts';

/**
 * MQTT connection limits, device budgets and CONNECT penalties for the whole cluster (docs/security.md, "Cluster
 * caveats"): behind a round-robin balancer one address or account reaches every node, so limits kept by each node
 * alone would give N nodes N times the connections and the budget, and a device penalised on one node would
 * reconnect to the next.
 *
 * - Connections: every `intervalMs` each node writes what it holds to `<prefix>conns:node:<id>` (a hash: sockets
 *   per source address, and per account its connections per client id, each above a floor that keeps a fleet's
 *   one-connection devices out: broker/connection-limits.ts `report`; client ids as digests), which expires
 *   on the Redis server after `staleMs`, joins the set `<prefix>conns:nodes`, and reads the other members'
 *   hashes (no clocks compared; a member whose hash expired is dropped from the set). A new socket or
 *   connection is refused once this node's count plus the others' last report reaches the limit. The counts are
 *   at most one interval old: a burst spread over nodes inside that interval can pass up to each node's own
 *   limit (each node still counts its own at once), never more; a node that stops reporting (dead, cut off) is
 *   left out once its hash expires.
 * - Device budgets: the same report carries what each device used since the last one (above a quarter of its
 *   rate), and the other nodes charge it to the budget they keep for it (broker/publish-rate-limiter.ts
 *   `chargeRemote`), once per report (its `seq`): a device spread over nodes has one budget, to within a second.
 * - Penalties: a penalty started on one node is published on `<prefix>penalties` and kept as
 *   `<prefix>penalty:<digest>` for its remaining time (what a node starting later reads); every node refuses
 *   that account (or address) at CONNECT until it ends. Times travel as durations, not clock readings, so nodes'
 *   clocks need not agree.
 *
 * Redis down: the other nodes' counts are dropped once older than `staleMs`, so each node's own limits decide
 * (never unlimited); logged once per outage and once when it answers again. What is read from Redis is checked
 * entry by entry (numbers in range, keys of the expected shape); an entry that is not is skipped and counted.
 */
export interface ConnectionReport {
  /** sockets per address key (IPv6 by /64), only those at or above the report's floor */
  readonly addresses: ReadonlyArray<readonly [string, number]>;
  /** accounts at or above the report's floor: connections per client id */
  readonly accounts: ReadonlyArray<readonly [string, Readonly<Record<string, number>>]>;
}

/** What other nodes hold, as the broker's limits ask it (broker/connection-limits.ts). */
export interface RemoteConnections {
  /** sockets the other live nodes hold from this address key */
  sockets(addressKey: string): number;
  /** connections the other live nodes hold for this account, under client ids other than `clientId` */
  connections(account: string, clientId: string): number;
}

/** Penalties shared between nodes (broker/connect-penalty.ts). */
export interface RemotePenalties {
  /** a penalty this node started: `key` as the node's penalties name it, `remainingMs` from now, `ms` its length */
  share(key: string, remainingMs: number, ms: number): void;
  /** penalties other nodes started are handed to `apply` (also those still running when this node starts) */
  follow(apply: (key: string, remainingMs: number, ms: number) => void): void;
}

export interface SharedBrokerLimits extends RemoteConnections, RemotePenalties {
  /** the broker's own connections, read at each report */
  reportFrom(source: () => ConnectionReport): void;
  /**
   * The device budget (broker/publish-rate-limiter.ts): `take` what accounts used here since the last report
   * (those over its floors), `charge` what they used on another node.
   */
  usageFrom(
    take: () => readonly AccountUsage[],
    charge: (account: string, publishes: number, bytes: number) => void,
  ): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface SharedBrokerLimitsOptions {
  readonly redisUrl: string;
  readonly keyPrefix: string;
  readonly nodeId: string;
  readonly logger: Pick<Logger, 'warn' | 'info' | 'debug'>;
  readonly registry?: Registry;
  /** the longest penalty there can be (limits.abusePenaltyMaxSeconds): longer entries are refused */
  readonly maxPenaltyMs: number;
  /** how often each node reports and reads (default 1 s) */
  readonly intervalMs?: number;
  /** a node whose report is older than this is left out (default 5 s) */
  readonly staleMs?: number;
}

const MAX_COUNT = 10_000_000;
const MAX_KEY_CHARS = 1024;
/** a cluster's node ids (config/cluster-config.ts); more members than this in the node set are not read */
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const MAX_NODES = 256;
/** each node's hash holds this field while it lives, so that a node holding nothing over the floors still shows */
const ALIVE_FIELD = 'alive';
/** the report's number (each node's own count): a report read twice is charged once */
const SEQ_FIELD = 'seq';
const MAX_USED_PUBLISHES = 1_000_000;
const MAX_USED_BYTES = 1e12;
const PENALTY_KINDS = ['account\u0000', 'address\u0000'];
const isCount = (n: unknown): n is number =>
  Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) <= MAX_COUNT;

interface PenaltyNotice {
  node: string;
  key: string;
  remainingMs: number;
  ms: number;
}

export function createSharedBrokerLimits(o: SharedBrokerLimitsOptions): SharedBrokerLimits {
  const intervalMs = o.intervalMs ?? 1000;
  const staleMs = o.staleMs ?? 5000;
  // a command Redis leaves unanswered fails after two intervals, so an outage is noticed (and said) in time
  const redis = new Redis(o.redisUrl, {
    connectionName: `${o.nodeId}-mqtt-limits`,
    maxRetriesPerRequest: 1,
    commandTimeout: Math.min(2 * intervalMs, staleMs),
  });
  const subscriber = redis.duplicate({ connectionName: `${o.nodeId}-mqtt-penalties` });
  for (const r of [redis, subscriber]) {
    r.on('error', (err: Error) => o.logger.debug({ err: err.message }, 'shared MQTT limits: Redis connection error'));
  }
  const refused = o.registry
    ? new Counter({
        name: 'ioc_cluster_shared_limit_entries_refused_total',
        help: 'connection counts and penalties read from Redis that were not valid, skipped',
        labelNames: ['entry'],
        registers: [o.registry],
      })
    : undefined;
  const p = o.keyPrefix;
  // node ids in a set; each node's counts in its own hash, alive while its server-side expiry runs (no clocks
  // compared: a node whose hash expired is dropped from the set by whoever sees it first)
  const nodesKey = `${p}conns:nodes`;
  const hashOf = (node: string) => `${p}conns:node:${node}`;
  const channel = `${p}penalties`;
  let source: () => ConnectionReport = () => ({ addresses: [], accounts: [] });
  let takeUsage: () => readonly AccountUsage[] = () => [];
  let chargeUsage: (account: string, publishes: number, bytes: number) => void = () => undefined;
  let seq = 0;
  // the last report of each other node whose usage was charged here
  const chargedSeq = new Map<string, string>();
  let apply: (key: string, remainingMs: number, ms: number) => void = () => undefined;
  // the other nodes' counts, summed: address key -> sockets; account -> client id -> connections
  let sockets = new Map<string, number>();
  let accounts = new Map<string, Map<string, number>>();
  let lastRead = 0;
  const outage = redisOutageLog(o.logger, {
    down:
      "shared MQTT limits: Redis did not answer; once the other nodes' counts are older than " +
      `${staleMs} ms, this node's own connection limits decide until it does`,
    up: 'shared MQTT limits: Redis answers again, connections are counted for the cluster again',
  });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let started = false;

  const skip = (entry: 'connections' | 'penalty', what: string) => {
    refused?.inc({ entry });
    o.logger.debug({ entry: what.slice(0, 80) }, 'shared MQTT limits: an entry in Redis is not valid, skipped');
  };

  const validPenalty = (n: unknown): n is PenaltyNotice =>
    typeof n === 'object' && n !== null && !Array.isArray(n) && isPenaltyShape(n as Partial<PenaltyNotice>);
  const isPenaltyShape = (n: Partial<PenaltyNotice>) =>
    typeof n.key === 'string' &&
    n.key.length <= MAX_KEY_CHARS &&
    PENALTY_KINDS.some((kind) => n.key!.startsWith(kind)) &&
    Number.isSafeInteger(n.remainingMs) &&
    n.remainingMs! > 0 &&
    n.remainingMs! <= o.maxPenaltyMs &&
    Number.isSafeInteger(n.ms) &&
    n.ms! > 0 &&
    n.ms! <= o.maxPenaltyMs;

  const report = async () => {
    const own = source();
    const fields: string[] = [ALIVE_FIELD, '1', SEQ_FIELD, String(++seq)];
    for (const u of takeUsage()) fields.push(`u\u0000${u.account}`, `${u.publishes} ${u.bytes}`);
    for (const [key, n] of own.addresses) fields.push(`s\u0000${key}`, String(n));
    // client ids as digests: bounded, whatever clientIdMaxBytes allows, and never written to Redis as given
    for (const [account, ids] of own.accounts) {
      const byDigest: Record<string, number> = Object.create(null);
      for (const [id, n] of Object.entries(ids)) {
        const key = keyDigest(id);
        byDigest[key] = (byDigest[key] ?? 0) + n;
      }
      fields.push(`c\u0000${account}`, JSON.stringify(byDigest));
    }
    const hash = hashOf(o.nodeId);
    await redis
      .multi()
      .del(hash)
      .hset(hash, ...fields)
      .pexpire(hash, staleMs)
      .sadd(nodesKey, o.nodeId)
      .exec();
    const members = await redis.srandmember(nodesKey, MAX_NODES);
    const others = members.filter((n) => n !== o.nodeId);
    const read = redis.pipeline();
    for (const node of others) read.hgetall(hashOf(node));
    const results = others.length ? ((await read.exec()) ?? []) : [];
    const nextSockets = new Map<string, number>();
    const nextAccounts = new Map<string, Map<string, number>>();
    const gone: string[] = [];
    for (const [i, [err, value]] of results.entries()) {
      const node = others[i]!;
      if (!NODE_ID.test(node)) {
        skip('connections', node);
        gone.push(node);
      } else if (err || typeof value !== 'object' || value === null) {
        skip('connections', node);
      } else if ((value as Record<string, string>)[ALIVE_FIELD] === undefined) {
        gone.push(node);
      } else {
        const h = value as Record<string, string>;
        addCounts(h, nextSockets, nextAccounts);
        // a report not charged yet: what each device used on that node is charged to its budget here
        if (h[SEQ_FIELD] !== chargedSeq.get(node)) {
          chargedSeq.set(node, h[SEQ_FIELD] ?? '');
          chargeFrom(h);
        }
      }
    }
    for (const node of chargedSeq.keys()) if (!others.includes(node)) chargedSeq.delete(node);
    if (gone.length) await redis.srem(nodesKey, ...gone);
    sockets = nextSockets;
    accounts = nextAccounts;
    lastRead = Date.now();
  };

  /** a node's report of what devices used there, entry by entry (`u\0<account>`: "<publishes> <bytes>") */
  const chargeFrom = (h: Record<string, string>) => {
    for (const [field, value] of Object.entries(h)) {
      if (!field.startsWith('u\u0000')) continue;
      const [publishes, bytes, more] = value.split(' ').map(Number);
      const valid =
        more === undefined &&
        Number.isSafeInteger(publishes) &&
        publishes! >= 0 &&
        publishes! <= MAX_USED_PUBLISHES &&
        Number.isSafeInteger(bytes) &&
        bytes! >= 0 &&
        bytes! <= MAX_USED_BYTES &&
        field.length <= MAX_KEY_CHARS;
      if (valid) chargeUsage(field.slice(2), publishes!, bytes!);
      else skip('connections', field);
    }
  };

  /** one node's hash added into the sums, entry by entry (what is not valid is skipped and counted) */
  const addCounts = (
    h: Record<string, string>,
    nextSockets: Map<string, number>,
    nextAccounts: Map<string, Map<string, number>>,
  ) => {
    for (const [field, value] of Object.entries(h)) {
      if (field === ALIVE_FIELD || field === SEQ_FIELD || field.startsWith('u\u0000')) continue;
      if (field.length > MAX_KEY_CHARS) {
        skip('connections', field);
      } else if (field.startsWith('s\u0000')) {
        const n = Number(value);
        if (!isCount(n)) skip('connections', field);
        else nextSockets.set(field.slice(2), (nextSockets.get(field.slice(2)) ?? 0) + n);
      } else if (field.startsWith('c\u0000')) {
        let ids: unknown;
        try {
          ids = JSON.parse(value);
        } catch {
          ids = undefined;
        }
        if (typeof ids !== 'object' || ids === null || Array.isArray(ids)) {
          skip('connections', field);
          continue;
        }
        const byId = nextAccounts.get(field.slice(2)) ?? new Map<string, number>();
        for (const [id, n] of Object.entries(ids)) {
          if (isCount(n) && id.length <= MAX_KEY_CHARS) byId.set(id, (byId.get(id) ?? 0) + n);
          else skip('connections', field);
        }
        nextAccounts.set(field.slice(2), byId);
      } else {
        skip('connections', field);
      }
    }
  };

  const tick = () => {
    running = report()
      .then(() => outage.answered())
      .catch((err: Error) => outage.failed(err))
      .finally(() => {
        if (stopped) return;
        timer = setTimeout(tick, intervalMs);
        timer.unref();
      });
  };

  /** the other nodes' counts while fresh; after an outage longer than `staleMs`, none */
  const fresh = () => Date.now() - lastRead <= staleMs;

  /** a notice from the penalties channel: outside input, checked whole; nothing in it may throw out of here */
  const onNotice = (text: string) => {
    let notice: unknown;
    try {
      notice = JSON.parse(text);
    } catch {
      return skip('penalty', text);
    }
    if (typeof notice === 'object' && notice !== null && (notice as { node?: unknown }).node === o.nodeId) return;
    if (!validPenalty(notice)) return skip('penalty', text);
    apply(notice.key, notice.remainingMs, notice.ms);
  };

  /** penalties still running: each key's value and remaining time (at start, and after every reconnect) */
  const loadPenalties = async () => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${p}penalty:*`, 'COUNT', 500);
      cursor = next;
      const read = redis.pipeline();
      for (const key of keys) read.get(key).pttl(key);
      const results = keys.length ? ((await read.exec()) ?? []) : [];
      for (const [i, key] of keys.entries()) {
        const [, value] = results[2 * i] ?? [];
        const [, ttl] = results[2 * i + 1] ?? [];
        if (typeof value !== 'string' || typeof ttl !== 'number' || ttl <= 0) continue;
        let stored: unknown;
        try {
          stored = JSON.parse(value);
        } catch {
          skip('penalty', key);
          continue;
        }
        const notice =
          typeof stored === 'object' && stored !== null
            ? { ...stored, remainingMs: Math.min(ttl, o.maxPenaltyMs) }
            : {};
        if (validPenalty(notice)) apply(notice.key, notice.remainingMs, notice.ms);
        else skip('penalty', key);
      }
    } while (cursor !== '0');
  };

  return {
    sockets(addressKey) {
      return fresh() ? (sockets.get(addressKey) ?? 0) : 0;
    },
    connections(account, clientId) {
      if (!fresh()) return 0;
      const byId = accounts.get(account);
      if (!byId) return 0;
      const own = keyDigest(clientId);
      let n = 0;
      for (const [id, count] of byId) if (id !== own) n += count;
      return n;
    },
    reportFrom(next) {
      source = next;
    },
    usageFrom(take, charge) {
      takeUsage = take;
      chargeUsage = charge;
    },
    share(key, remainingMs, ms) {
      const notice: PenaltyNotice = { node: o.nodeId, key, remainingMs, ms };
      const text = JSON.stringify(notice);
      redis
        .multi()
        .set(`${p}penalty:${keyDigest(key)}`, text, 'PX', Math.max(1, remainingMs))
        .publish(channel, text)
        .exec()
        .catch((err: Error) =>
          o.logger.warn(
            { err: err.message },
            'shared MQTT limits: a penalty could not be shared; it holds on this node',
          ),
        );
    },
    follow(next) {
      apply = next;
    },
    async start() {
      subscriber.on('message', (ch: string, text: string) => {
        if (ch !== channel) return;
        try {
          onNotice(text);
        } catch (err) {
          skip('penalty', (err as Error).message);
        }
      });
      // notices published while the subscriber was away are lost: what still runs is read again on reconnect
      subscriber.on('ready', () => {
        if (started && !stopped) {
          loadPenalties().catch((err: Error) =>
            o.logger.debug({ err: err.message }, 'shared MQTT limits: penalties not read again after reconnect'),
          );
        }
      });
      await subscriber.subscribe(channel);
      await loadPenalties();
      started = true;
      tick();
      await running;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await redis
        .multi()
        .del(hashOf(o.nodeId))
        .srem(nodesKey, o.nodeId)
        .exec()
        .catch(() => undefined);
      await Promise.all(
        [redis, subscriber].map((r) =>
          r.quit().then(
            () => undefined,
            () => r.disconnect(),
          ),
        ),
      );
    },
  };
}
