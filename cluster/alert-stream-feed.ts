import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Alert, AlertEvent } from '../alerts/alert-model.ts';
import type { AlertFeed, FeedSince } from '../alerts/delivery/alert-feed.ts';
import type { ClusterKeys } from './partition-map.ts';

export interface AlertStreamFeedOptions {
  /** a connection of its own: XREAD BLOCK holds it */
  readonly redis: Redis;
  /** where `since` asks (not the blocked connection, whose answers wait behind XREAD BLOCK) */
  readonly queries?: Redis;
  readonly keys: ClusterKeys;
  readonly partitions: number;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  /** how long one XREAD waits for news before asking again (and noticing a stop) */
  readonly blockMs?: number;
  /** told each time the node fell behind the stream's trimming and took its view anew (/metrics counts it) */
  readonly resynced?: () => void;
}

export interface AlertStreamFeed extends AlertFeed {
  /** an open alert by id */
  get(id: string): Alert | undefined;
  /** an open or lately resolved alert by id (GET /api/alerts/:id on any node) */
  known(id: string): Alert | undefined;
  /** the open alerts and the last resolved ones (GET /api/alerts on any node: alerts/alert-queries.ts) */
  recentAndOpen(): Alert[];
  /** the seq of the newest event applied */
  readonly lastSeq: number;
  /**
   * Events after `seq`, in order (a reconnecting console's resume point, on any node); complete when the
   * stream still holds every one of them (it keeps about cluster.alertStreamMaxLen) and at most `count`.
   */
  since(seq: number, count?: number): Promise<FeedSince>;
  /**
   * `listener` is told when the view was taken anew from Redis because events were trimmed before this node
   * read them (the hub sends its clients a fresh snapshot); returns the way to stop listening.
   */
  onResync(listener: () => void): () => void;
  start(): Promise<void>;
  stop(): void;
}

type Entries = [id: string, fields: string[]][];

/**
 * Resolved alerts kept as the stream showed them: until the owner's commit log has brought them to the store, a
 * node would otherwise answer from a store that still says open (the engine keeps as many: alert-lifecycle.ts).
 */
const RECENT_LIMIT = 2000;

function toEvent(id: string, fields: string[]): AlertEvent | undefined {
  const body = fields[fields.indexOf('e') + 1];
  if (body === undefined) return undefined;
  const parsed = JSON.parse(body) as Omit<AlertEvent, 'seq'>;
  return { seq: Number(id.split('-')[0]), type: parsed.type, ts: parsed.ts, alert: parsed.alert };
}

/**
 * The cluster's alert events as every node's WebSocket hub sees them (docs/cluster.md): it follows the Redis
 * stream with XREAD BLOCK and emits each event once, in stream order, with the stream id's seq; the open
 * alerts (the hub's snapshot) are the partitions' open hashes, read at start, then kept from the events.
 * Every node reads the same stream, so operators on every node see the same events in the same order.
 */
export function createAlertStreamFeed(o: AlertStreamFeedOptions): AlertStreamFeed {
  const bus = new EventEmitter<{ alert: [AlertEvent] }>();
  bus.setMaxListeners(100);
  const open = new Map<string, Alert>();
  const recent = new Map<string, Alert>();
  let lastId = '0-0';
  let lastSeq = 0;
  let running = false;
  let loop: Promise<void> | undefined;
  const resyncListeners = new Set<() => void>();

  /**
   * The view from Redis in one transaction: the newest seq taken and every partition's open alerts (the owners'
   * state, kept by the same script that appends to the stream) agree, so following the stream from that seq
   * misses nothing and repeats nothing.
   */
  const takeSnapshot = async (): Promise<void> => {
    const multi = o.redis.multi().get(o.keys.seq).xrevrange(o.keys.stream, '+', '-', 'COUNT', 1);
    for (let p = 0; p < o.partitions; p++) multi.hvals(o.keys.open(p));
    const replies = (await multi.exec()) ?? [];
    const next = new Map<string, Alert>();
    for (const [err, values] of replies.slice(2)) {
      if (err) throw err;
      for (const json of values as string[]) {
        const alert = JSON.parse(json) as Alert;
        next.set(alert.id, alert);
      }
    }
    const [[seqErr, seqText], [streamErr, newest]] = replies as [
      [Error | null, string | null],
      [Error | null, Entries],
    ];
    if (seqErr) throw seqErr;
    if (streamErr) throw streamErr;
    const seq = Math.max(Number(seqText ?? 0), Number(newest[0]?.[0].split('-')[0] ?? 0));
    open.clear();
    for (const [id, alert] of next) open.set(id, alert);
    lastSeq = seq;
    lastId = `${seq}-0`;
  };

  /**
   * The stream is trimmed at about cluster.alertStreamMaxLen: a node that read too slowly (a long pause, a Redis
   * connection down for a while) finds its next event gone, and with it perhaps a resolution, which would leave
   * the alert open in its view for ever. The seqs are consecutive, so a gap is certain: take the view anew.
   */
  const resync = async (expected: number, found: number): Promise<void> => {
    const before = open.size;
    await takeSnapshot();
    o.logger.warn(
      { expectedSeq: expected, firstSeqFound: found, resumedAfterSeq: lastSeq, openBefore: before, open: open.size },
      'the cluster alert stream was trimmed past what this node had read: its alert view was taken anew from Redis',
    );
    o.resynced?.();
    for (const listener of resyncListeners) listener();
  };

  const apply = (event: AlertEvent): void => {
    if (event.alert.state === 'resolved') {
      open.delete(event.alert.id);
      recent.delete(event.alert.id);
      recent.set(event.alert.id, event.alert);
      if (recent.size > RECENT_LIMIT) recent.delete(recent.keys().next().value!);
    } else open.set(event.alert.id, event.alert);
    lastSeq = event.seq;
    bus.emit('alert', event);
  };

  const follow = async (): Promise<void> => {
    while (running) {
      try {
        const reply = (await o.redis.xread(
          'COUNT',
          1000,
          'BLOCK',
          o.blockMs ?? 2000,
          'STREAMS',
          o.keys.stream,
          lastId,
        )) as [string, Entries][] | null;
        read: for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            const seq = Number(id.split('-')[0]);
            if (seq > lastSeq + 1) {
              // what follows the snapshot is read next, from its seq on
              await resync(lastSeq + 1, seq);
              break read;
            }
            lastId = id;
            lastSeq = seq;
            const event = toEvent(id, fields);
            if (event) apply(event);
          }
        }
      } catch (err) {
        if (!running) return;
        o.logger.warn({ err: (err as Error).message }, 'the cluster alert stream could not be read; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };

  return {
    bus,
    open: () => [...open.values()],
    get: (id) => open.get(id),
    known: (id) => open.get(id) ?? recent.get(id),
    recentAndOpen: () => [...recent.values(), ...open.values()],
    get lastSeq() {
      return lastSeq;
    },
    async since(seq, count = 10_000) {
      const redis = o.queries ?? o.redis;
      // one transaction: the oldest entry kept, the newest seq taken and what follows `seq` agree
      const replies = (await redis
        .multi()
        .xrange(o.keys.stream, '-', '+', 'COUNT', 1)
        .get(o.keys.seq)
        .xrange(o.keys.stream, `(${seq}-0`, '+', 'COUNT', count + 1)
        .exec()) as unknown as [[unknown, Entries], [unknown, string | null], [unknown, Entries]];
      const [[, oldest], [, newestText], [, entries]] = replies;
      const newest = Number(newestText ?? 0);
      const first = oldest[0] ? Number(oldest[0][0].split('-')[0]) : newest + 1;
      // the seqs in the stream run from `first` to `newest` without a gap (trimmed from the front only)
      const complete = Number.isSafeInteger(seq) && seq >= first - 1 && seq <= newest && entries.length <= count;
      return { events: complete ? entries.flatMap(([id, fields]) => toEvent(id, fields) ?? []) : [], complete };
    },
    onResync(listener) {
      resyncListeners.add(listener);
      return () => resyncListeners.delete(listener);
    },
    async start() {
      await takeSnapshot();
      running = true;
      loop = follow();
    },
    stop() {
      running = false;
      // the blocked XREAD returns with the connection's end
      o.redis.disconnect();
      void loop;
    },
  };
}
