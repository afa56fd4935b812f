import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDevCertificates } from '../cli/tls-dev-cert.ts';
import { rotateDevice } from '../config/accounts/account-changes.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { capturingLogger, httpsCall, makeTlsFixture, type TlsFixture } from '../test-support/tls-fixture.ts';

/**
 * Devices log in over MQTT over TLS with a client certificate signed by tls.ca whose CN is their sensor id,
 * and no password. Certificates for unknown sensors, from another CA, or for another username are refused
 * at CONNECT, logged and counted, and change nothing.
 */
describe('device login by client certificate', () => {
  let tls: TlsFixture;
  let otherCa: TlsFixture;
  let p: TestPlatform;
  const log = capturingLogger();
  beforeAll(async () => {
    tls = await makeTlsFixture(['air-ngomon', 'no-such-sensor']);
    otherCa = await makeTlsFixture(['air-ngomon']);
    p = await startTestPlatform({
      logger: log.logger,
      overrides: { tls: { cert: tls.files.cert, key: tls.files.key, ca: tls.files.ca, mqttPort: 0 } },
    });
  });
  afterAll(async () => {
    await p?.stop();
    tls?.remove();
    otherCa?.remove();
  });

  /** resolves on CONNACK; rejects with the refusal, or when the connection closes before it */
  const connectWith = (pair: { cert: string; key: string }, opts: mqtt.IClientOptions = {}) =>
    new Promise<mqtt.MqttClient>((resolve, reject) => {
      const client = mqtt.connect(p.mqttsUrl!, {
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ca: tls.ca,
        rejectUnauthorized: true,
        ...pair,
        ...opts,
      });
      client.once('connect', () => resolve(client));
      client.once('error', (err) => {
        client.end(true);
        reject(err);
      });
      client.once('close', () => reject(new Error('connection closed before CONNACK')));
    });
  /** resolves on PUBACK; rejects when the broker refuses the publish or closes the connection */
  const publishOrClose = (client: mqtt.MqttClient, topic: string, payload: string) =>
    new Promise<void>((resolve, reject) => {
      client.once('close', () => reject(new Error('connection closed')));
      client.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve()));
    });
  const deniedConnects = async () => {
    const metrics = await httpsCall(`${p.httpUrl}/metrics`, tls.ca, { token: p.operatorToken });
    return Number(/^ioc_mqtt_denied_total\{action="connect"\} (\d+)/m.exec(metrics.text)?.[1] ?? 0);
  };
  const refusals = () => log.lines.filter((l) => l.msg === 'MQTT login refused: client certificate');

  it('authenticates a device certificate (CN = sensor id) with no password and stores what it publishes', async () => {
    const device = await connectWith(tls.device('air-ngomon'), { clientId: 'air-ngomon-cert' });
    try {
      const ts = Date.now() - 45_000;
      await publishAcked(device, 'ioc/air/air-ngomon/readings', JSON.stringify({ ts, pm25: 77 }));
      const res = await httpsCall(
        `${p.httpUrl}/api/sensors/air-ngomon/readings?metric=pm25&from=${ts - 1}&to=${ts + 1}`,
        tls.ca,
        { token: p.operatorToken },
      );
      expect(res.json).toMatchObject({ points: [{ ts, value: 77 }] });
      // the certificate makes it that device and no other: another sensor's topic is refused
      await expect(
        publishOrClose(device, 'ioc/air/air-hue-citadel/readings', JSON.stringify({ pm25: 1 })),
      ).rejects.toThrow();
    } finally {
      await device.endAsync(true).catch(() => undefined);
    }
  });

  it("binds a cert login to its sensor id like a password login: another sensor's clientId is refused", async () => {
    // air-hue-citadel's clientId would take over that device's session; the certificate says air-ngomon
    await expect(connectWith(tls.device('air-ngomon'), { clientId: 'air-hue-citadel' })).rejects.toThrow(
      /Identifier rejected/i,
    );
  });

  it('refuses a certificate whose CN is not a known sensor, logs it once and counts it', async () => {
    const before = await deniedConnects();
    const seen = refusals().length;
    await expect(connectWith(tls.device('no-such-sensor'))).rejects.toThrow(/Not authorized|refused/i);
    expect(await deniedConnects()).toBe(before + 1);
    expect(refusals().slice(seen)).toEqual([
      expect.objectContaining({ reason: 'client certificate CN "no-such-sensor" is not a known sensor' }),
    ]);
  });

  it('refuses a certificate from another CA, and a username that is not the CN', async () => {
    const seen = refusals().length;
    await expect(connectWith(otherCa.device('air-ngomon'))).rejects.toThrow(/Not authorized|refused/i);
    await expect(
      connectWith(tls.device('air-ngomon'), { username: 'water-kimlong', password: p.devicePassword('water-kimlong') }),
    ).rejects.toThrow(/Not authorized|refused/i);
    const reasons = refusals()
      .slice(seen)
      .map((l) => l.reason);
    expect(reasons).toEqual([
      expect.stringMatching(/^client certificate not trusted/),
      expect.stringMatching(/does not match the client certificate CN "air-ngomon"/),
    ]);
  });

  it('keeps password logins over TLS for clients without a certificate', async () => {
    const operator = await mqtt.connectAsync(p.mqttsUrl!, {
      reconnectPeriod: 0,
      ca: tls.ca,
      rejectUnauthorized: true,
      username: 'operator',
      password: p.operatorToken,
      clientId: 'operator-tls',
    });
    await operator.endAsync();
  });

  it('makes device certificates for a CA already in the folder (ioc tls dev-cert --device)', async () => {
    const result = await writeDevCertificates(tls.dir, { devices: ['water-kimlong'] });
    expect(result).toEqual({ reusedCa: true, written: ['device-water-kimlong.key', 'device-water-kimlong.crt'] });
  });

  it('revokes by device secret: rotating it closes cert sessions, refuses older certs, not new ones', async () => {
    // the fixture's certificate must predate the rotation by more than X.509's whole seconds
    await new Promise((r) => setTimeout(r, 3000));
    const live = await connectWith(tls.device('air-ngomon'), { clientId: 'air-ngomon-rotation' });
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()));
    const seen = refusals().length;
    p.accounts.change((file) => rotateDevice(file, 'air-ngomon', true));
    await closed;
    await expect(connectWith(tls.device('air-ngomon'))).rejects.toThrow(/Not authorized|refused/i);
    expect(
      refusals()
        .slice(seen)
        .map((l) => l.reason),
    ).toEqual([
      expect.stringMatching(/^client certificate of air-ngomon was issued before its credentials were rotated/),
    ]);
    await writeDevCertificates(tls.dir, { devices: ['air-ngomon'] });
    const renewed = await connectWith(tls.device('air-ngomon'), { clientId: 'air-ngomon-renewed' });
    await publishAcked(renewed, 'ioc/air/air-ngomon/readings', JSON.stringify({ pm25: 5 }));
    await renewed.endAsync();
  });
});
