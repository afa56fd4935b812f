import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  publishAcked,
  startTestPlatform,
  subscribeCollect,
  type TestPlatform,
} from '../test-support/platform-harness.ts';
import { varint } from '../test-support/raw-mqtt.ts';

describe('packet size limits', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('answers a payload over mqtt.maxPayloadBytes with a reason, keeping the connection', async () => {
    const device = await p.connectDevice('air-kimlong');
    const errors = await subscribeCollect(device, 'ioc/air/air-kimlong/errors');
    await publishAcked(device, 'ioc/air/air-kimlong/readings', JSON.stringify({ pm25: 1, pad: 'x'.repeat(100_000) }));
    expect(JSON.parse((await errors.next()).payload).errors[0]).toMatchObject({ code: 'payload_too_large' });
    expect(device.connected).toBe(true);
  });

  it('closes a connection once a packet header announces more than the hard cap, before buffering it', async () => {
    const device = await p.connectDevice('air-thuanan');
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    // a QoS 1 PUBLISH announcing 200 MB, followed by a few bytes: the broker must not wait for the rest
    device.stream.write(
      Buffer.concat([Buffer.from([0x32]), varint(200 * 1024 * 1024), Buffer.from([0, 4, 0x69, 0x6f, 0x63, 0x2f])]),
    );
    await closed;
    const other = await p.connectDevice('air-ngomon');
    await publishAcked(other, 'ioc/air/air-ngomon/readings', JSON.stringify({ pm25: 3 }));
    expect((await p.request('GET', '/api/health', { token: null })).json).toMatchObject({ status: 'ok' });
  });
});
