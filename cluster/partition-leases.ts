import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { ClusterKeys } from './partition-map.ts';

export interface PartitionLeasesOptions {
  readonly redis: Redis;
  readonly keys: ClusterKeys;
  readonly nodeId: string;
  readonly partitions: number;
  readonly leaseMs: number;
  /** real time: the leases expire in Redis by its clock, so they are renewed by the wall clock too */
  readonly clock: Clock;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  /** how many nodes are alive (heartbeats), for this node's fair share */
  readonly liveNodes: () => Promise<number>;
  /** the partition is this node's: resolves once its state is taken over (the lease is held meanwhile) */
  readonly onAcquired: (p: number) => Promise<void>;
  /** the partition is not this node's any more (released, lost, or Redis unreachable too long) */
  readonly onLost: (p: number) => void;
}

// renews each lease it still holds; returns, per partition, 1 renewed or 0 lost
const RENEW = `
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`;
// gives a lease up only if it is still this node's
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Rule partition leases (docs/cluster.md): a node takes a free partition with SET NX PX, renews what it
 * holds every third of the lease, and takes no more than its fair share (partitions / live nodes) so a node
 * that joins gets some as the others give extras up. A node that cannot renew in time drops its partitions
 * itself before the lease can expire in Redis, so two nodes never both believe they own one for long; the
 * alert writes are fenced by the lease in Redis as well (alert-stream-writer.ts).
 */
export class PartitionLeases {
  private readonly owned = new Set<number>();
  private readonly adopting = new Set<number>();
  private timer: TimerHandle | undefined;
  private lastRenewed = 0;
  private ticking = false;
  private stopped = false;

  constructor(private readonly o: PartitionLeasesOptions) {}

  owns(p: number): boolean {
    return this.owned.has(p);
  }

  list(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    this.lastRenewed = this.o.clock.now();
    await this.tick();
    this.timer = this.o.clock.setInterval(() => void this.tick(), Math.max(100, Math.floor(this.o.leaseMs / 3)));
  }

  /** Clean stop: the partitions are released at once, so the other nodes take them over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    for (const p of [...this.owned]) {
      this.drop(p);
      await this.o.redis.eval(RELEASE, 1, this.o.keys.lease(p), this.o.nodeId).catch(() => undefined);
    }
  }

  private drop(p: number): void {
    if (!this.owned.delete(p)) return;
    this.o.onLost(p);
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      await this.renew();
      const live = Math.max(1, await this.o.liveNodes());
      const share = Math.ceil(this.o.partitions / live);
      await this.release(share);
      await this.acquire(share);
    } catch (err) {
      // Redis unreachable: what is held is dropped before it can expire and be taken by another node
      if (this.o.clock.now() - this.lastRenewed > (this.o.leaseMs * 2) / 3 && this.owned.size) {
        this.o.logger.warn(
          { err: (err as Error).message, partitions: this.owned.size },
          'rule partition leases could not be renewed; giving them up',
        );
        for (const p of [...this.owned]) this.drop(p);
      }
    } finally {
      this.ticking = false;
    }
  }

  private async renew(): Promise<void> {
    const held = [...this.owned, ...this.adopting];
    const started = this.o.clock.now();
    if (held.length) {
      const result = (await this.o.redis.eval(
        RENEW,
        held.length,
        ...held.map((p) => this.o.keys.lease(p)),
        this.o.nodeId,
        String(this.o.leaseMs),
      )) as number[];
      held.forEach((p, i) => {
        if (result[i] === 1 || !this.owned.has(p)) return;
        this.o.logger.warn({ partition: p }, 'rule partition lease lost to another node');
        this.drop(p);
      });
    }
    this.lastRenewed = started;
  }

  private async release(share: number): Promise<void> {
    const extra = this.owned.size - share;
    if (extra <= 0) return;
    for (const p of this.list().slice(-extra)) {
      this.drop(p);
      await this.o.redis.eval(RELEASE, 1, this.o.keys.lease(p), this.o.nodeId);
    }
    this.o.logger.info({ released: extra, share }, 'rule partitions handed to other nodes');
  }

  private async acquire(share: number): Promise<void> {
    let want = share - this.owned.size - this.adopting.size;
    if (want <= 0) return;
    const all = Array.from({ length: this.o.partitions }, (_, p) => p);
    const holders = await this.o.redis.mget(...all.map((p) => this.o.keys.lease(p)));
    // start at a place of its own so nodes starting together do not all race for partition 0
    const offset = hashOf(this.o.nodeId) % this.o.partitions;
    const taken: number[] = [];
    for (let i = 0; i < all.length && want > 0; i++) {
      const p = (i + offset) % this.o.partitions;
      if (holders[p] !== null || this.owned.has(p) || this.adopting.has(p)) continue;
      const ok = await this.o.redis.set(this.o.keys.lease(p), this.o.nodeId, 'PX', this.o.leaseMs, 'NX');
      if (ok !== 'OK') continue;
      want--;
      taken.push(p);
      this.adopting.add(p);
    }
    for (const p of taken) {
      try {
        await this.o.onAcquired(p);
        if (!this.stopped) this.owned.add(p);
      } catch (err) {
        // not taken over: give it back for another node (or the next tick) to try
        this.o.logger.warn({ partition: p, err: (err as Error).message }, 'rule partition could not be taken over');
        await this.o.redis.eval(RELEASE, 1, this.o.keys.lease(p), this.o.nodeId).catch(() => undefined);
      } finally {
        this.adopting.delete(p);
      }
    }
    if (taken.length) this.o.logger.info({ partitions: taken, owned: this.owned.size }, 'rule partitions taken over');
  }
}

function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}
