import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../core/clock.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { proxyV1, rawExchange } from '../test-support/proxy-header.ts';
import { rawConnect } from '../test-support/raw-mqtt.ts';
import type { AuditEntry } from './audit-entry.ts';

/**
 * Review: refused MQTT CONNECTs are audited a few per address and minute (audit/bounded-audit.ts), but an
 * IPv6 sender holds 2^64 addresses of its /64. Counted address by address, a guessing loop that takes a fresh
 * address for each CONNECT wrote one audit entry (and an fsync) per guess, which the bound is there to stop.
 * Real sockets: a trusted balancer on 127.0.0.3 names each client with a PROXY header, as HAProxy does.
 */
const BALANCER = '127.0.0.3';

describe('refused MQTT CONNECTs from one IPv6 /64 are audited under one bound', () => {
  let p: TestPlatform;
  const clock = createManualClock(Date.now());
  beforeAll(async () => {
    p = await startTestPlatform({
      clock,
      overrides: {
        mqtt: { port: 0, host: '127.0.0.1', trustedProxies: [BALANCER] },
        audit: { authFailuresPerMinute: 3 },
      },
    });
  });
  afterAll(async () => {
    await p?.stop();
  });

  const refusedEntries = async (): Promise<AuditEntry[]> =>
    (
      (await p.request('GET', '/api/audit?limit=1000&action=mqtt.connect_refused', { token: p.adminToken })).json as {
        entries: AuditEntry[];
      }
    ).entries;

  it('ten guesses from ten addresses of one /64: three entries, then a summary', async () => {
    const url = new URL(p.mqttUrl);
    const device = p.credentials!.devices[0]!;
    const guess = async (client: string, i: number) => {
      const id = Buffer.from(`${device.sensorId}-g${i}`);
      const connect = rawConnect(id, Buffer.from(device.sensorId), Buffer.from(`wrong-${i}`));
      const answer = await rawExchange({
        host: url.hostname,
        port: Number(url.port),
        localAddress: BALANCER,
        bytes: Buffer.concat([proxyV1(client, 40000 + i, '2001:db8::1', 1883), connect]),
      });
      expect(answer.connack).toBe(4);
    };
    for (let i = 0; i < 10; i++) await guess(`2001:db8:7:9::${(i + 1).toString(16)}`, i);
    await expect.poll(async () => (await refusedEntries()).length).toBe(3);
    // another /64 has its own bound
    await guess('2001:db8:7:a::1', 10);
    await expect.poll(async () => (await refusedEntries()).length).toBe(4);
    clock.advance(60_000);
    await expect
      .poll(async () => {
        const res = await p.request('GET', '/api/audit?limit=1000&action=audit.suppressed', { token: p.adminToken });
        return (res.json as { entries: AuditEntry[] }).entries.filter((e) => e.target === 'mqtt.connect_refused');
      })
      .toMatchObject([{ address: '2001:db8:7:9::/64', details: { suppressed: 7 } }]);
  });
});
