import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { AlertEvent } from '../alert-model.ts';
import { reading, startHarness, T0, type Harness as AlertsHarness } from '../alert-test-kit.ts';
import { parseFilterQuery } from './alert-filter.ts';
import { AlertStreamHub, type AlertStreamHubOptions } from './alert-stream-hub.ts';
import type { ServerMessage } from './alert-stream-protocol.ts';

/**
 * The hub over the real alerts engine (rules, lifecycle, SQLite store, simulated time) and real `ws`
 * clients on a real socket. Alerts come from readings crossing these rules.
 */
const RULES = [
  {
    id: 'flood-high',
    type: 'threshold',
    selector: { sensorIds: ['water-kimlong'] },
    metric: 'waterLevel',
    above: 2,
    severity: 'high',
    category: 'naturalDisaster',
    subCategory: 'flood',
  },
  {
    id: 'pm25-medium',
    type: 'threshold',
    selector: { kinds: ['air'] },
    metric: 'pm25',
    above: 100,
    severity: 'medium',
    category: 'environment',
    subCategory: 'airPollution',
  },
  {
    id: 'dongba-critical',
    type: 'threshold',
    selector: { sensorIds: ['air-dongba'] },
    metric: 'pm25',
    above: 300,
    severity: 'critical',
    category: 'environment',
    subCategory: 'airPollution',
  },
  {
    id: 'jam-low',
    type: 'threshold',
    selector: { kinds: ['traffic'] },
    metric: 'intensity',
    above: 1000,
    severity: 'low',
    category: 'traffic',
    subCategory: 'trafficJam',
  },
];

interface TestClient {
  ws: WebSocket;
  /** messages as received, with an `events` frame split into its `event`s (the protocol's meaning) */
  messages: ServerMessage[];
  /** the frames as they arrived */
  frames: ServerMessage[];
  closed: Promise<{ code: number; reason: string }>;
  next(predicate?: (m: ServerMessage) => boolean): Promise<ServerMessage>;
}
interface Harness {
  hub: AlertStreamHub;
  alerts: AlertsHarness;
  /** emits a reading as ingest does and waits until the alert events it raised are out */
  read(sensorId: string, values: Record<string, number>): Promise<AlertEvent[]>;
  connect(query?: string): Promise<TestClient>;
  /** a connection the server holds without attaching it to the hub (see `?hold`) */
  held: WebSocket[];
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function startHub(options: Partial<AlertStreamHubOptions> = {}): Promise<Harness> {
  const alerts = await startHarness(RULES);
  cleanups.push(() => alerts.close());
  const hub = new AlertStreamHub({ feed: alerts.service, clock: alerts.clock, ...options });
  hub.start();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  wss.on('connection', (socket, request) => {
    const query = Object.fromEntries(new URL(request.url ?? '/', 'http://x').searchParams);
    if ('hold' in query) {
      held.push(socket);
      return;
    }
    hub.attach(socket, { filter: parseFilterQuery(query), user: 'operator' });
  });
  const port = (wss.address() as AddressInfo).port;
  const held: WebSocket[] = [];
  const sockets: WebSocket[] = [];
  cleanups.push(async () => {
    hub.stop();
    for (const s of sockets) s.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });
  let tick = 0;
  const read = async (sensorId: string, values: Record<string, number>): Promise<AlertEvent[]> => {
    const before = alerts.seen.length;
    alerts.clock.advance(1000);
    alerts.events.emit('readings', [reading(sensorId, values, T0 + ++tick * 1000)]);
    await alerts.settle();
    return alerts.seen.slice(before);
  };
  const connect = async (query = ''): Promise<TestClient> => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/${query}`);
    sockets.push(ws);
    const messages: ServerMessage[] = [];
    const frames: ServerMessage[] = [];
    const waiters: Array<{ predicate: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }> = [];
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as ServerMessage;
      frames.push(frame);
      const parts: ServerMessage[] =
        frame.type === 'events' ? frame.events.map((event) => ({ type: 'event', event })) : [frame];
      for (const message of parts) {
        messages.push(message);
        for (const w of [...waiters]) {
          if (w.predicate(message)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(message);
          }
        }
      }
    });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    let seen = 0;
    const next = (predicate: (m: ServerMessage) => boolean = () => true): Promise<ServerMessage> => {
      const found = messages.slice(seen).find(predicate);
      if (found) {
        seen = messages.indexOf(found) + 1;
        return Promise.resolve(found);
      }
      return new Promise((resolve) =>
        waiters.push({
          predicate,
          resolve: (m) => {
            seen = messages.length;
            resolve(m);
          },
        }),
      );
    };
    return { ws, messages, frames, closed, next };
  };
  return { hub, alerts, read, connect, held };
}

const eventSeqs = (messages: ServerMessage[]): number[] =>
  messages.flatMap((m) => (m.type === 'event' ? [m.event.seq] : []));
const seqs = (events: AlertEvent[]): number[] => events.map((e) => e.seq);
const isSeq =
  (seq: number) =>
  (m: ServerMessage): boolean =>
    m.type === 'event' && m.event.seq === seq;
const last = (events: AlertEvent[]): number => events[events.length - 1]!.seq;

describe('AlertStreamHub', () => {
  it('sends the events one reading raised in one frame, each client only the ones that match', async () => {
    const { read, connect } = await startHub();
    const all = await connect();
    const critical = await connect('?severity=critical');
    await all.next((m) => m.type === 'snapshot');
    await critical.next((m) => m.type === 'snapshot');
    const raised = await read('air-dongba', { pm25: 350 }); // above both pm25-medium and dongba-critical
    expect(raised.map((e) => e.alert.ruleId).sort()).toEqual(['dongba-critical', 'pm25-medium']);
    await all.next(isSeq(last(raised)));
    const criticalEvent = raised.find((e) => e.alert.ruleId === 'dongba-critical')!;
    await critical.next(isSeq(criticalEvent.seq));
    expect(all.frames.at(-1)).toMatchObject({ type: 'events', events: raised.map((e) => ({ seq: e.seq })) });
    expect(critical.frames.at(-1)).toMatchObject({ type: 'event', event: { seq: criticalEvent.seq } });
  });

  it('does not send again an event that a snapshot taken before its frame went out already reflects', async () => {
    const { hub, alerts, connect, held } = await startHub();
    const holder = await connect('?hold');
    await vi.waitFor(() => expect(held).toHaveLength(1));
    const frames: ServerMessage[] = [];
    holder.ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as ServerMessage));
    // the reading raises its alert synchronously; the client attaches in the same job, before the flush
    alerts.clock.advance(1000);
    alerts.events.emit('readings', [reading('water-kimlong', { waterLevel: 2.6 }, T0 + 1000)]);
    hub.attach(held[0]!, { filter: {}, user: 'operator' });
    await alerts.settle();
    const flood = alerts.seen.at(-1)!;
    await vi.waitFor(() => expect(frames).toHaveLength(1));
    expect(frames[0]).toMatchObject({ type: 'snapshot', seq: flood.seq, alerts: [{ id: flood.alert.id }] });
    // the next event is delivered, the one in the snapshot was not
    const [resolved] = await (async () => {
      alerts.clock.advance(1000);
      alerts.events.emit('readings', [reading('water-kimlong', { waterLevel: 1 }, T0 + 2000)]);
      await alerts.settle();
      return alerts.seen.slice(-1);
    })();
    await vi.waitFor(() => expect(frames).toHaveLength(2));
    expect(frames[1]).toMatchObject({ type: 'event', event: { seq: resolved!.seq, type: 'resolved' } });
  });

  it('sends the open alerts that match, then matching events in seq order', async () => {
    const { alerts, read, connect } = await startHub();
    const [flood] = await read('water-kimlong', { waterLevel: 2.5 });
    const [air] = await read('air-ngomon', { pm25: 150 });
    await read('traffic-gahue', { intensity: 1500 });
    await read('traffic-gahue', { intensity: 200 });

    const all = await connect();
    const waterOnly = await connect('?kind=water');
    const snapshot = await all.next();
    expect(snapshot.type === 'snapshot' && snapshot.alerts.map((a) => a.id)).toEqual([flood!.alert.id, air!.alert.id]);
    expect(snapshot.type === 'snapshot' && snapshot.seq).toBe(alerts.seen.length);
    const waterSnapshot = await waterOnly.next();
    expect(waterSnapshot.type === 'snapshot' && waterSnapshot.alerts.map((a) => a.id)).toEqual([flood!.alert.id]);

    const resolved = await read('water-kimlong', { waterLevel: 1.2 });
    await alerts.service.acknowledge(air!.alert.id, 'operator');
    const acked = alerts.seen.slice(-1);
    const jam = await read('traffic-phuxuan', { intensity: 1800 });
    const events = [...resolved, ...acked, ...jam];
    expect(events.map((e) => e.type)).toEqual(['resolved', 'acknowledged', 'firing']);

    await all.next(isSeq(last(events)));
    await waterOnly.next(isSeq(resolved[0]!.seq));
    expect(eventSeqs(all.messages)).toEqual(seqs(events));
    expect(eventSeqs(waterOnly.messages)).toEqual(seqs(resolved));
  });

  it('filters by severity and district, matching district names however they are normalised', async () => {
    const { read, connect } = await startHub();
    const decomposed = encodeURIComponent('Phú Xuân'.normalize('NFD'));
    const client = await connect(`?severity=high,critical&district=${decomposed}`);
    await client.next((m) => m.type === 'snapshot');
    await read('water-kimlong', { waterLevel: 3 }); // high, but in Kim Long
    await read('air-ngomon', { pm25: 150 }); // Phú Xuân, but medium
    const dongba = await read('air-dongba', { pm25: 350 }); // Phú Xuân: medium and critical
    const critical = dongba.filter((e) => e.alert.severity === 'critical');
    expect(critical).toHaveLength(1);
    const probe = await read('air-dongba', { pm25: 20 });
    await client.next(isSeq(last(probe)));
    expect(eventSeqs(client.messages)).toEqual([
      critical[0]!.seq,
      ...seqs(probe.filter((e) => e.alert.severity === 'critical')),
    ]);
  });

  it('keeps delivering a held alert until it resolves, even when a rule change makes it stop matching', async () => {
    const { alerts, read, connect } = await startHub();
    const client = await connect('?severity=high');
    await client.next((m) => m.type === 'snapshot');
    const firing = await read('water-kimlong', { waterLevel: 3 });
    await alerts.service.rules.put({ ...RULES[0], severity: 'medium' }, 'admin');
    await alerts.settle();
    const updated = alerts.seen.slice(-1);
    expect(updated[0]).toMatchObject({ type: 'updated', alert: { severity: 'medium' } });
    const resolved = await read('water-kimlong', { waterLevel: 1 });
    await read('air-ngomon', { pm25: 150 }); // medium, never held: not sent
    const probe = await read('air-dongba', { pm25: 20 }); // nothing
    const flood2 = await read('water-kimlong', { waterLevel: 3 }); // medium now: not sent
    expect(probe).toEqual([]);
    expect(flood2.map((e) => e.alert.severity)).toEqual(['medium']);
    await client.next(isSeq(resolved[0]!.seq));
    client.ws.send(JSON.stringify({ type: 'ping' }));
    await client.next((m) => m.type === 'pong');
    expect(eventSeqs(client.messages)).toEqual(seqs([...firing, ...updated, ...resolved]));
  });

  it('changes the filter on a subscribe message, with a fresh snapshot; bad messages get an error', async () => {
    const { read, connect } = await startHub();
    await read('water-kimlong', { waterLevel: 3 });
    const [air] = await read('air-ngomon', { pm25: 150 });
    const client = await connect('?kind=water');
    await client.next((m) => m.type === 'snapshot');
    client.ws.send(JSON.stringify({ type: 'subscribe', filter: { kind: ['air'] } }));
    const snapshot = await client.next((m) => m.type === 'snapshot');
    expect(snapshot.type === 'snapshot' && snapshot.alerts.map((a) => a.id)).toEqual([air!.alert.id]);

    client.ws.send('not json');
    expect(await client.next((m) => m.type === 'error')).toMatchObject({ code: 'invalid_json' });
    client.ws.send(JSON.stringify({ type: 'subscribe', filter: { severity: ['apocalyptic'] } }));
    const error = await client.next((m) => m.type === 'error');
    expect(error).toMatchObject({ type: 'error', code: 'invalid_message' });
    expect(error.type === 'error' && error.message).toMatch(/^filter\.severity\.0: /);
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await client.next((m) => m.type === 'error')).toMatchObject({ code: 'invalid_message' });
    client.ws.send(JSON.stringify({ type: 'ping' }));
    expect(await client.next((m) => m.type === 'pong')).toMatchObject({ type: 'pong' });
  });

  it('drops a client that stops reading with 4008 and a reason, while the others receive every event', async () => {
    // Each read advances the simulated clock a second; with the default 30 s heartbeat the paused client
    // (which cannot answer pings) could be terminated as dead before its buffer passes the limit, a race
    // seen in CI. Heartbeats are tested on their own below.
    const { hub, read, connect } = await startHub({
      maxBufferedBytes: 256 * 1024,
      heartbeatIntervalMs: 24 * 3_600_000,
    });
    for (const s of [
      'air-ngomon',
      'air-dongba',
      'air-gahue',
      'air-ancuu',
      'air-benhvien',
      'air-phubai',
      'air-thuanan',
      'air-kimlong',
    ])
      await read(s, { pm25: 180 });
    const stalled = await connect();
    const healthy = await connect();
    const initial = await stalled.next((m) => m.type === 'snapshot');
    await healthy.next((m) => m.type === 'snapshot');
    const snapshotBytes = JSON.stringify(initial).length;
    stalled.ws.pause();

    // The stalled client keeps asking for snapshots and never reads them, while real events flow.
    const events: AlertEvent[] = [];
    const jams = [
      'traffic-truongtien',
      'traffic-phuxuan',
      'traffic-davien',
      'traffic-ancuu',
      'traffic-gahue',
      'traffic-phubai',
    ];
    for (let round = 0; round < 400 && hub.stats().droppedSlow === 0; round++) {
      for (let i = 0; i < 20; i++) stalled.ws.send(JSON.stringify({ type: 'subscribe', filter: {} }));
      events.push(...(await read(jams[round % jams.length]!, { intensity: round % 12 < 6 ? 1500 : 300 })));
    }
    expect(hub.stats().droppedSlow).toBe(1);
    expect(hub.stats().droppedDead).toBe(0);
    expect(hub.stats().clients).toBe(1);
    events.push(...(await read('water-kimlong', { waterLevel: 3 })));
    await healthy.next(isSeq(last(events)));
    expect(eventSeqs(healthy.messages)).toEqual(seqs(events));
    expect(snapshotBytes).toBeGreaterThan(4000);

    stalled.ws.resume();
    const closed = await stalled.closed;
    expect(closed.code).toBe(4008);
    expect(closed.reason).toMatch(/^slow consumer: \d+ bytes queued$/);
  });

  it('terminates a connection that does not answer pings, and keeps one that does', async () => {
    const { hub, alerts, read, connect } = await startHub({ heartbeatIntervalMs: 30_000 });
    const live = await connect();
    const dead = await connect();
    await live.next((m) => m.type === 'snapshot');
    await dead.next((m) => m.type === 'snapshot');
    dead.ws.pause();

    const pinged = new Promise<void>((resolve) => live.ws.once('ping', () => resolve()));
    alerts.clock.advance(30_000);
    await pinged;
    // ws answers a ping before emitting it; an app-level round trip after it proves the pong has arrived.
    live.ws.send(JSON.stringify({ type: 'ping' }));
    await live.next((m) => m.type === 'pong');
    alerts.clock.advance(30_000);

    expect(hub.stats()).toMatchObject({ clients: 1, droppedDead: 1 });
    dead.ws.resume();
    expect((await dead.closed).code).toBe(1006);
    const events = await read('water-kimlong', { waterLevel: 3 });
    await live.next(isSeq(last(events)));
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
