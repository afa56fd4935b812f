import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { type CameraEvent, type DeviceStatusEvent, IngestEvents, type ReadingEvent } from '../ingest/ingest-events.ts';
import type { ClusterKeys } from './partition-map.ts';

/** An ingest event on its way to the node that owns its partition (pub/sub JSON). */
type RoutedBody =
  | { readonly t: 'readings'; readonly v: readonly ReadingEvent[] }
  | { readonly t: 'status'; readonly v: DeviceStatusEvent }
  | { readonly t: 'camera'; readonly v: CameraEvent };
type Routed = RoutedBody & { readonly id: string };

/** copies remembered to evaluate an event once that reached this node on two channels */
const RECENT_IDS = 10_000;

export interface PartitionRouterOptions {
  /** the node's command connection (PUBLISH, HSET) */
  readonly redis: Redis;
  /** a connection of its own for SUBSCRIBE */
  readonly subscriber: Redis;
  readonly keys: ClusterKeys;
  readonly nodeId: string;
  /** the partitions whose rules a sensor's events feed (its own first, then those of rules across sensors) */
  readonly partitionsOf: (sensorId: string) => readonly number[];
  /** what this node's ingest emits (every device connected here) */
  readonly local: IngestEvents;
  /** the alerts engine's clock: when a device was last seen, as its no-data rules count */
  readonly clock: Clock;
  /** real time, for flushing last-seen times to Redis */
  readonly timers: Clock;
  readonly logger: Pick<Logger, 'warn'>;
  /** counts events sent to, and received from, another node (/metrics) */
  readonly counted: (direction: 'forwarded' | 'received', n: number) => void;
}

/**
 * Hands every ingest event to the alerts engine of the node that owns the event's rule partition
 * (docs/cluster.md): events of a partition this node owns go straight to `events` (what the alerts engine
 * listens to); the others are published on the partition's channel, which only its owner subscribes to.
 * While a partition is being taken over, its events wait, so the new owner evaluates them after its state.
 * The owner also keeps, per partition, when each device was last heard of, for the next owner's no-data rules.
 */
export class PartitionRouter {
  readonly events = new IngestEvents();
  private readonly owned = new Set<number>();
  private readonly waiting = new Map<number, Routed[]>();
  private readonly seen = new Map<number, Map<string, number>>();
  private flushTimer: TimerHandle | undefined;
  private readonly recent = new Set<string>();
  private sent = 0;

  constructor(private readonly o: PartitionRouterOptions) {
    this.events.on('error', (err: Error) => o.logger.warn({ err }, 'a routed ingest event listener failed'));
    o.subscriber.on('message', (channel: string, message: string) => this.receive(channel, message));
  }

  owns(p: number): boolean {
    return this.owned.has(p);
  }

  start(): void {
    this.o.local.on('readings', this.onReadings);
    this.o.local.on('status', this.onStatus);
    this.o.local.on('cameraEvent', this.onCamera);
    this.flushTimer = this.o.timers.setInterval(() => void this.flushSeen(), 1000);
  }

  async stop(): Promise<void> {
    this.o.local.off('readings', this.onReadings);
    this.o.local.off('status', this.onStatus);
    this.o.local.off('cameraEvent', this.onCamera);
    this.flushTimer?.cancel();
    await this.flushSeen().catch(() => undefined);
  }

  /** The partition is being taken over: its events from now on wait for `adopted`. */
  async adopting(p: number): Promise<void> {
    this.waiting.set(p, []);
    await this.o.subscriber.subscribe(this.o.keys.input(p));
  }

  /** Taken over: the waiting events are evaluated, in order, and the next ones at once. */
  adopted(p: number): void {
    const queued = this.waiting.get(p) ?? [];
    this.waiting.delete(p);
    this.owned.add(p);
    // an event waiting on two partitions is delivered once both are taken over
    for (const routed of queued) if (![...this.waiting.values()].some((q) => q.includes(routed))) this.deliver(routed);
  }

  /** Not this node's any more: its events go to the channel again. */
  released(p: number): void {
    this.owned.delete(p);
    this.waiting.delete(p);
    this.seen.delete(p);
    void this.o.subscriber.unsubscribe(this.o.keys.input(p)).catch(() => undefined);
  }

  private readonly onReadings = (readings: readonly ReadingEvent[]): void => {
    // a publish carries one sensor's readings as a rule; split anyway, by the partitions they feed
    const bySensor = new Map<string, ReadingEvent[]>();
    for (const r of readings) {
      const list = bySensor.get(r.sensorId) ?? [];
      list.push(r);
      bySensor.set(r.sensorId, list);
    }
    for (const [sensorId, list] of bySensor) this.route(sensorId, { t: 'readings', v: list });
  };

  private readonly onStatus = (event: DeviceStatusEvent): void => this.route(event.sensorId, { t: 'status', v: event });

  private readonly onCamera = (event: CameraEvent): void => this.route(event.sensorId, { t: 'camera', v: event });

  /**
   * An event feeds its sensor's partition and, through rules across sensors, maybe others: it is evaluated
   * once per node that owns any of them (the engine gates what it raises by partition), so a copy carries an
   * id and a node that gets it on two channels evaluates it once.
   */
  private route(sensorId: string, event: RoutedBody): void {
    const routed: Routed = { ...event, id: `${this.o.nodeId}:${++this.sent}` };
    let here = false;
    for (const p of this.o.partitionsOf(sensorId)) {
      if (this.owned.has(p) || this.waiting.has(p)) {
        here = true;
        continue;
      }
      this.o.counted('forwarded', 1);
      this.o.redis.publish(this.o.keys.input(p), JSON.stringify(routed)).catch((err: unknown) => {
        this.o.logger.warn({ err, partition: p }, 'an ingest event could not be forwarded to its partition owner');
      });
    }
    if (here) this.arrive(sensorId, routed);
  }

  private receive(channel: string, message: string): void {
    let routed: Routed;
    try {
      routed = JSON.parse(message) as Routed;
    } catch {
      this.o.logger.warn({ channel }, 'an unreadable routed ingest event was dropped');
      return;
    }
    this.o.counted('received', 1);
    this.arrive(routed.t === 'readings' ? (routed.v[0]?.sensorId ?? '') : routed.v.sensorId, routed);
  }

  /** evaluated now, or after the take-over of a partition it feeds that is under way; once per copy id */
  private arrive(sensorId: string, routed: Routed): void {
    if (this.recent.has(routed.id)) return;
    this.recent.add(routed.id);
    if (this.recent.size > RECENT_IDS) this.recent.delete(this.recent.values().next().value!);
    for (const p of this.o.partitionsOf(sensorId)) {
      const queue = this.waiting.get(p);
      if (queue) {
        queue.push(routed);
        return;
      }
    }
    if (this.o.partitionsOf(sensorId).some((p) => this.owned.has(p))) this.deliver(routed);
  }

  private deliver(routed: Routed): void {
    const now = this.o.clock.now();
    if (routed.t === 'readings') {
      for (const r of routed.v) this.remember(r.sensorId, now);
      this.events.emit('readings', routed.v);
    } else if (routed.t === 'status') {
      if (routed.v.status === 'online') this.remember(routed.v.sensorId, now);
      this.events.emit('status', routed.v);
    } else {
      this.remember(routed.v.sensorId, now);
      this.events.emit('cameraEvent', routed.v);
    }
  }

  /** only for a sensor of a partition this node owns: its silence is that partition's no-data rules' */
  private remember(sensorId: string, ts: number): void {
    const p = this.o.partitionsOf(sensorId)[0]!;
    if (!this.owned.has(p)) return;
    const map = this.seen.get(p) ?? new Map<string, number>();
    this.seen.set(p, map);
    map.set(sensorId, ts);
  }

  /** at most once a second per partition: the owner's last-seen times, for the next owner */
  private async flushSeen(): Promise<void> {
    if (this.seen.size === 0) return;
    const batch = this.o.redis.pipeline();
    for (const [p, map] of this.seen) {
      batch.hset(this.o.keys.seen(p), Object.fromEntries([...map].map(([id, ts]) => [id, String(ts)])));
    }
    this.seen.clear();
    await batch.exec();
  }
}
