import type { Clock, TimerHandle } from '../core/clock.ts';
import type { RefusalLog } from './refusal-log.ts';

/**
 * What MQTT sessions may hold. Aedes' in-memory persistence keeps, per clientId, a queue of messages
 * waiting for a QoS 1/2 subscriber (online until it acknowledges, offline for a persistent session) and
 * keeps persistent sessions forever; neither is bounded. This wraps the persistence's queue methods to
 * cap each client's queue in messages and bytes (newer messages are dropped and counted), limits how many
 * persistent sessions one account keeps, and drops a persistent session whose client stays away longer
 * than the expiry, with its subscriptions, queue and unfinished QoS 2.
 */
export interface SessionLimits {
  readonly queuedMessagesPerClient: number;
  readonly queuedBytesPerClient: number;
  readonly sessionsPerAccount: number;
  readonly sessionExpirySeconds: number;
}

interface QueuedPacket {
  payload?: Buffer | string;
  topic?: string;
}
interface Sub {
  clientId: string;
}
interface ClientRef {
  id: string;
}

/** The part of aedes-persistence (11.x) this relies on; broker/session-limits.test.ts fails if it changes. */
export interface QueuePersistence {
  outgoingEnqueue(sub: Sub, packet: QueuedPacket): Promise<void>;
  outgoingEnqueueCombi(subs: Sub[], packet: QueuedPacket): Promise<void>;
  outgoingClearMessageId(client: ClientRef, packet: QueuedPacket): Promise<QueuedPacket | undefined>;
  outgoingStream(client: ClientRef): AsyncIterable<QueuedPacket>;
  cleanSubscriptions(client: ClientRef): Promise<void>;
  cleanIncoming?(client: ClientRef): Promise<void>;
}

/** A client's queue as counted: messages and bytes. */
export interface QueueCount {
  messages: number;
  bytes: number;
}

/**
 * Where the queue counts live. On one node, in memory (`memoryQueueCounts`); in a cluster, in Redis
 * (`redisQueueCounts`, broker/redis-broker-state.ts), as the queues themselves are: a message is counted by the node
 * its publisher is on and released by the node its subscriber acknowledges on, which may be another one.
 */
export interface QueueCounts {
  /** counts one more message of `bytes` for the client if both stay within the limits; `admitted` false if not */
  admit(
    clientId: string,
    bytes: number,
    limits: SessionLimits,
  ): { admitted: boolean; count: QueueCount } | Promise<{ admitted: boolean; count: QueueCount }>;
  release(clientId: string, bytes: number): void | Promise<void>;
  clear(clientId: string): void | Promise<void>;
}

export function memoryQueueCounts(): QueueCounts {
  const queued = new Map<string, QueueCount>();
  return {
    admit(clientId, bytes, limits) {
      const q = queued.get(clientId) ?? { messages: 0, bytes: 0 };
      if (q.messages + 1 > limits.queuedMessagesPerClient || q.bytes + bytes > limits.queuedBytesPerClient) {
        return { admitted: false, count: q };
      }
      q.messages++;
      q.bytes += bytes;
      queued.set(clientId, q);
      return { admitted: true, count: q };
    },
    release(clientId, bytes) {
      const q = queued.get(clientId);
      if (!q) return;
      q.messages = Math.max(0, q.messages - 1);
      q.bytes = Math.max(0, q.bytes - bytes);
      if (q.messages === 0) queued.delete(clientId);
    },
    clear(clientId) {
      queued.delete(clientId);
    },
  };
}

const sizeOf = (p: QueuedPacket): number =>
  (typeof p.payload === 'string' ? Buffer.byteLength(p.payload) : (p.payload?.length ?? 0)) + (p.topic?.length ?? 0);

export class SessionBounds {
  private readonly sessions = new Map<string, Set<string>>();
  private readonly ownerOf = new Map<string, string>();
  private readonly offlineSince = new Map<string, number>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly persistence: QueuePersistence,
    private readonly limits: SessionLimits,
    private readonly clock: Clock,
    private readonly refusals: RefusalLog,
    private readonly counts: QueueCounts = memoryQueueCounts(),
  ) {}

  /** Wraps the queue methods of the persistence in place and starts the expiry sweep. */
  install(): void {
    const p = this.persistence;
    const enqueue = p.outgoingEnqueue.bind(p);
    const enqueueCombi = p.outgoingEnqueueCombi.bind(p);
    const clear = p.outgoingClearMessageId.bind(p);
    p.outgoingEnqueue = async (sub, packet) => {
      if (await this.admit(sub, packet)) await enqueue(sub, packet);
    };
    // Aedes asks for every QoS 1 publish, most often with no persistent subscriber: that costs nothing more
    p.outgoingEnqueueCombi = (subs, packet) =>
      subs.length === 0
        ? enqueueCombi(subs, packet)
        : Promise.all(subs.map((sub) => this.admit(sub, packet))).then((admitted) =>
            enqueueCombi(
              subs.filter((_, i) => admitted[i]),
              packet,
            ),
          );
    p.outgoingClearMessageId = async (client, packet) => {
      const removed = await clear(client, packet);
      if (removed) await this.counts.release(client.id, sizeOf(removed));
      return removed;
    };
    const every = Math.min(60_000, Math.max(1000, (this.limits.sessionExpirySeconds * 1000) / 4));
    this.timer = this.clock.setInterval(() => void this.sweep(), every);
  }

  stop(): void {
    this.timer?.cancel();
  }

  /** May `account` open (or resume) the session `clientId`? Only new persistent sessions are bounded. */
  mayOpen(account: string, clientId: string, clean: boolean): boolean {
    if (clean || this.ownerOf.get(clientId) === account) return true;
    return (this.sessions.get(account)?.size ?? 0) < this.limits.sessionsPerAccount;
  }

  connected(account: string, clientId: string, clean: boolean): void {
    this.offlineSince.delete(clientId);
    if (clean) {
      // a clean session replaces a persistent one of the same id: its queue must go too
      if (this.ownerOf.has(clientId)) void this.purge(clientId, false);
      return;
    }
    this.ownerOf.set(clientId, account);
    const set = this.sessions.get(account) ?? new Set<string>();
    set.add(clientId);
    this.sessions.set(account, set);
  }

  disconnected(clientId: string, clean: boolean): void {
    if (clean) {
      void this.clearCount(clientId);
      return;
    }
    if (this.ownerOf.has(clientId)) this.offlineSince.set(clientId, this.clock.now());
  }

  persistentSessions(account: string): number {
    return this.sessions.get(account)?.size ?? 0;
  }

  /** Drops the persistent sessions whose client has been away longer than the expiry. */
  async sweep(): Promise<number> {
    const cutoff = this.clock.now() - this.limits.sessionExpirySeconds * 1000;
    const expired = [...this.offlineSince].filter(([, at]) => at <= cutoff).map(([id]) => id);
    for (const id of expired) await this.purge(id, true);
    return expired.length;
  }

  private async admit(sub: Sub, packet: QueuedPacket): Promise<boolean> {
    const { admitted, count } = await this.counts.admit(sub.clientId, sizeOf(packet), this.limits);
    if (!admitted) {
      this.refusals.refuse(
        'queue_full',
        sub.clientId,
        `queue of client ${sub.clientId.slice(0, 64)} is full (${count.messages} ` +
          `messages, ${count.bytes} bytes): newer messages are dropped`,
      );
    }
    return admitted;
  }

  /** A count that cannot be cleared (its store unreachable) is left to be released message by message. */
  private async clearCount(clientId: string): Promise<void> {
    await Promise.resolve(this.counts.clear(clientId)).catch(() => undefined);
  }

  private async purge(clientId: string, expired: boolean): Promise<void> {
    const account = this.ownerOf.get(clientId) ?? '';
    this.ownerOf.delete(clientId);
    this.offlineSince.delete(clientId);
    const set = this.sessions.get(account);
    set?.delete(clientId);
    if (set?.size === 0) this.sessions.delete(account);
    const client = { id: clientId };
    const queued: QueuedPacket[] = [];
    for await (const packet of this.persistence.outgoingStream(client)) queued.push(packet);
    for (const packet of queued) await this.persistence.outgoingClearMessageId(client, packet);
    await this.clearCount(clientId);
    if (expired) {
      await this.persistence.cleanSubscriptions(client);
      await this.persistence.cleanIncoming?.(client);
      this.refusals.refuse(
        'session_expired',
        account,
        `persistent session ${clientId.slice(0, 64)} expired after ${this.limits.sessionExpirySeconds} s ` +
          `offline; ${queued.length} queued messages dropped`,
      );
    }
  }
}
