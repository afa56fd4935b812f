import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { publishAcked, startTestPlatform, type TestPlatform } from './test-support/platform-harness.ts';
import { httpsCall, makeTlsFixture, type TlsFixture } from './test-support/tls-fixture.ts';

/**
 * TLS on every listener, through real sockets with clients that trust only the platform's CA: MQTT over
 * TLS, HTTPS, WSS for the alert stream and for MQTT over WebSocket.
 */
describe('TLS listeners', () => {
  let tls: TlsFixture;
  let p: TestPlatform;
  beforeAll(async () => {
    tls = await makeTlsFixture();
    p = await startTestPlatform({ overrides: { tls: { cert: tls.files.cert, key: tls.files.key, mqttPort: 0 } } });
  });
  afterAll(async () => {
    await p?.stop();
    tls?.remove();
  });

  const connect = async (url: string, opts: mqtt.IClientOptions) => {
    const client = await mqtt.connectAsync(url, {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ca: tls.ca,
      rejectUnauthorized: true,
      ...opts,
    });
    return client;
  };

  it('stores a QoS 1 reading published over mqtts:// and serves it back over HTTPS', async () => {
    expect(p.mqttsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    expect(p.httpUrl).toMatch(/^https:\/\//);
    const device = await connect(p.mqttsUrl!, {
      username: 'air-ngomon',
      password: p.devicePassword('air-ngomon'),
      clientId: 'air-ngomon-tls',
    });
    try {
      const ts = Date.now() - 60_000;
      await publishAcked(device, 'ioc/air/air-ngomon/readings', JSON.stringify({ ts, pm25: 42.5 }));
      const res = await httpsCall(
        `${p.httpUrl}/api/sensors/air-ngomon/readings?metric=pm25&from=${ts - 1}&to=${ts + 1}`,
        tls.ca,
        { token: p.operatorToken },
      );
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ points: [{ ts, value: 42.5 }] });
    } finally {
      await device.endAsync();
    }
  });

  it('serves the API over HTTPS only, with the configured certificate', async () => {
    const health = await httpsCall(`${p.httpUrl}/api/health`, tls.ca);
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ broker: { ready: true } });
    // a client that does not trust the CA is refused by its own verification, not served
    await expect(fetch(`${p.httpUrl}/api/health`)).rejects.toThrow();
    // plaintext HTTP to the same port gets no HTTP answer
    await expect(fetch(`${p.httpUrl.replace('https:', 'http:')}/api/health`)).rejects.toThrow();
    const metrics = await httpsCall(`${p.httpUrl}/metrics`, tls.ca, { token: p.operatorToken });
    expect(metrics.text).toMatch(/^ioc_tls_handshake_failures_total\{listener="https"\} [1-9]/m);
  });

  it('streams alerts over WSS', async () => {
    const url = `${p.httpUrl.replace('https:', 'wss:')}/api/alerts/stream?token=${encodeURIComponent(p.operatorToken)}`;
    const ws = new WebSocket(url, { ca: tls.ca, rejectUnauthorized: true });
    try {
      const first = await new Promise<{ type: string }>((resolve, reject) => {
        ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()) as { type: string }));
        ws.once('error', reject);
      });
      expect(first.type).toBe('snapshot');
    } finally {
      ws.close();
    }
  });

  it('carries MQTT over WSS at /mqtt', async () => {
    expect(p.mqttWsUrl).toMatch(/^wss:\/\/.+\/mqtt$/);
    const device = await connect(p.mqttWsUrl, {
      username: 'water-kimlong',
      password: p.devicePassword('water-kimlong'),
      clientId: 'water-kimlong-wss',
    });
    try {
      const ts = Date.now() - 30_000;
      await publishAcked(device, 'ioc/water/water-kimlong/readings', JSON.stringify({ ts, waterLevel: 1.25 }));
      const res = await httpsCall(
        `${p.httpUrl}/api/sensors/water-kimlong/readings?metric=waterLevel&from=${ts - 1}&to=${ts + 1}`,
        tls.ca,
        { token: p.operatorToken },
      );
      expect(res.json).toMatchObject({ points: [{ ts, value: 1.25 }] });
    } finally {
      await device.endAsync();
    }
  });

  it('still takes plain MQTT on loopback, and refuses mqtts:// from a client without the CA', async () => {
    expect(p.mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:/);
    const plain = await p.connectDevice('air-ngomon');
    await publishAcked(plain, 'ioc/air/air-ngomon/readings', JSON.stringify({ pm25: 12 }));
    await expect(
      mqtt.connectAsync(p.mqttsUrl!, {
        reconnectPeriod: 0,
        connectTimeout: 5000,
        rejectUnauthorized: true,
        username: 'air-ngomon',
        password: p.devicePassword('air-ngomon'),
      }),
    ).rejects.toThrow(/certificate/i);
  });
});
