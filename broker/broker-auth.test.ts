import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  publishAcked,
  startTestPlatform,
  subscribeCollect,
  type TestPlatform,
} from '../test-support/platform-harness.ts';

/** Authentication and topic authorisation, with real clients over real sockets. */
describe('broker security', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  const tryConnect = (options: mqtt.IClientOptions) =>
    new Promise<{ ok: boolean; code?: number }>((resolve) => {
      const client = mqtt.connect(p.mqttUrl, { reconnectPeriod: 0, connectTimeout: 3000, ...options });
      client.once('connect', () => {
        client.end(true);
        resolve({ ok: true });
      });
      client.once('error', (err: Error & { code?: number }) => {
        client.end(true);
        resolve({ ok: false, code: err.code });
      });
    });

  it('refuses anonymous clients, wrong passwords and unknown users with CONNACK 4', async () => {
    expect(await tryConnect({})).toEqual({ ok: false, code: 4 });
    expect(await tryConnect({ username: 'air-ngomon', password: 'wrong' })).toEqual({ ok: false, code: 4 });
    expect(await tryConnect({ username: 'nobody', password: 'x' })).toEqual({ ok: false, code: 4 });
    expect(await tryConnect({ username: 'air-ngomon', password: p.devicePassword('air-kimlong') })).toEqual({
      ok: false,
      code: 4,
    });
    expect(
      await tryConnect({ username: 'air-ngomon', password: p.devicePassword('air-ngomon'), clientId: 'air-ngomon' }),
    ).toEqual({ ok: true });
  });

  it('lets an operator read every topic while a device only reads its own', async () => {
    const operator = await p.connectOperator();
    const all = await subscribeCollect(operator, 'ioc/#');
    const device = await p.connectDevice('water-phuoc');
    await expect(device.subscribeAsync('ioc/#')).rejects.toMatchObject({ packet: { granted: [128] } });
    const granted = await device.subscribeAsync('ioc/water/water-phuoc/errors');
    expect(granted.map((g) => g.qos)).toEqual([0]);
    await publishAcked(device, 'ioc/water/water-phuoc/readings', JSON.stringify({ waterLevel: 1.2 }));
    const seen = await all.next();
    expect(seen.topic).toBe('ioc/water/water-phuoc/readings');
  });

  it('does not let an operator publish readings', async () => {
    const operator = await p.connectOperator();
    const closed = new Promise<void>((resolve) => operator.once('close', () => resolve()));
    operator.publish('ioc/water/water-phuoc/readings', JSON.stringify({ waterLevel: 9 }), { qos: 1 });
    await closed;
  });

  it('refuses $SYS publishes and keeps the broker up', async () => {
    const device = await p.connectDevice('air-thuanan');
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    device.publish('$SYS/fake', 'x', { qos: 1 });
    await closed;
    expect((await p.request('GET', '/api/health')).status).toBe(200);
  });

  it('requires the operator token on operator endpoints and the admin role where asked', async () => {
    expect((await p.request('GET', '/api/sensors', { token: null })).json).toEqual({
      code: 'token_required',
      message: expect.stringContaining('Bearer'),
    });
    expect((await p.request('GET', '/api/sensors', { token: 'nope' })).status).toBe(401);
    expect((await p.request('GET', '/metrics', { token: null })).status).toBe(401);
    expect((await p.request('GET', '/api/sensors', { token: p.adminToken })).status).toBe(200);
    expect((await p.request('GET', '/api/health', { token: null })).status).toBe(200);
  });
});
