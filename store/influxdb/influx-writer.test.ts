import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { influxConfig } from './influx-test-helpers.ts';
import { InfluxWriter, refusedCount } from './influx-writer.ts';

// The writer's contract with the client library, against a scripted HTTP server: it resolves only after
// every batch was answered 204, retries what the library retries, and fails what it cannot retry.
type Reply = (body: string, res: ServerResponse) => void;

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function scripted(replies: Reply[]): Promise<{ url: string; bodies: string[]; paths: string[] }> {
  const bodies: string[] = [];
  const paths: string[] = [];
  let n = 0;
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      bodies.push(body);
      paths.push(req.url ?? '');
      const reply = replies[Math.min(n++, replies.length - 1)]!;
      reply(body, res);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, bodies, paths };
}

const ok: Reply = (_b, res) => res.writeHead(204).end();
const unavailable: Reply = (_b, res) =>
  res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy"}');
const points = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    measurement: 'air',
    tags: { sensorId: 's' },
    fields: { pm25: i },
    ts: 1000 + i,
  }));

describe('InfluxWriter', () => {
  it('splits a write into batches on /write with ms precision and resolves once all are stored', async () => {
    const s = await scripted([ok]);
    const writer = new InfluxWriter(influxConfig({ url: s.url, database: 'city', batchSize: 4 }));
    expect(await writer.write(points(10))).toEqual({ written: 10, rejected: 0 });
    expect(s.bodies.map((b) => b.split('\n').length)).toEqual([4, 4, 2]);
    expect(s.paths.every((p) => p === '/write?db=city&precision=ms')).toBe(true);
  });

  it('does not resolve before the server answers', async () => {
    let answer: (() => void) | undefined;
    const s = await scripted([
      (_b, res) => {
        answer = () => res.writeHead(204).end();
      },
    ]);
    const writer = new InfluxWriter(influxConfig({ url: s.url }));
    let resolved = false;
    const write = writer.write(points(3)).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(resolved).toBe(false);
    answer!();
    await write;
    expect(resolved).toBe(true);
  });

  it('retries a 503 with backoff inside the write and then resolves', async () => {
    const s = await scripted([unavailable, unavailable, ok]);
    const writer = new InfluxWriter(influxConfig({ url: s.url, writeRetries: 2 }));
    expect(await writer.write(points(2))).toEqual({ written: 2, rejected: 0 });
    expect(s.bodies).toHaveLength(3);
  });

  it('fails once its retries are spent, so the feeder keeps the readings and retries later', async () => {
    const s = await scripted([unavailable]);
    const writer = new InfluxWriter(influxConfig({ url: s.url, writeRetries: 1 }));
    await expect(writer.write(points(2))).rejects.toMatchObject({ failure: 'server', status: 503 });
    expect(s.bodies).toHaveLength(2);
  });

  it('fails at once on refused credentials and on a missing database', async () => {
    const denied = await scripted([
      (_b, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"authorization failed"}'),
    ]);
    await expect(new InfluxWriter(influxConfig({ url: denied.url })).write(points(1))).rejects.toThrow(
      /refused the write \(401\): authorization failed/,
    );
    expect(denied.bodies).toHaveLength(1);
  });

  it('sends the v2 write with the token to /api/v2/write', async () => {
    const s = await scripted([ok]);
    const writer = new InfluxWriter(influxConfig({ url: s.url, token: 't0k', org: 'hue', bucket: 'ioc' }));
    await writer.write(points(1));
    expect(s.paths).toEqual(['/api/v2/write?org=hue&bucket=ioc&precision=ms']);
  });
});

describe('refused writes', () => {
  it('counts the points a 400 refused', () => {
    expect(
      refusedCount('{"error":"partial write: field type conflict: input field \\"pm25\\" ... dropped=3"}', 10),
    ).toBe(3);
    expect(
      refusedCount('{"error":"partial write: unable to parse \'a,t=1 v=1 1x\': bad timestamp dropped=0"}', 10),
    ).toBe(1);
    expect(refusedCount('{"error":"request refused"}', 10)).toBe(10);
  });
});
