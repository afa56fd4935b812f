import { createServer } from 'node:net';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitsSchema } from '../config/limits-config.ts';
import { createManualClock } from '../core/clock.ts';
import { captureLogs } from '../test-support/log-capture.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { ipv4Bytes, proxyV1, proxyV2, rawExchange } from '../test-support/proxy-header.ts';
import { rawConnect } from '../test-support/raw-mqtt.ts';
import { createConnectPenalty } from './connect-penalty.ts';
import { createRefusalLog } from './refusal-log.ts';

/**
 * Issue 17 item 4: an IPv6 host holds a whole /64 (2^64 addresses), so the broker's per-address limits count the
 * /64, IPv4 as it is, an IPv4-mapped IPv6 address as the IPv4 one. The loopback offers one IPv6 address (::1),
 * so the client addresses come through the PROXY protocol path, which lets the test name any source address: a
 * trusted balancer (127.0.0.3) opens real sockets naming clients in one /64 and another.
 */
const BALANCER = '127.0.0.3';
const v6Bytes = (groups: number[]) => {
  const bytes = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) bytes.writeUInt16BE(g, i * 2);
  return Uint8Array.from(bytes);
};

describe('MQTT sockets per address count an IPv6 client by its /64', () => {
  let p: TestPlatform;
  let device: { sensorId: string; password: string };
  const logs = captureLogs();
  let host = '';
  let port = 0;

  beforeAll(async () => {
    p = await startTestPlatform({
      logger: logs.logger,
      overrides: {
        mqtt: { port: 0, host: '127.0.0.1', trustedProxies: [BALANCER] },
        limits: { connectionsPerAddress: 1 },
      },
    });
    device = p.credentials!.devices[0]!;
    const url = new URL(p.mqttUrl);
    host = url.hostname;
    port = Number(url.port);
  });
  afterAll(async () => {
    await p?.stop();
  });

  const through = (header: Buffer, clientId: string, hold = false) =>
    rawExchange({
      host,
      port,
      localAddress: BALANCER,
      bytes: Buffer.concat([
        header,
        rawConnect(Buffer.from(clientId), Buffer.from(device.sensorId), Buffer.from(device.password)),
      ]),
      hold,
    });

  it('refuses the next address of the same /64, takes another /64, and logs the /64 once', async () => {
    const first = await through(proxyV1('2001:db8:1:2::a', 40000, '2001:db8::1', 1883), `${device.sensorId}-a`, true);
    expect(first.connack).toBe(0);
    // four more addresses of the same /64, v1 and v2: each is the same host's, which holds its one socket
    const again = [
      await through(proxyV1('2001:db8:1:2::b', 40001, '2001:db8::1', 1883), `${device.sensorId}-b`),
      await through(proxyV1('2001:db8:1:2:ffff:1:2:3', 40002, '2001:db8::1', 1883), `${device.sensorId}-c`),
      await through(
        proxyV2(v6Bytes([0x2001, 0xdb8, 1, 2, 9, 9, 9, 9]), 40003, v6Bytes([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]), 1883),
        `${device.sensorId}-d`,
      ),
      await through(proxyV1('2001:db8:1:2::e', 40004, '2001:db8::1', 1883), `${device.sensorId}-e`),
    ];
    expect(again.map((r) => r.connack)).toEqual([undefined, undefined, undefined, undefined]);
    // the next /64 is another subscriber
    const other = await through(proxyV1('2001:db8:1:3::a', 40005, '2001:db8::1', 1883), `${device.sensorId}-f`, true);
    expect(other.connack).toBe(0);
    // the refusal log's key is the /64 too: four refusals, one line (a line per address would be 2^64 of them)
    const lines = logs.lines.filter((l) => l.reason === 'connections_per_address');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ account: '2001:db8:1:2::/64' });
    expect(String(lines[0]!.msg)).toContain('2001:db8:1:2::b (2001:db8:1:2::/64)');
    first.close();
    other.close();
  });

  it('counts an IPv4-mapped IPv6 client as its IPv4 address, and IPv4 as before', async () => {
    const mapped = v6Bytes([0, 0, 0, 0, 0, 0xffff, 0xc633, 0x6409]); // ::ffff:198.51.100.9
    const first = await through(
      proxyV2(mapped, 40010, v6Bytes([0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x000b]), 1883),
      `${device.sensorId}-g`,
      true,
    );
    expect(first.connack).toBe(0);
    const sameHost = await through(
      proxyV2(ipv4Bytes('198.51.100.9'), 40011, ipv4Bytes('10.0.0.11'), 1883),
      `${device.sensorId}-h`,
    );
    expect(sameHost.connack).toBeUndefined();
    const neighbour = await through(proxyV1('198.51.100.10', 40012, '10.0.0.11', 1883), `${device.sensorId}-i`, true);
    expect(neighbour.connack).toBe(0);
    first.close();
    neighbour.close();
  });
});

/** whether this machine's loopback takes IPv6 (::1): then the keying is tried on a real IPv6 socket as well */
const ipv6Loopback = await new Promise<boolean>((resolve) => {
  const probe = createServer();
  probe.once('error', () => resolve(false));
  probe.listen(0, '::1', () => probe.close(() => resolve(true)));
});

describe.skipIf(!ipv6Loopback)('MQTT sockets per address over a real IPv6 socket (::1)', () => {
  it('counts a client connecting from ::1 by its /64, as the count and the log key', async () => {
    const logs = captureLogs();
    const p = await startTestPlatform({
      logger: logs.logger,
      overrides: { mqtt: { port: 0, host: '::1' }, limits: { connectionsPerAddress: 1 } },
    });
    try {
      const port = Number(new URL(p.mqttUrl).port);
      const device = p.credentials!.devices[0]!;
      const connect = (clientId: string, hold = false) =>
        rawExchange({
          host: '::1',
          port,
          localAddress: '::1',
          bytes: rawConnect(Buffer.from(clientId), Buffer.from(device.sensorId), Buffer.from(device.password)),
          hold,
        });
      const first = await connect(`${device.sensorId}-a`, true);
      expect(first.connack).toBe(0);
      expect((await connect(`${device.sensorId}-b`)).connack).toBeUndefined();
      const line = logs.lines.find((l) => l.reason === 'connections_per_address');
      expect(line).toMatchObject({ account: '0:0:0:0::/64' });
      expect(String(line?.msg)).toContain('::1 (0:0:0:0::/64)');
      first.close();
    } finally {
      await p.stop();
    }
  });
});

describe('CONNECT penalties by address count an IPv6 host by its /64', () => {
  it('refuses every address of a penalised /64 and none of the next, with one log line per penalty', () => {
    const clock = createManualClock();
    const logs = captureLogs();
    const limits = limitsSchema.parse({ abusePenaltyByAddress: true, abusePenaltySeconds: 60 });
    const refusals = createRefusalLog(pino({ level: 'silent' }), new Registry(), clock);
    const penalty = createConnectPenalty(limits, clock, refusals, logs.logger);
    expect(penalty.refusal(undefined, '2001:db8:7:9::1')).toBeUndefined();
    penalty.penalize('camera-01', '2001:db8:7:9::1');
    for (const address of ['2001:db8:7:9::1', '2001:db8:7:9::2', '2001:db8:7:9:ffff:ffff:ffff:ffff'])
      expect(penalty.refusal(undefined, address), address).toMatch(/disconnected as abusive/);
    expect(penalty.refusal(undefined, '2001:db8:7:a::1')).toBeUndefined();
    // IPv4 and its mapped form are one address
    penalty.penalize('camera-02', '::ffff:198.51.100.20');
    expect(penalty.refusal(undefined, '198.51.100.20')).toMatch(/disconnected as abusive/);
    expect(penalty.refusal(undefined, '198.51.100.21')).toBeUndefined();
    // over the period the penalty ends
    clock.advance(61_000);
    expect(penalty.refusal(undefined, '2001:db8:7:9::2')).toBeUndefined();
    expect(logs.lines.filter((l) => l.reason === 'penalty')).toHaveLength(2);
  });
});
