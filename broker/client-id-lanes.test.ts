import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  publishAcked,
  startTestPlatform,
  subscribeCollect,
  tryConnect as connectOrRefusal,
  type TestPlatform,
} from '../test-support/platform-harness.ts';

/** Issue 12, item 2: a clientId belongs to the account that logged in (real clients, real sockets). */
describe('clientId bound to the account', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  const tryConnect = (options: mqtt.IClientOptions) => connectOrRefusal(p.mqttUrl, options);
  const device = (id: string, clientId: string, extra: mqtt.IClientOptions = {}) => ({
    username: id,
    password: p.devicePassword(id),
    clientId,
    ...extra,
  });

  it('accepts a device clientId that is its sensor id or starts with "<id>-" or "<id>:"', async () => {
    for (const clientId of ['air-dongba', 'air-dongba-gw1', 'air-dongba:2']) {
      const got = await tryConnect(device('air-dongba', clientId));
      expect(got.ok, clientId).toBe(true);
      await got.client!.endAsync();
    }
  });

  it('refuses any other clientId with CONNACK 2 (identifier rejected), logged and counted', async () => {
    for (const clientId of [
      'air-dongbax',
      'air-kimlong',
      'operator',
      'mqttjs_1234',
      'air-dongb',
      'x\u0000y',
      'air-dongba-'.padEnd(200, 'z'),
    ]) {
      expect(await tryConnect(device('air-dongba', clientId)), clientId).toEqual({ ok: false, code: 2 });
    }
    // an operator token: its account name, not a device's
    expect(await tryConnect({ username: 'operator', password: p.operatorToken, clientId: 'air-dongba' })).toEqual({
      ok: false,
      code: 2,
    });
    expect(await tryConnect({ username: 'operator', password: p.operatorToken, clientId: 'operatorx' })).toEqual({
      ok: false,
      code: 2,
    });
    const ok = await tryConnect({ username: 'operator', password: p.operatorToken, clientId: 'operator:console-1' });
    expect(ok.ok).toBe(true);
    await ok.client!.endAsync();
    const metrics = await p.request('GET', '/metrics');
    expect(metrics.text).toMatch(/ioc_mqtt_refused_total\{reason="client_id",transport="mqtt"\} ([1-9]\d*)/);
    expect((await p.request('GET', '/api/health', { token: null })).status).toBe(200);
  });

  it("does not let device B take over device A's session, will or queued messages", async () => {
    const operator = await p.connectOperator();
    const status = await subscribeCollect(operator, 'ioc/air/air-ngomon/status');
    // A: a persistent session with a will, subscribed to its errors at QoS 1
    const a = await tryConnect(
      device('air-ngomon', 'air-ngomon-main', {
        clean: false,
        will: { topic: 'ioc/air/air-ngomon/status', payload: Buffer.from('offline'), qos: 1, retain: true },
      }),
    );
    expect(a.ok).toBe(true);
    await a.client!.subscribeAsync('ioc/air/air-ngomon/errors', { qos: 1 });

    // B, with its own valid password, tries A's clientId: refused before the session is touched
    expect(await tryConnect(device('air-kimlong', 'air-ngomon-main', { clean: false }))).toEqual({
      ok: false,
      code: 2,
    });
    expect(a.client!.connected).toBe(true);

    await a.client!.endAsync();
    // A's persistent session is still A's: B cannot resume it, A can
    expect(await tryConnect(device('air-kimlong', 'air-ngomon-main', { clean: false }))).toEqual({
      ok: false,
      code: 2,
    });
    const back = await tryConnect(device('air-ngomon', 'air-ngomon-main', { clean: false }));
    expect(back).toMatchObject({ ok: true, sessionPresent: true });
    await back.client!.endAsync();
    // no will fired: nothing but a retained value the status topic had before (none in a fresh platform)
    expect(status.messages.filter((m) => m.payload === 'offline')).toEqual([]);
  });

  it('keeps the messages queued for an offline persistent session away from a device that names it', async () => {
    const first = await tryConnect({
      username: 'operator',
      password: p.operatorToken,
      clientId: 'operator-persist',
      clean: false,
    });
    await first.client!.subscribeAsync('ioc/water/water-phuoc/readings', { qos: 1 });
    await first.client!.endAsync();
    const sender = await p.connectDevice('water-phuoc');
    await publishAcked(sender, 'ioc/water/water-phuoc/readings', JSON.stringify({ waterLevel: 1.5 }));
    expect(await tryConnect(device('water-kimlong', 'operator-persist', { clean: false }))).toEqual({
      ok: false,
      code: 2,
    });
    // the owner still finds its queued reading: the refused CONNECT neither took nor cleaned the session
    const received: string[] = [];
    const back = await new Promise<mqtt.MqttClient>((resolve) => {
      const c = mqtt.connect(p.mqttUrl, {
        username: 'operator',
        password: p.operatorToken,
        clientId: 'operator-persist',
        clean: false,
        reconnectPeriod: 0,
      });
      c.on('message', (_t, payload) => received.push(payload.toString()));
      c.once('connect', () => resolve(c));
    });
    await expect.poll(() => received.length).toBeGreaterThan(0);
    expect(JSON.parse(received[0]!)).toMatchObject({ waterLevel: 1.5 });
    await back.endAsync();
  });

  it('keeps any account out of device sessions and limits, whatever its name (viewer "air", a sensor\'s)', async () => {
    const admin = { token: p.adminToken };
    const tokenFor = async (name: string) => {
      // such names are refused at creation now (api/account-names.test.ts); accounts made before that
      // check may still exist, so the lanes must hold for them too: written straight into auth.json
      expect((await p.request('POST', '/api/accounts', { ...admin, body: { name, role: 'viewer' } })).status).toBe(409);
      const at = new Date().toISOString();
      p.accounts.change((file) =>
        file.accounts.push({ name, role: 'viewer', disabled: false, passwordSetAt: at, createdAt: at }),
      );
      return (
        (await p.request('POST', `/api/accounts/${name}/tokens`, { ...admin, body: { name: 'mqtt' } })).json as {
          token: string;
        }
      ).token;
    };
    const air = await tokenFor('air');
    const device = await tryConnect({
      ...{ username: 'air-ngomon', password: p.devicePassword('air-ngomon') },
      clientId: 'air-ngomon',
      clean: false,
    });
    expect(device.ok).toBe(true);
    // "air-ngomon" starts with "air-", but it is the sensor air-ngomon's: refused before the session is touched
    for (const clientId of ['air-ngomon', 'air-ngomon-x', 'air-ngomon:1']) {
      expect(await tryConnect({ username: 'air', password: air, clientId }), clientId).toEqual({ ok: false, code: 2 });
    }
    expect(device.client!.connected).toBe(true);
    const own = await tryConnect({ username: 'air', password: air, clientId: 'air-console' });
    expect(own.ok).toBe(true);
    await own.client!.endAsync();
    // an account with a sensor's very name has no clientId of its own and takes nothing from the device's limit
    const twin = await tokenFor('air-dongba');
    expect(await tryConnect({ username: 'air-dongba', password: twin, clientId: 'air-dongba-viewer' })).toEqual({
      ok: false,
      code: 2,
    });
    const real = await tryConnect({
      username: 'air-dongba',
      password: p.devicePassword('air-dongba'),
      clientId: 'air-dongba',
    });
    expect(real.ok).toBe(true);
    await real.client!.endAsync();
    await device.client!.endAsync();
  });
});
