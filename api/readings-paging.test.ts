import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

interface ReadingsPage {
  points: Array<{ ts: number; value: number }>;
  truncated: boolean;
  nextFrom?: number;
}

describe('raw readings in pages', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('says a range holds more than the limit and pages through it with nextFrom, every sample once', async () => {
    const start = Date.now() - 60_000;
    const device = await p.connectDevice('air-benhvien');
    const sent = Array.from({ length: 25 }, (_, i) => ({ ts: start + i * 1000, pm25: i }));
    await publishAcked(device, 'ioc/air/air-benhvien/readings', JSON.stringify(sent));
    const to = start + 25_000;
    const seen: number[] = [];
    let from = start;
    const pages: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await p.request(
        'GET',
        `/api/sensors/air-benhvien/readings?metric=pm25&from=${from}&to=${to}&limit=10`,
      );
      expect(res.status).toBe(200);
      const page = res.json as ReadingsPage;
      seen.push(...page.points.map((s) => s.value));
      pages.push(page.truncated);
      if (!page.truncated) {
        expect(page.nextFrom).toBeUndefined();
        break;
      }
      expect(page.nextFrom).toBe(page.points[page.points.length - 1]!.ts + 1000);
      from = page.nextFrom!;
    }
    expect(pages).toEqual([true, true, false]);
    expect(seen).toEqual(sent.map((s) => s.pm25));
  });

  it('answers latest values from memory at once, the newest per metric', async () => {
    const device = await p.connectDevice('air-ngomon');
    const now = Date.now();
    await publishAcked(
      device,
      'ioc/air/air-ngomon/readings',
      JSON.stringify([
        { ts: now - 2000, pm25: 40, pm10: 50 },
        { ts: now - 1000, pm25: 41 },
      ]),
    );
    const res = await p.request('GET', '/api/readings/latest?kind=air');
    const mine = (
      res.json as { readings: Array<{ sensorId: string; metric: string; ts: number; value: number }> }
    ).readings.filter((r) => r.sensorId === 'air-ngomon');
    expect(mine).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ metric: 'pm25', ts: now - 1000, value: 41 }),
        expect.objectContaining({ metric: 'pm10', ts: now - 2000, value: 50 }),
      ]),
    );
    const sensor = await p.request('GET', '/api/sensors/air-ngomon');
    expect((sensor.json as { latest: Record<string, { value: number }> }).latest.pm25).toEqual({
      value: 41,
      ts: now - 1000,
    });
  });
});
