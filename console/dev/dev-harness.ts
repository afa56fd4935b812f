/**
 * A development and load harness for the console ONLY: serves the console with a synthetic copy of the
 * platform API (the spec in docs/console.md), a fleet of N sensors and alerts at R per second. It lets
 * the front end be worked on, and its smoothness measured at 5,000 sensors and 100 alerts/s, without a
 * whole platform. The console's tests run against the real platform (test-support/platform-harness.ts).
 *
 *   npx tsx console/dev/dev-harness.ts --sensors 5000 --alerts-per-second 100 --port 8090
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { Alert, AlertEvent, Severity } from '../../alerts/alert-model.ts';
import { CONFIG_DIR } from '../../config/platform-config.ts';
import { loadCity } from '../../config/city-config.ts';
import { buildConsole } from '../build-console.ts';
import { createConsolePlugin } from '../console-plugin.ts';

export const DEV_TOKEN = 'dev-operator-token';
const SEVERITIES: Severity[] = ['critical', 'high', 'medium', 'low', 'informational'];
const HOUR = 3600_000;

export interface DevHarness {
  url: string;
  app: FastifyInstance;
  sensorIds: string[];
  raise(sensorId: string, severity: Severity): Alert;
  close(): Promise<void>;
}

export async function startDevHarness(
  opts: { sensors?: number; alertsPerSecond?: number; port?: number; minify?: boolean } = {},
): Promise<DevHarness> {
  const city = loadCity(join(CONFIG_DIR, 'cities/hue/city.yaml'), join(CONFIG_DIR, 'kinds'));
  const boundary = JSON.parse(readFileSync(city.boundaryFile!, 'utf8')) as unknown;
  const sensors = city.sensors.map((s) => ({
    ...s,
    status: 'online' as 'online' | 'offline',
    lastSeen: Date.now(),
    latest: {} as Record<string, { value: number; ts: number }>,
  }));
  const kinds = ['air', 'water', 'traffic', 'camera'];
  for (let i = sensors.length; i < (opts.sensors ?? sensors.length); i++) {
    const kind = kinds[i % 4]!;
    sensors.push({
      id: `${kind}-synthetic-${i}`,
      kind,
      name: `Synthetic ${kind} ${i}`,
      lat: 16.3 + ((i * 7919) % 3000) / 10000,
      lon: 107.45 + ((i * 104729) % 3500) / 10000,
      district: `Phường ${i % 40}`,
      tags: {},
      status: 'online',
      lastSeen: Date.now(),
      latest: {},
    });
  }
  const byId = new Map(sensors.map((s) => [s.id, s]));
  sensors[3]!.status = 'offline';
  const metricFor = (kind: string) => (kind === 'air' ? 'pm25' : kind === 'water' ? 'waterLevel' : 'intensity');
  const sample = (kind: string, t: number) => {
    const phase = Math.sin(t / (3 * HOUR));
    return kind === 'air' ? 35 + 25 * phase : kind === 'water' ? 1.2 + 0.6 * phase : 800 + 400 * phase;
  };
  let stored = 0;
  const tickReadings = () => {
    const now = Date.now();
    for (const s of sensors) {
      if (s.status === 'offline') continue;
      s.latest[metricFor(s.kind)] = { value: Math.round(sample(s.kind, now + s.lat * 1e6) * 100) / 100, ts: now };
      if (s.kind === 'air')
        s.latest.vnAqi = { value: Math.round(40 + 90 * Math.abs(Math.sin(s.lon * 1e3 + now / HOUR))), ts: now };
      stored += 2;
    }
  };
  tickReadings();

  const alerts = new Map<string, Alert>();
  const clients = new Set<WebSocket>();
  let seq = 0;
  const emit = (type: AlertEvent['type'], alert: Alert) => {
    const msg = JSON.stringify({ type: 'event', event: { seq: ++seq, type, ts: Date.now(), alert } });
    for (const ws of clients) ws.send(msg);
  };
  const raise = (sensorId: string, severity: Severity): Alert => {
    const s = byId.get(sensorId)!;
    const now = Date.now();
    const metric = metricFor(s.kind);
    const threshold = s.kind === 'water' ? 2 : s.kind === 'air' ? 50 : 1500;
    const value = Math.round(threshold * 1.15 * 100) / 100;
    const alert: Alert = {
      id: randomUUID(),
      ruleId: `${s.kind}-threshold`,
      sensorId,
      kind: s.kind,
      district: s.district,
      severity,
      category: s.kind === 'water' ? 'naturalDisaster' : s.kind === 'traffic' ? 'traffic' : 'environment',
      subCategory: s.kind === 'water' ? 'flood' : s.kind === 'traffic' ? 'trafficJam' : 'airPollution',
      state: 'firing',
      title: {
        vi:
          s.kind === 'water'
            ? 'Mực nước vượt báo động II'
            : s.kind === 'air'
              ? 'Bụi PM2.5 vượt ngưỡng'
              : 'Ùn tắc giao thông',
        en:
          s.kind === 'water'
            ? 'Water level above alarm level II'
            : s.kind === 'air'
              ? 'PM2.5 above threshold'
              : 'Traffic congestion',
      },
      message: { vi: `${metric} ${value} vượt ngưỡng ${threshold}`, en: `${metric} ${value} above ${threshold}` },
      metric,
      value,
      threshold,
      unit: s.kind === 'water' ? 'm' : s.kind === 'air' ? 'ug/m3' : '{vehicle}/h',
      location: { lat: s.lat, lon: s.lon },
      startsAt: now - 60_000,
      firingAt: now,
      updatedAt: now,
    };
    alerts.set(alert.id, alert);
    emit('firing', alert);
    return alert;
  };
  raise('water-kimlong', 'critical');
  raise('air-dongba', 'high');
  raise('traffic-truongtien', 'medium');

  const app = Fastify({ logger: false });
  await app.register(fastifyWebsocket);
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/api/') && req.url !== '/metrics') return;
    const q = new URL(req.url, 'http://x').searchParams.get('token');
    if (req.headers.authorization !== `Bearer ${DEV_TOKEN}` && q !== DEV_TOKEN)
      await reply.code(401).send({ code: 'invalid_token', message: 'the token is not valid' });
  });
  await app.register(
    createConsolePlugin({
      ...(opts.minify === false ? { bundle: buildConsole({ minify: false }) } : {}),
      auth: { authenticate: () => ({ role: 'operator', name: 'operator' }) },
    }),
  );
  app.get('/api/city', async () => ({
    id: city.id,
    name: city.name,
    timezone: city.timezone,
    center: city.center,
    zoom: city.zoom,
    boundaryAttribution: city.boundaryAttribution,
  }));
  app.get('/api/city/boundary', async () => boundary);
  app.get(
    '/api/city/rivers',
    async (_req, reply) =>
      city.rivers ?? reply.code(404).send({ code: 'no_rivers', message: 'the city config has no rivers file' }),
  );
  app.get('/api/sensors', async () => ({ sensors }));
  app.get<{ Params: { id: string } }>('/api/sensors/:id', async (req, reply) => {
    const s = byId.get(req.params.id);
    if (!s) return reply.code(404).send({ code: 'not_found', message: 'no such sensor' });
    const kind = city.kinds.get(s.kind)!;
    return {
      ...s,
      metrics: Object.values(kind.metrics).map((m) => ({
        name: m.name,
        unit: m.unit,
        label: m.label,
        min: m.min,
        max: m.max,
      })),
    };
  });
  app.get<{ Params: { id: string }; Querystring: { metric: string; from: string; to: string } }>(
    '/api/sensors/:id/readings',
    async (req) => {
      const s = byId.get(req.params.id)!;
      const to = Date.parse(req.query.to),
        from = Date.parse(req.query.from);
      const points = [];
      for (let t = from - (from % 300_000); t <= to; t += 300_000)
        points.push({ ts: t, value: Math.round(sample(s.kind, t + s.lat * 1e6) * 100) / 100 });
      return {
        sensorId: s.id,
        metric: req.query.metric,
        unit: req.query.metric === 'waterLevel' ? 'm' : 'ug/m3',
        fn: 'mean',
        every: '5m',
        points,
      };
    },
  );
  app.get('/api/readings/latest', async () => ({
    readings: sensors.flatMap((s) =>
      Object.entries(s.latest).map(([metric, v]) => ({
        sensorId: s.id,
        kind: s.kind,
        district: s.district,
        metric,
        ts: v.ts,
        value: v.value,
      })),
    ),
  }));
  app.get('/metrics', async (_req, reply) =>
    reply
      .type('text/plain')
      .send(`# TYPE ioc_readings_stored_total counter\nioc_readings_stored_total{store="embedded"} ${stored}\n`),
  );
  app.get('/api/alerts', async () => ({ alerts: [...alerts.values()] }));
  for (const action of ['ack', 'resolve'] as const) {
    app.post<{ Params: { id: string }; Body: { note?: string } }>(`/api/alerts/:id/${action}`, async (req, reply) => {
      const a = alerts.get(req.params.id);
      if (!a) return reply.code(404).send({ code: 'not_found', message: 'no such alert' });
      const now = Date.now();
      const next: Alert =
        action === 'ack'
          ? {
              ...a,
              state: 'acknowledged',
              acknowledgedAt: now,
              acknowledgedBy: 'operator',
              ackNote: req.body?.note,
              updatedAt: now,
            }
          : {
              ...a,
              state: 'resolved',
              resolvedAt: now,
              resolvedBy: 'operator',
              resolveNote: req.body?.note,
              updatedAt: now,
            };
      alerts.set(a.id, next);
      emit(action === 'ack' ? 'acknowledged' : 'resolved', next);
      return next;
    });
  }
  app.get('/api/alerts/stream', { websocket: true }, (socket) => {
    clients.add(socket);
    socket.send(
      JSON.stringify({ type: 'snapshot', alerts: [...alerts.values()].filter((a) => a.state !== 'resolved') }),
    );
    socket.on('close', () => clients.delete(socket));
  });

  const timers: ReturnType<typeof setInterval>[] = [setInterval(tickReadings, 5000)];
  const rate = opts.alertsPerSecond ?? 0;
  if (rate > 0) {
    let i = 0;
    timers.push(
      setInterval(() => {
        for (let k = 0; k < rate / 10; k++) raise(sensors[(i++ * 31) % sensors.length]!.id, SEVERITIES[i % 5]!);
      }, 100),
    );
  }
  const url = await app.listen({ port: opts.port ?? 0, host: '127.0.0.1' });
  return {
    url,
    app,
    raise,
    sensorIds: sensors.map((s) => s.id),
    async close() {
      for (const t of timers) clearInterval(t);
      await app.close();
    },
  };
}

if (process.argv[1]?.endsWith('dev-harness.ts')) {
  const { values } = parseArgs({
    options: { sensors: { type: 'string' }, 'alerts-per-second': { type: 'string' }, port: { type: 'string' } },
  });
  const harness = await startDevHarness({
    sensors: Number(values.sensors ?? 0) || undefined,
    alertsPerSecond: Number(values['alerts-per-second'] ?? 0),
    port: Number(values.port ?? 8090),
  });
  console.log(`console dev harness at ${harness.url}  token: ${DEV_TOKEN}`);
}
