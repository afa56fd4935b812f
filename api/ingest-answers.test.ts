import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { answerIngest } from './ingest-answer.ts';
import type { RejectionCode } from '../ingest/rejection.ts';

/** HTTP ingestion says with its status whether all, part or none was accepted (issue 14 item 7). */
describe('HTTP ingest answers', () => {
  let p: TestPlatform;
  let auth: string;
  beforeAll(async () => {
    p = await startTestPlatform({ overrides: { mqtt: { port: 0, host: '127.0.0.1', maxPayloadBytes: 1024 } } });
    auth = `Basic ${Buffer.from(`air-gahue:${p.devicePassword('air-gahue')}`).toString('base64')}`;
  });
  afterAll(async () => {
    await p?.stop();
  });

  const post = (path: string, body: unknown) =>
    p.request('POST', path, { token: null, headers: { authorization: auth }, body });
  const stored = (metric: string, ts: number) =>
    p
      .request('GET', `/api/sensors/air-gahue/readings?metric=${metric}&from=${ts}&to=${ts + 1}`)
      .then((r) => (r.json as { points: unknown[] }).points);

  it('answers 200 with the count when everything is accepted, once it is durable', async () => {
    const ts = Date.now() - 5000;
    const res = await post('/api/ingest/air/air-gahue/readings', [
      { ts, pm25: 12 },
      { ts: ts + 1000, pm25: 13 },
    ]);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ accepted: 2, rejected: [] });
    expect(await stored('pm25', ts)).toEqual([{ ts, value: 12 }]);
  });

  it('answers 207 with each refused item when part is accepted; the rest is stored', async () => {
    const ts = Date.now() - 7000;
    const res = await post('/api/ingest/air/air-gahue/readings', [
      { ts, pm10: 40 },
      { ts: ts + 1, pm10: 9999 },
      { ts: 'yesterday', pm10: 1 },
    ]);
    expect(res.status).toBe(207);
    expect(res.json).toEqual({
      accepted: 1,
      rejected: [
        expect.objectContaining({ code: 'out_of_range', index: 1, metric: 'pm10' }),
        expect.objectContaining({ code: 'invalid_timestamp', index: 2 }),
      ],
    });
    expect(await stored('pm10', ts)).toEqual([{ ts, value: 40 }]);
  });

  it('answers 422 with the first code and every refusal when nothing is valid; nothing is stored', async () => {
    const ts = Date.now() - 9000;
    const res = await post('/api/ingest/air/air-gahue/readings', { ts, pm25: -1, no2: 'high' });
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({
      code: 'out_of_range',
      accepted: 0,
      rejected: [
        { code: 'out_of_range', metric: 'pm25' },
        { code: 'wrong_type', metric: 'no2' },
      ],
    });
    expect(await stored('pm25', ts)).toEqual([]);
    const wrongKind = await post('/api/ingest/water/air-gahue/readings', { waterLevel: 1 });
    expect(wrongKind.status).toBe(422);
    expect(wrongKind.json).toMatchObject({ code: 'kind_mismatch' });
    const badStatus = await post('/api/ingest/air/air-gahue/status', { status: 'sleeping' });
    expect(badStatus.status).toBe(422);
    expect(badStatus.json).toMatchObject({ code: 'invalid_status' });
  });

  it('answers 400 when the payload cannot be read, 413 when it is over the limit', async () => {
    const bad = await post('/api/ingest/air/air-gahue/readings', '{"pm25": 1');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({
      code: 'malformed_payload',
      accepted: 0,
      rejected: [{ code: 'malformed_payload' }],
    });
    const big = await post('/api/ingest/air/air-gahue/readings', JSON.stringify({ pm25: 1, pad: 'x'.repeat(2000) }));
    expect(big.status).toBe(413);
    expect(big.json).toMatchObject({ code: 'payload_too_large', accepted: 0 });
  });

  it('counts every refusal in /metrics under the same reason as MQTT', async () => {
    const metrics = await p.request('GET', '/metrics', { token: p.adminToken });
    expect(metrics.text).toMatch(/ioc_readings_rejected_total\{reason="out_of_range"\} [1-9]/);
    expect(metrics.text).toMatch(/ioc_readings_rejected_total\{reason="malformed_payload"\} [1-9]/);
  });
});

describe('answerIngest', () => {
  const codes: RejectionCode[] = [
    'malformed_payload',
    'topic_invalid',
    'out_of_range',
    'unknown_metric',
    'payload_too_large',
    'invalid_event',
  ];
  it('says all, part or none with its status for any outcome', () => {
    fc.assert(
      fc.property(
        fc.nat(50),
        fc.array(fc.record({ code: fc.constantFrom(...codes), message: fc.string() }), { maxLength: 5 }),
        (accepted, rejected) => {
          const answer = answerIngest({ accepted, rejected });
          if (accepted > 0) expect(answer.status).toBe(rejected.length ? 207 : 200);
          else expect([400, 413, 422]).toContain(answer.status);
          expect(answer.body.rejected).toHaveLength(rejected.length);
          if (answer.status >= 400)
            expect(answer.body).toMatchObject({ code: rejected[0]?.code ?? 'no_metrics', accepted: 0 });
        },
      ),
      { seed: 14_7, numRuns: 300 },
    );
  });
});
