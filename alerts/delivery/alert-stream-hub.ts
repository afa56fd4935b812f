import { WebSocket, type RawData } from 'ws';
import type { Clock, TimerHandle } from '../../core/clock.ts';
import type { Alert, AlertEvent } from '../alert-model.ts';
import type { AlertFeed } from './alert-feed.ts';
import { matchesFilter, type AlertFilter } from './alert-filter.ts';
import {
  CLOSE_CODES,
  MAX_CLIENT_MESSAGE_BYTES,
  clientMessageSchema,
  type ServerMessage,
} from './alert-stream-protocol.ts';
import { silentLogger, type DeliveryLogger } from './delivery-logger.ts';

export interface AlertStreamHubOptions {
  feed: AlertFeed;
  clock: Clock;
  logger?: DeliveryLogger;
  /** A client whose socket has more than this queued is dropped (close 4008) instead of slowing the rest. */
  maxBufferedBytes?: number;
  /** Every interval each client is pinged; one that has not answered the previous ping is terminated. */
  heartbeatIntervalMs?: number;
  /** How long a dropped client gets to complete the close handshake before its socket is destroyed. */
  closeGraceMs?: number;
  maxClients?: number;
  /**
   * At most this many events in one `resume` (a cluster's Redis is asked for no more), and at most
   * `maxBufferedBytes` of them: a client that missed more gets a snapshot, as when the feed no longer holds
   * them. One frame of every kept event, each with its alert's whole workflow log, could reach a gigabyte.
   */
  maxResumeEvents?: number;
}

export interface StreamClientMeta {
  filter: AlertFilter;
  /** who connected (the operator's user name), for logs */
  user?: string;
  /** the seq of the last event the client has (`?since=`): it gets what followed instead of a snapshot */
  since?: number;
}

interface StreamClient {
  readonly id: number;
  readonly socket: WebSocket;
  readonly user: string | undefined;
  filter: AlertFilter;
  /** Alerts this client holds: it keeps receiving their events to resolution even if they stop matching. */
  readonly held: Set<string>;
  alive: boolean;
  closing: boolean;
  /** the seq its last snapshot reflects: events up to it are in the snapshot and not sent again */
  snapshotSeq: number;
  /** while the events after its `since` are read: the live events held back meanwhile */
  resuming: AlertEvent[] | undefined;
}

export interface AlertStreamStats {
  clients: number;
  connected: number;
  droppedSlow: number;
  droppedDead: number;
  eventsSeen: number;
  lastSeq: number;
}

const byStart = (a: Alert, b: Alert): number => a.startsAt - b.startsAt || a.id.localeCompare(b.id);

/**
 * Fans alert events out to WebSocket clients. It knows `ws` but not Fastify: the route authenticates and
 * hands over the socket. Events raised together (one reading crossing flood levels I and II, a burst) are
 * sent together: the bus's events are collected until the current job ends and each client gets one frame
 * with the ones that match its filter (`event` for one, `events` for several). A frame is serialised once
 * per distinct set of events, not once per client, so 1,000 clients cost one JSON.stringify and 1,000
 * socket writes per burst, not per event.
 */
export class AlertStreamHub {
  private readonly clients = new Map<number, StreamClient>();
  private readonly logger: DeliveryLogger;
  private readonly maxBufferedBytes: number;
  private readonly heartbeatIntervalMs: number;
  private readonly closeGraceMs: number;
  private readonly maxClients: number;
  private readonly maxResumeEvents: number;
  private heartbeat: TimerHandle | undefined;
  private stopResync: (() => void) | undefined;
  private nextId = 1;
  private started = false;
  private counters = { connected: 0, droppedSlow: 0, droppedDead: 0, eventsSeen: 0, lastSeq: 0 };
  private pending: AlertEvent[] = [];
  private flushQueued = false;

  constructor(private readonly options: AlertStreamHubOptions) {
    this.logger = options.logger ?? silentLogger;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 30_000;
    this.closeGraceMs = options.closeGraceMs ?? 5_000;
    this.maxClients = options.maxClients ?? 10_000;
    this.maxResumeEvents = options.maxResumeEvents ?? 1000;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.options.feed.bus.on('alert', this.onEvent);
    // a feed that lost events (a cluster node behind the stream's trimming) took its view anew: so do the clients
    this.stopResync = this.options.feed.onResync?.(() => {
      for (const client of this.clients.values()) this.sendSnapshot(client);
    });
    this.heartbeat = this.options.clock.setInterval(this.beat, this.heartbeatIntervalMs);
  }

  /** Stops delivery and closes every client with 1001 (going away). */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    this.options.feed.bus.off('alert', this.onEvent);
    this.stopResync?.();
    this.heartbeat?.cancel();
    for (const client of [...this.clients.values()]) this.drop(client, CLOSE_CODES.goingAway, 'server shutting down');
  }

  stats(): AlertStreamStats {
    return { clients: this.clients.size, ...this.counters };
  }

  /** Takes over an open socket: sends the snapshot at once, then live events. Returns the client id. */
  attach(socket: WebSocket, meta: StreamClientMeta): number | undefined {
    if (!this.started) {
      socket.close(CLOSE_CODES.goingAway, 'server shutting down');
      return undefined;
    }
    if (this.clients.size >= this.maxClients) {
      socket.close(CLOSE_CODES.tryAgainLater, `too many clients (${this.maxClients})`);
      return undefined;
    }
    const client: StreamClient = {
      id: this.nextId++,
      socket,
      user: meta.user,
      filter: meta.filter,
      held: new Set(),
      alive: true,
      closing: false,
      snapshotSeq: 0,
      resuming: undefined,
    };
    this.clients.set(client.id, client);
    this.counters.connected++;
    socket.on('pong', () => {
      client.alive = true;
    });
    socket.on('message', (data, isBinary) => this.onMessage(client, data, isBinary));
    socket.on('close', () => this.clients.delete(client.id));
    socket.on('error', (err) => {
      this.logger.warn({ clientId: client.id, err: err.message }, 'alert stream socket error');
      socket.terminate();
    });
    // The snapshot reflects every event announced so far (lastSeq); events still waiting for the next
    // flush are sent only if newer: none falls between the two, and none is sent twice.
    if (meta.since !== undefined && this.options.feed.since) this.resume(client, meta.since);
    else this.sendSnapshot(client);
    return client.id;
  }

  /**
   * A client that reconnects with the seq of the last event it has gets the events after it, in order, once
   * (`resume`), then the live ones; when the feed no longer holds them all, a snapshot as on a first connect.
   * Live events that arrive while the missed ones are read are held back, then merged by seq.
   */
  private resume(client: StreamClient, since: number): void {
    const backlog: AlertEvent[] = [];
    client.resuming = backlog;
    const fallBack = () => {
      client.resuming = undefined;
      this.sendSnapshot(client);
    };
    this.options.feed.since!(since, this.maxResumeEvents)
      .then(({ events, complete }) => {
        // closed meanwhile, or a `subscribe` asked for a snapshot instead
        if (client.resuming !== backlog || !this.clients.has(client.id)) return;
        if (!complete || events.length > this.maxResumeEvents) return fallBack();
        client.resuming = undefined;
        const bySeq = new Map<number, AlertEvent>();
        for (const event of [...events, ...backlog]) if (event.seq > since) bySeq.set(event.seq, event);
        const missed = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
        client.held.clear();
        for (const alert of this.options.feed.open()) {
          if (matchesFilter(alert, client.filter)) client.held.add(alert.id);
        }
        client.snapshotSeq = since;
        const mine = this.select(client, missed);
        client.snapshotSeq = Math.max(since, missed.at(-1)?.seq ?? since);
        // serialised event by event, so that too much is noticed before it is all in one string
        const texts: string[] = [];
        let bytes = 0;
        for (const event of mine) {
          const text = JSON.stringify(event);
          bytes += Buffer.byteLength(text) + 1;
          if (bytes > this.maxBufferedBytes) return fallBack();
          texts.push(text);
        }
        const head = JSON.stringify({ type: 'resume', since, seq: client.snapshotSeq }).slice(0, -1);
        this.sendFrame(client, Buffer.from(`${head},"events":[${texts.join(',')}]}`));
      })
      // a failure here, the feed's or the resume's own, must not go unhandled (it would end the process)
      .catch((err: Error) => {
        this.logger.warn({ clientId: client.id, err: err.message }, 'alert stream: cannot resume, sending a snapshot');
        if (!this.clients.has(client.id) || (client.resuming !== backlog && client.resuming !== undefined)) return;
        try {
          fallBack();
        } catch {
          this.drop(client, CLOSE_CODES.tryAgainLater, 'cannot resume');
        }
      });
  }

  /** the events a client gets, in order: newer than what it has, matching its filter or about an alert it holds */
  private select(client: StreamClient, events: readonly AlertEvent[]): AlertEvent[] {
    const mine: AlertEvent[] = [];
    for (const event of events) {
      if (event.seq <= client.snapshotSeq) continue;
      const { alert } = event;
      const held = client.held.has(alert.id);
      if (!held && !matchesFilter(alert, client.filter)) continue;
      if (event.type === 'resolved') client.held.delete(alert.id);
      else if (!held) client.held.add(alert.id);
      mine.push(event);
    }
    return mine;
  }

  private readonly onEvent = (event: AlertEvent): void => {
    this.counters.eventsSeen++;
    this.counters.lastSeq = Math.max(this.counters.lastSeq, event.seq);
    this.pending.push(event);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flush);
    }
  };

  private readonly flush = (): void => {
    this.flushQueued = false;
    const events = this.pending;
    this.pending = [];
    const frames = new Map<string, Buffer>();
    for (const client of this.clients.values()) {
      if (client.resuming) {
        client.resuming.push(...events);
        continue;
      }
      const mine = this.select(client, events);
      if (mine.length === 0) continue;
      const key = mine.length === events.length ? '*' : mine.map((e) => e.seq).join(',');
      let frame = frames.get(key);
      if (!frame) {
        const message: ServerMessage =
          mine.length === 1 ? { type: 'event', event: mine[0]! } : { type: 'events', events: mine };
        frame = Buffer.from(JSON.stringify(message));
        frames.set(key, frame);
      }
      this.sendFrame(client, frame);
    }
  };

  private sendSnapshot(client: StreamClient): void {
    const alerts = this.options.feed
      .open()
      .filter((a) => matchesFilter(a, client.filter))
      .sort(byStart);
    client.held.clear();
    for (const alert of alerts) client.held.add(alert.id);
    client.resuming = undefined;
    // after a restart the hub has seen no event yet: the feed knows the newest seq
    const seq = Math.max(this.counters.lastSeq, this.options.feed.lastSeq ?? 0);
    client.snapshotSeq = seq;
    this.send(client, { type: 'snapshot', seq, alerts });
  }

  private send(client: StreamClient, message: ServerMessage): void {
    this.sendFrame(client, Buffer.from(JSON.stringify(message)));
  }

  private sendFrame(client: StreamClient, frame: Buffer): void {
    const { socket } = client;
    if (client.closing || socket.readyState !== WebSocket.OPEN) return;
    // bufferedAmount counts what ws and the kernel-bound stream still hold for this client: a consumer that
    // stops reading makes it grow, and past the limit it is cut loose rather than buffered without bound.
    const queued = socket.bufferedAmount;
    if (queued > this.maxBufferedBytes) {
      this.counters.droppedSlow++;
      this.logger.warn({ clientId: client.id, user: client.user, queued }, 'alert stream: slow consumer dropped');
      this.drop(client, CLOSE_CODES.slowConsumer, `slow consumer: ${queued} bytes queued`);
      return;
    }
    socket.send(frame, { binary: false });
  }

  private onMessage(client: StreamClient, data: RawData, isBinary: boolean): void {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (isBinary || buf.length > MAX_CLIENT_MESSAGE_BYTES) {
      this.send(client, {
        type: 'error',
        code: 'invalid_message',
        message: 'expected a JSON text message (at most 16 KiB)',
      });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(buf.toString('utf8'));
    } catch {
      this.send(client, { type: 'error', code: 'invalid_json', message: 'message is not valid JSON' });
      return;
    }
    const message = clientMessageSchema.safeParse(parsed);
    if (!message.success) {
      const issue = message.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      this.send(client, {
        type: 'error',
        code: 'invalid_message',
        message: `${where}${issue?.message ?? 'invalid message'}`,
      });
      return;
    }
    if (message.data.type === 'ping') {
      this.send(client, { type: 'pong', ts: this.options.clock.now() });
      return;
    }
    client.filter = message.data.filter;
    this.sendSnapshot(client);
  }

  private readonly beat = (): void => {
    for (const client of [...this.clients.values()]) {
      if (client.closing) continue;
      if (!client.alive) {
        // A dead peer cannot take part in a close handshake: destroy the socket.
        this.counters.droppedDead++;
        this.logger.info({ clientId: client.id, user: client.user }, 'alert stream: no pong, connection terminated');
        this.clients.delete(client.id);
        client.socket.terminate();
        continue;
      }
      client.alive = false;
      try {
        client.socket.ping();
      } catch {
        client.socket.terminate();
      }
    }
  };

  private drop(client: StreamClient, code: number, reason: string): void {
    client.closing = true;
    this.clients.delete(client.id);
    const { socket } = client;
    if (socket.readyState === WebSocket.CLOSED) return;
    socket.close(code, reason);
    // The close frame waits behind whatever is queued for a slow client; do not wait for it forever.
    const grace = this.options.clock.setTimeout(() => {
      if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
    }, this.closeGraceMs);
    socket.once('close', () => grace.cancel());
  }
}
