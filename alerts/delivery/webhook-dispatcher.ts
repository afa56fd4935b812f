import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../../core/clock.ts';
import type { AlertEvent } from '../alert-model.ts';
import { silentLogger, type DeliveryLogger } from './delivery-logger.ts';
import { createWebhookConnector, WebhookRefusedError, type WebhookConnector } from './webhook-connect.ts';
import { displayUrl, signWebhookBody, targetWants, type WebhookTarget } from './webhook-target.ts';

export type DeliveryStatus = 'delivered' | 'retrying' | 'failed' | 'dropped';

/** One attempt (or a drop), as GET /api/webhooks/deliveries shows it. */
export interface DeliveryAttempt {
  deliveryId: string;
  target: string;
  seq: number;
  alertId: string;
  eventType: AlertEvent['type'];
  attempt: number;
  at: number;
  status: DeliveryStatus;
  httpStatus?: number;
  error?: string;
  durationMs?: number;
  nextAttemptAt?: number;
}

export interface WebhookTargetStatus {
  id: string;
  url: string;
  filter: WebhookTarget['filter'];
  events?: WebhookTarget['events'];
  queued: number;
  delivered: number;
  failed: number;
  dropped: number;
  /** deliveries not attempted: the target's address is refused (config/webhook-address-policy.ts) */
  refused: number;
  lastSuccessAt?: number;
  lastFailureAt?: number;
}

export interface WebhookDispatcherOptions {
  targets: readonly WebhookTarget[];
  bus: EventEmitter<{ alert: [AlertEvent] }>;
  clock: Clock;
  logger?: DeliveryLogger;
  /** Per target; past it new events are dropped (and shown as dropped) instead of growing memory. */
  maxQueue?: number;
  /** Attempts per delivery, the first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How many recent attempts the status API keeps. */
  historySize?: number;
  /** [0, 1): spreads retries (±20 %) so receivers coming back are not hit by every sender at once. */
  random?: () => number;
}

interface Delivery {
  id: string;
  event: AlertEvent;
  attempt: number;
}
interface TargetState {
  target: WebhookTarget;
  url: string;
  queue: Delivery[];
  busy: boolean;
  retryTimer?: TimerHandle;
  abort?: AbortController;
  connector: WebhookConnector;
  /** the refusal is logged once per target and reason, not once per event */
  refusalLogged?: string;
  counts: Pick<WebhookTargetStatus, 'delivered' | 'failed' | 'dropped' | 'refused' | 'lastSuccessAt' | 'lastFailureAt'>;
}
interface Outcome {
  ok: boolean;
  retryable: boolean;
  refused?: boolean;
  httpStatus?: number;
  error?: string;
  retryAfterMs?: number;
}

export const WEBHOOK_USER_AGENT = 'ioc-platform-webhooks/1';

/**
 * Signed webhooks: each target has its own FIFO queue and one request in flight, so a receiver that is down
 * delays only itself, and its events still arrive in seq order. Retries back off exponentially on the Clock.
 * Deliveries live in memory: they are at-least-once while the process runs (receivers dedupe by the
 * delivery id); after a restart the REST API and the CAP feed are the way to catch up.
 */
export class WebhookDispatcher {
  private readonly states: TargetState[];
  private readonly history: DeliveryAttempt[] = [];
  private readonly logger: DeliveryLogger;
  private readonly maxQueue: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly historySize: number;
  private readonly random: () => number;
  private running = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.logger = options.logger ?? silentLogger;
    this.maxQueue = options.maxQueue ?? 1000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 5 * 60_000;
    this.historySize = options.historySize ?? 500;
    this.random = options.random ?? Math.random;
    const ids = new Set<string>();
    for (const t of options.targets) {
      if (ids.has(t.id)) throw new Error(`webhook target "${t.id}" is defined twice`);
      ids.add(t.id);
    }
    this.states = options.targets.map((target) => newState(target));
  }

  /** listens even with no target: one may be added at run time (webhook-target-store.ts) */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.options.bus.on('alert', this.onEvent);
  }

  /** a target added at run time: it gets the events from now on (an id already present is replaced) */
  addTarget(target: WebhookTarget): void {
    this.removeTarget(target.id);
    this.states.push(newState(target));
  }

  /** a target removed at run time: its queue is dropped, a request in flight aborted */
  removeTarget(id: string): void {
    const i = this.states.findIndex((s) => s.target.id === id);
    if (i < 0) return;
    const [state] = this.states.splice(i, 1);
    state!.retryTimer?.cancel();
    state!.queue.length = 0;
    state!.abort?.abort();
    state!.connector.close();
  }

  /** Stops taking events, cancels retries and aborts requests in flight; queued deliveries are lost. */
  async stop(): Promise<void> {
    this.running = false;
    this.options.bus.off('alert', this.onEvent);
    for (const s of this.states) {
      s.retryTimer?.cancel();
      s.abort?.abort();
    }
    await this.idle();
    for (const s of this.states) s.connector.close();
  }

  /** Newest first. */
  deliveries(filter: { target?: string; status?: DeliveryStatus; limit?: number } = {}): DeliveryAttempt[] {
    const out: DeliveryAttempt[] = [];
    for (let i = this.history.length - 1; i >= 0 && out.length < (filter.limit ?? this.historySize); i--) {
      const a = this.history[i]!;
      if (filter.target && a.target !== filter.target) continue;
      if (filter.status && a.status !== filter.status) continue;
      out.push(a);
    }
    return out;
  }

  targets(): WebhookTargetStatus[] {
    return this.states.map((s) => ({
      id: s.target.id,
      url: s.url,
      filter: s.target.filter,
      events: s.target.events,
      queued: s.queue.length,
      ...s.counts,
    }));
  }

  /** Resolves when no request is in flight (retries may still be scheduled). */
  idle(): Promise<void> {
    if (this.states.every((s) => !s.abort)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private readonly onEvent = (event: AlertEvent): void => {
    for (const state of this.states) {
      if (!targetWants(state.target, event)) continue;
      const delivery: Delivery = { id: randomUUID(), event, attempt: 0 };
      if (state.queue.length >= this.maxQueue) {
        state.counts.dropped++;
        this.record(state, delivery, { status: 'dropped', error: `queue full (${this.maxQueue} waiting)` });
        this.logger.warn({ target: state.target.id, seq: event.seq }, 'webhook queue full: event dropped');
        continue;
      }
      state.queue.push(delivery);
      this.pump(state);
    }
  };

  private pump(state: TargetState): void {
    if (!this.running || state.busy) return;
    const delivery = state.queue[0];
    if (!delivery) return;
    state.busy = true;
    void this.attempt(state, delivery);
  }

  private async attempt(state: TargetState, delivery: Delivery): Promise<void> {
    delivery.attempt++;
    const started = this.options.clock.now();
    const outcome = await this.post(state, delivery);
    const durationMs = Math.max(0, this.options.clock.now() - started);
    state.abort = undefined;
    if (this.states.every((s) => !s.abort)) for (const w of this.idleWaiters.splice(0)) w();
    if (!this.running || !this.states.includes(state)) {
      // stop() or removeTarget() aborted it: not the receiver's failure, and nothing more will be sent.
      state.busy = false;
      return;
    }
    const details = { httpStatus: outcome.httpStatus, error: outcome.error, durationMs };
    if (outcome.ok) {
      state.queue.shift();
      state.counts.delivered++;
      state.counts.lastSuccessAt = this.options.clock.now();
      this.record(state, delivery, { status: 'delivered', ...details });
    } else if (outcome.retryable && delivery.attempt < this.maxAttempts) {
      const delay = this.retryDelay(delivery.attempt, outcome.retryAfterMs);
      const nextAttemptAt = this.options.clock.now() + delay;
      this.record(state, delivery, { status: 'retrying', nextAttemptAt, ...details });
      state.retryTimer = this.options.clock.setTimeout(() => {
        state.retryTimer = undefined;
        state.busy = false;
        this.pump(state);
      }, delay);
      return;
    } else {
      state.queue.shift();
      state.counts.failed++;
      if (outcome.refused) state.counts.refused++;
      state.counts.lastFailureAt = this.options.clock.now();
      this.record(state, delivery, { status: 'failed', ...details });
      if (outcome.refused) {
        if (state.refusalLogged !== outcome.error)
          this.logger.warn({ target: state.target.id, url: state.url, error: outcome.error }, 'webhook target refused');
        state.refusalLogged = outcome.error;
      } else
        this.logger.warn({ target: state.target.id, seq: delivery.event.seq, ...details }, 'webhook delivery failed');
    }
    state.busy = false;
    this.pump(state);
  }

  private async post(state: TargetState, delivery: Delivery): Promise<Outcome> {
    const { target } = state;
    const timestamp = Math.floor(this.options.clock.now() / 1000);
    const body = JSON.stringify({ id: delivery.id, timestamp, event: delivery.event });
    const abort = new AbortController();
    state.abort = abort;
    let timedOut = false;
    const timer = this.options.clock.setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, target.timeoutMs);
    try {
      const response = await state.connector.post(target.url, {
        body,
        signal: abort.signal,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': WEBHOOK_USER_AGENT,
          'x-ioc-delivery': delivery.id,
          'x-ioc-event': delivery.event.type,
          'x-ioc-timestamp': String(timestamp),
          'x-ioc-signature': signWebhookBody(target.secret, body),
        },
      });
      const status = response.status;
      if (status >= 200 && status < 300) return { ok: true, retryable: false, httpStatus: status };
      const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
      return {
        ok: false,
        retryable,
        httpStatus: status,
        error: `HTTP ${status}`,
        retryAfterMs: parseRetryAfter(response.retryAfter, this.options.clock.now()),
      };
    } catch (err) {
      if (err instanceof WebhookRefusedError)
        return { ok: false, retryable: false, refused: true, error: `refused: ${err.message}` };
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      const error = timedOut
        ? `timeout after ${target.timeoutMs} ms`
        : `${err instanceof Error ? err.message : String(err)}${cause}`;
      return { ok: false, retryable: true, error };
    } finally {
      timer.cancel();
    }
  }

  private retryDelay(attempt: number, retryAfterMs: number | undefined): number {
    const backoff = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    const jittered = Math.round(backoff * (0.8 + 0.4 * this.random()));
    return retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, this.maxDelayMs));
  }

  private record(
    state: TargetState,
    delivery: Delivery,
    result: Omit<DeliveryAttempt, 'deliveryId' | 'target' | 'seq' | 'alertId' | 'eventType' | 'attempt' | 'at'>,
  ): void {
    const clean = Object.fromEntries(Object.entries(result).filter(([, v]) => v !== undefined)) as typeof result;
    this.history.push({
      deliveryId: delivery.id,
      target: state.target.id,
      seq: delivery.event.seq,
      alertId: delivery.event.alert.id,
      eventType: delivery.event.type,
      attempt: delivery.attempt,
      at: this.options.clock.now(),
      ...clean,
    });
    if (this.history.length > this.historySize) this.history.splice(0, this.history.length - this.historySize);
  }
}

function newState(target: WebhookTarget): TargetState {
  return {
    target,
    url: displayUrl(target.url),
    queue: [],
    busy: false,
    connector: createWebhookConnector(target.allowPrivate),
    counts: { delivered: 0, failed: 0, dropped: 0, refused: 0 },
  };
}

/** Retry-After in seconds or as an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
