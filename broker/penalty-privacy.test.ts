import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../core/clock.ts';
import { captureLogs } from '../test-support/log-capture.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * Attacker review item 5, through real sockets: while a device serves a CONNECT penalty for abuse, a
 * stranger who only knows (or guesses) its name gets exactly what an unknown name gets (CONNACK 4), so
 * the penalty does not reveal that the account exists; only the device's own credentials learn of the
 * penalty (CONNACK 3), and the stranger's tries neither lengthen it nor lock the device out.
 */
describe('a CONNECT penalty does not tell a stranger which names exist', () => {
  let p: TestPlatform;
  const clock = createManualClock(Date.now());
  const logs = captureLogs('info');
  beforeAll(async () => {
    p = await startTestPlatform({
      clock,
      logger: logs.logger,
      overrides: {
        limits: {
          deviceBytesPerSecond: 10_000,
          deviceByteBurst: 20_000,
          connectionBytesPerSecond: 10_000,
          rateHoldMaxMs: 60_000,
          abusiveRefusalsBeforeDisconnect: 5,
          abusePenaltySeconds: 30,
        },
      },
    });
  });
  afterAll(async () => {
    await p?.stop();
  });

  const tryConnect = (username: string, password: string) =>
    new Promise<{ ok: boolean; code?: number }>((resolve) => {
      const client = mqtt.connect(p.mqttUrl, {
        username,
        password,
        clientId: username,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      });
      client.once('connect', () => {
        client.end(true);
        resolve({ ok: true });
      });
      client.once('error', (err: Error & { code?: number }) => {
        client.end(true);
        resolve({ ok: false, code: err.code });
      });
    });

  it('answers a penalised name and wrong password as an unknown name; the owner alone sees the penalty', async () => {
    const d = await p.connectDevice('air-dongba');
    const closed = new Promise<void>((resolve) => d.once('close', () => resolve()));
    for (let i = 0; i < 20; i++) d.publish('ioc/air/air-dongba/readings', Buffer.alloc(60_000, 'x'), { qos: 0 });
    let isClosed = false;
    void closed.then(() => {
      isClosed = true;
    });
    await expect
      .poll(
        () => {
          clock.advance(1000);
          return isClosed;
        },
        { timeout: 10_000 },
      )
      .toBe(true);

    const unknown = await tryConnect('air-khongco', 'a-guess');
    const penalisedGuess = await tryConnect('air-dongba', 'a-guess');
    const knownGuess = await tryConnect('air-kimlong', 'a-guess');
    expect(unknown).toEqual({ ok: false, code: 4 });
    expect(penalisedGuess).toEqual(unknown);
    expect(knownGuess).toEqual(unknown);
    // the stranger's tries are logged like any bad login, without the password, and not as the penalty
    const refusedLogins = logs.lines
      .filter((l) => l.msg === 'MQTT login refused: bad username or password')
      .map((l) => l.username);
    expect(refusedLogins).toEqual(['air-khongco', 'air-dongba', 'air-kimlong']);
    expect(logs.text()).not.toContain('a-guess');
    expect(logs.lines.filter((l) => l.reason === 'penalty')).toHaveLength(0);

    // the device itself, with its own secret, is told it serves a penalty, logged once
    expect(await tryConnect('air-dongba', p.devicePassword('air-dongba'))).toEqual({ ok: false, code: 3 });
    expect(await tryConnect('air-dongba', p.devicePassword('air-dongba'))).toEqual({ ok: false, code: 3 });
    expect(logs.lines.filter((l) => l.reason === 'penalty' && l.account === 'air-dongba')).toHaveLength(1);

    // the strangers did not lengthen it: 30 s after the abuse the device is back
    clock.advance(31_000);
    expect(await tryConnect('air-dongba', p.devicePassword('air-dongba'))).toEqual({ ok: true });
  });
});
