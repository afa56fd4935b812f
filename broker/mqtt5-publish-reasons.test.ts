import type { Client, PublishPacket } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { Mqtt5Reason } from './protocol-versions.ts';

/**
 * Issue 14 item 2, the adapter kept ready: the running broker's publish gate refuses one publish of an MQTT 5
 * client with a PUBACK reason code and a reason string (docs/mqtt5.md). No MQTT 5 client can connect while
 * aedes 1 refuses level 5 at CONNECT, so a real 3.1.1 device's connection is told it is version 5 and the gate
 * Aedes calls (`aedes.authorizePublish`, the real ingest behind it) is asked directly; then the same calls as
 * 3.1.1 show the behaviour of today, unchanged.
 */
describe('the publish gate answers an MQTT 5 client with reason codes', () => {
  let p: TestPlatform;
  let session: Client;
  beforeAll(async () => {
    p = await startTestPlatform();
    const device = await p.connectDevice('air-kimlong', { clientId: 'air-kimlong-gate' });
    await publishAcked(device, 'ioc/air/air-kimlong/readings', JSON.stringify({ ts: Date.now(), pm25: 7 }));
    session = (p.broker.aedes as unknown as { clients: Record<string, Client> }).clients['air-kimlong-gate']!;
  });
  afterAll(async () => {
    await p?.stop();
  });

  let messageId = 100;
  /** what the gate calls back for this publish, with the client speaking this version */
  const gate = (version: number, topic: string, payload: string, retain = false) =>
    new Promise<(Error & { reasonCode?: number }) | null>((resolve) => {
      const packet = { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain, dup: false };
      Object.assign(packet, { messageId: messageId++ });
      (session as { version: number }).version = version;
      p.broker.aedes.authorizePublish(session, packet as PublishPacket, (err) => resolve(err ?? null));
    });
  const own = 'ioc/air/air-kimlong/readings';

  it('gives each refusal its code and reason string, and the connection stays', async () => {
    const bad = await gate(5, own, '{"pm25": 12,');
    expect(bad?.reasonCode).toBe(Mqtt5Reason.payloadFormatInvalid); // 0x99
    expect(bad?.message).toMatch(/not valid JSON/);
    const range = await gate(5, own, JSON.stringify({ ts: Date.now(), pm25: -5 }));
    expect(range?.reasonCode).toBe(0x99);
    expect(range?.message).toMatch(/pm25/);
    const retained = await gate(5, own, JSON.stringify({ ts: Date.now(), pm25: 5 }), true);
    expect(retained).toMatchObject({ reasonCode: Mqtt5Reason.notAuthorized }); // 0x87
    expect(retained?.message).toMatch(/only status may be retained/);
    const other = await gate(5, 'ioc/air/air-ancuu/readings', JSON.stringify({ pm25: 5 }));
    expect(other).toMatchObject({ reasonCode: 0x87 });
    expect(other?.message).toMatch(/device air-kimlong may publish only to ioc\/air\/air-kimlong\//);
    const shape = await gate(5, 'ioc/air/air-kimlong/\u0007', '{}');
    expect(shape).toMatchObject({ reasonCode: Mqtt5Reason.topicNameInvalid }); // 0x90
    // a good reading is acknowledged with success
    expect(await gate(5, own, JSON.stringify({ ts: Date.now(), pm25: 6 }))).toBeNull();
    expect(session.closed).toBe(false);
  });

  it('keeps 3.1.1 as it was: refused readings acknowledged bare, a publish outside its lane an error', async () => {
    expect(await gate(4, own, '{"pm25": 12,')).toBeNull(); // explained on the errors topic instead
    expect(await gate(4, own, JSON.stringify({ ts: Date.now(), pm25: 5 }), true)).toBeNull();
    const other = await gate(4, 'ioc/air/air-ancuu/readings', '{}');
    expect(other).toBeInstanceOf(Error);
    expect(other).not.toHaveProperty('reasonCode');
  });
});
