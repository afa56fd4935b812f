import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createManualClock, systemClock, type Clock } from '../../config/clock.ts';
import type { Alert, AlertEvent } from '../alert-model.ts';
import type { AlertFeed } from './alert-feed.ts';
import { parseFilterQuery } from './alert-filter.ts';
import { makeAlert, makeEvent } from './alert-fixtures.ts';
import { AlertStreamHub, type AlertStreamHubOptions } from './alert-stream-hub.ts';
import type { ServerMessage } from './alert-stream-protocol.ts';

interface Harness {
  hub: AlertStreamHub;
  feed: AlertFeed & { alerts: Alert[]; emit(e: AlertEvent): void };
  connect(query?: string): Promise<TestClient>;
}
interface TestClient {
  ws: WebSocket;
  messages: ServerMessage[];
  closed: Promise<{ code: number; reason: string }>;
  next(predicate?: (m: ServerMessage) => boolean): Promise<ServerMessage>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function startHub(options: Partial<AlertStreamHubOptions> = {}, clock: Clock = systemClock): Promise<Harness> {
  const bus = new EventEmitter<{ alert: [AlertEvent] }>();
  const alerts: Alert[] = [];
  const feed = { bus, alerts, open: () => alerts.filter((a) => a.state !== 'resolved'), emit: (e: AlertEvent) => bus.emit('alert', e) };
  const hub = new AlertStreamHub({ feed, clock, ...options });
  hub.start();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  wss.on('connection', (socket, request) => {
    const query = Object.fromEntries(new URL(request.url ?? '/', 'http://x').searchParams);
    hub.attach(socket, { filter: parseFilterQuery(query), user: 'operator' });
  });
  const port = (wss.address() as AddressInfo).port;
  const sockets: WebSocket[] = [];
  cleanups.push(async () => {
    hub.stop();
    for (const s of sockets) s.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });
  const connect = async (query = ''): Promise<TestClient> => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/${query}`);
    sockets.push(ws);
    const messages: ServerMessage[] = [];
    const waiters: Array<{ predicate: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }> = [];
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      messages.push(message);
      for (const w of [...waiters]) {
        if (w.predicate(message)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(message);
        }
      }
    });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    await new Promise<void>((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    let seen = 0;
    const next = (predicate: (m: ServerMessage) => boolean = () => true): Promise<ServerMessage> => {
      const found = messages.slice(seen).find(predicate);
      if (found) {
        seen = messages.indexOf(found) + 1;
        return Promise.resolve(found);
      }
      return new Promise((resolve) => waiters.push({ predicate, resolve: (m) => { seen = messages.length; resolve(m); } }));
    };
    return { ws, messages, closed, next };
  };
  return { hub, feed, connect };
}

const eventSeqs = (messages: ServerMessage[]): number[] =>
  messages.flatMap((m) => (m.type === 'event' ? [m.event.seq] : []));

describe('AlertStreamHub', () => {
  it('sends the open alerts that match, then matching events in seq order', async () => {
    const { feed, connect } = await startHub();
    const flood = makeAlert({ kind: 'water', severity: 'high', district: 'Kim Long' });
    const air = makeAlert({ kind: 'air', severity: 'medium', district: 'Phú Xuân', sensorId: 'air-ngomon' });
    const old = makeAlert({ kind: 'water', state: 'resolved' });
    feed.alerts.push(flood, air, old);

    const all = await connect();
    const waterOnly = await connect('?kind=water');
    const snapshot = await all.next();
    expect(snapshot).toMatchObject({ type: 'snapshot' });
    expect(snapshot.type === 'snapshot' && snapshot.alerts.map((a) => a.id).sort()).toEqual([flood.id, air.id].sort());
    const waterSnapshot = await waterOnly.next();
    expect(waterSnapshot.type === 'snapshot' && waterSnapshot.alerts.map((a) => a.id)).toEqual([flood.id]);

    const events = [makeEvent('updated', flood), makeEvent('acknowledged', air), makeEvent('resolved', flood)];
    for (const e of events) feed.emit(e);
    await all.next((m) => m.type === 'event' && m.event.seq === events[2]!.seq);
    await waterOnly.next((m) => m.type === 'event' && m.event.seq === events[2]!.seq);
    expect(eventSeqs(all.messages)).toEqual(events.map((e) => e.seq));
    expect(eventSeqs(waterOnly.messages)).toEqual([events[0]!.seq, events[2]!.seq]);
  });

  it('filters by severity and district, matching district names however they are normalised', async () => {
    const { feed, connect } = await startHub();
    const decomposed = encodeURIComponent('Phú Xuân'.normalize('NFD'));
    const client = await connect(`?severity=high,critical&district=${decomposed}`);
    await client.next((m) => m.type === 'snapshot');
    const wanted = makeAlert({ severity: 'critical', district: 'Phú Xuân' });
    const lowSeverity = makeAlert({ severity: 'low', district: 'Phú Xuân' });
    const elsewhere = makeAlert({ severity: 'critical', district: 'Kim Long' });
    const events = [makeEvent('firing', lowSeverity), makeEvent('firing', elsewhere), makeEvent('firing', wanted)];
    for (const e of events) feed.emit(e);
    await client.next((m) => m.type === 'event' && m.event.alert.id === wanted.id);
    expect(eventSeqs(client.messages)).toEqual([events[2]!.seq]);
  });

  it('keeps delivering an alert the client holds until it resolves, even when it stops matching', async () => {
    const { feed, connect } = await startHub();
    const client = await connect('?severity=high');
    await client.next((m) => m.type === 'snapshot');
    const alert = makeAlert({ severity: 'high' });
    const downgraded = { ...alert, severity: 'medium' as const };
    const events = [makeEvent('firing', alert), makeEvent('updated', downgraded), makeEvent('resolved', { ...downgraded, state: 'resolved' })];
    const unrelated = makeEvent('firing', makeAlert({ severity: 'medium' }));
    for (const e of [...events, unrelated]) feed.emit(e);
    const probe = makeEvent('firing', makeAlert({ severity: 'high' }));
    feed.emit(probe);
    await client.next((m) => m.type === 'event' && m.event.seq === probe.seq);
    expect(eventSeqs(client.messages)).toEqual([...events.map((e) => e.seq), probe.seq]);
  });

  it('changes the filter on a subscribe message with a fresh snapshot, and answers bad messages with an error', async () => {
    const { feed, connect } = await startHub();
    const air = makeAlert({ kind: 'air', sensorId: 'air-ngomon' });
    feed.alerts.push(makeAlert({ kind: 'water' }), air);
    const client = await connect('?kind=water');
    await client.next((m) => m.type === 'snapshot');
    client.ws.send(JSON.stringify({ type: 'subscribe', filter: { kind: ['air'] } }));
    const snapshot = await client.next((m) => m.type === 'snapshot');
    expect(snapshot.type === 'snapshot' && snapshot.alerts.map((a) => a.id)).toEqual([air.id]);

    client.ws.send('not json');
    expect(await client.next((m) => m.type === 'error')).toMatchObject({ code: 'invalid_json' });
    client.ws.send(JSON.stringify({ type: 'subscribe', filter: { severity: ['apocalyptic'] } }));
    const error = await client.next((m) => m.type === 'error');
    expect(error).toMatchObject({ type: 'error', code: 'invalid_message' });
    expect(error.type === 'error' && error.message).toMatch(/^filter\.severity\.0: /);
    client.ws.send(JSON.stringify({ type: 'ping' }));
    expect(await client.next((m) => m.type === 'pong')).toMatchObject({ type: 'pong' });
  });

  it('drops a client that stops reading with 4008 and a reason, while the others receive every event', async () => {
    const clock = createManualClock();
    const { hub, feed, connect } = await startHub({ maxBufferedBytes: 256 * 1024 }, clock);
    const stalled = await connect();
    const healthy = await connect();
    await stalled.next((m) => m.type === 'snapshot');
    await healthy.next((m) => m.type === 'snapshot');
    stalled.ws.pause();

    const padding = 'x'.repeat(4000);
    const sent: number[] = [];
    // Batches paced by the healthy client: it reads as fast as the events come, the stalled one never does.
    for (let batch = 0; batch < 2000 && hub.stats().droppedSlow === 0; batch++) {
      let last = 0;
      for (let i = 0; i < 32; i++) {
        const event = makeEvent('updated', makeAlert({ ackNote: padding }));
        sent.push(event.seq);
        last = event.seq;
        feed.emit(event);
      }
      await healthy.next((m) => m.type === 'event' && m.event.seq === last);
    }
    expect(hub.stats().droppedSlow).toBe(1);
    expect(hub.stats().clients).toBe(1);
    const probe = makeEvent('firing', makeAlert());
    feed.emit(probe);
    await healthy.next((m) => m.type === 'event' && m.event.seq === probe.seq);
    expect(eventSeqs(healthy.messages)).toEqual([...sent, probe.seq]);

    stalled.ws.resume();
    const closed = await stalled.closed;
    expect(closed.code).toBe(4008);
    expect(closed.reason).toMatch(/^slow consumer: \d+ bytes queued$/);
  });

  it('terminates a connection that does not answer pings, and keeps one that does', async () => {
    const clock = createManualClock();
    const { hub, feed, connect } = await startHub({ heartbeatIntervalMs: 30_000 }, clock);
    const live = await connect();
    const dead = await connect();
    await live.next((m) => m.type === 'snapshot');
    await dead.next((m) => m.type === 'snapshot');
    dead.ws.pause();

    const pinged = new Promise<void>((resolve) => live.ws.once('ping', () => resolve()));
    clock.advance(30_000);
    await pinged;
    // ws answers a ping before emitting it; an app-level round trip after it proves the pong has arrived.
    live.ws.send(JSON.stringify({ type: 'ping' }));
    await live.next((m) => m.type === 'pong');
    clock.advance(30_000);

    expect(hub.stats()).toMatchObject({ clients: 1, droppedDead: 1 });
    dead.ws.resume();
    expect((await dead.closed).code).toBe(1006);
    const event = makeEvent('firing', makeAlert());
    feed.emit(event);
    await live.next((m) => m.type === 'event' && m.event.seq === event.seq);
  });

  it('refuses clients past maxClients with 1013 and closes everyone with 1001 on stop', async () => {
    const { hub, connect } = await startHub({ maxClients: 1 });
    const first = await connect();
    await first.next((m) => m.type === 'snapshot');
    const second = await connect();
    expect(await second.closed).toMatchObject({ code: 1013, reason: 'too many clients (1)' });
    hub.stop();
    expect(await first.closed).toMatchObject({ code: 1001, reason: 'server shutting down' });
  });
});
