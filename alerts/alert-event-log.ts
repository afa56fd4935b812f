import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { ProgressWaiters } from '../store/progress-waiters.ts';
import type { TimeSeriesStore } from '../store/time-series-store.ts';
import type { Alert, AlertEvent, AlertEventType } from './alert-model.ts';
import { eventToPoint } from './alert-journal.ts';
import { FlapLimiter } from './flap-limiter.ts';
import { entryKey } from './rule-engine.ts';

/**
 * The alert events: numbered, announced on `bus` the moment they are raised, and persisted to the store in
 * the background. Events are written in groups (whatever queued while the previous write was in flight goes
 * in the next one); `persisted(seq)` waits until an event is durable, so an operator action returns only
 * once its event is stored and a restart restores what was announced. A flapping (rule, sensor) pair's
 * changes are recorded but not announced (flap-limiter.ts).
 */
export class AlertEventLog {
  readonly bus = new EventEmitter<{ alert: [AlertEvent] }>();
  private seq = 0;
  private durableSeq = 0;
  private readonly points: ReturnType<typeof eventToPoint>[] = [];
  private writing: Promise<void> | undefined;
  private readonly waiters: ProgressWaiters;
  private readonly flaps: FlapLimiter;
  /** per (rule, sensor): the newest point's time, so two events in one millisecond stay two points */
  private readonly lastPointTs = new Map<string, number>();

  constructor(
    private readonly store: TimeSeriesStore,
    private readonly clock: Clock,
    private readonly logger: Pick<Logger, 'warn' | 'error'>,
    flap: { readonly transitions: number; readonly windowMs: number },
  ) {
    this.bus.setMaxListeners(100);
    this.waiters = new ProgressWaiters(clock);
    this.flaps = new FlapLimiter(flap);
  }

  /** the number of the newest event raised */
  get lastSeq(): number {
    return this.seq;
  }

  /** Continues after a restart: numbering from `seq`, points after the stored ones. */
  resume(seq: number, lastPointTs: ReadonlyMap<string, number>): void {
    this.seq = seq;
    this.durableSeq = seq;
    for (const [key, ts] of lastPointTs) this.lastPointTs.set(key, ts);
  }

  /** Raises an event: announced now (unless flapping), stored in the next group write. Returns its seq. */
  emit(type: AlertEventType, given: Alert): number {
    const now = this.clock.now();
    const key = entryKey(given.ruleId, given.sensorId);
    const announce = this.announceable(type, key, now);
    const alert: Alert = announce === 'flapping' ? { ...given, flapping: true } : given;
    const ts = Math.max(now, (this.lastPointTs.get(key) ?? -Infinity) + 1);
    this.lastPointTs.set(key, ts);
    const event: AlertEvent = { seq: ++this.seq, type, ts: now, alert };
    this.points.push(eventToPoint(event, ts));
    try {
      if (announce) this.bus.emit('alert', event);
    } catch (err) {
      this.logger.error({ err, seq: event.seq }, 'an alert listener threw');
    }
    this.writing ??= this.flush();
    return event.seq;
  }

  /** Resolves once event `seq` (and every one before it) is stored. */
  async persisted(seq: number): Promise<void> {
    await this.waiters.wait(this.durableSeq, seq);
  }

  /** Resolves once the write in flight (if any) and what queued behind it are done. */
  async drain(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** false: a flapping pair's change, recorded in the history but not announced */
  private announceable(type: AlertEventType, key: string, now: number): boolean | 'flapping' {
    if (type === 'pending' || type === 'firing' || type === 'resolved') {
      const verdict = this.flaps.observe(key, now);
      if (verdict === 'announce-flapping')
        this.logger.warn(
          { key },
          'alert flapping: further state changes are recorded but not announced until it settles',
        );
      return verdict === 'hold' ? false : verdict === 'announce-flapping' ? 'flapping' : true;
    }
    return !(type === 'updated' && this.flaps.isFlapping(key));
  }

  private async flush(): Promise<void> {
    while (this.points.length) {
      const batch = this.points.splice(0);
      const last = this.seq; // every event up to the newest is in this batch or an earlier one
      try {
        await this.store.write(batch);
      } catch (err) {
        // the operators heard of it already; the history misses it, which we say loudly
        this.logger.error({ err, count: batch.length }, 'alert events could not be stored');
      }
      this.durableSeq = last;
      this.waiters.reached(this.durableSeq);
    }
    this.writing = undefined;
  }
}
