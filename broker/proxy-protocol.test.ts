import { connect as netConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../test-support/log-capture.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { ipv4Bytes, proxyV1, proxyV2, rawExchange } from '../test-support/proxy-header.ts';
import { rawConnect } from '../test-support/raw-mqtt.ts';
import { makeTlsFixture, type TlsFixture } from '../test-support/tls-fixture.ts';

/**
 * Issue 12, client addresses behind a load balancer: only a peer in mqtt.trustedProxies may name the client
 * with a PROXY protocol header, and it must; the named address is what the per-address limits count. Real
 * sockets from chosen loopback addresses: 127.0.0.3 is the balancer, 127.0.0.1 and .2 are clients.
 */
const BALANCER = '127.0.0.3';

describe('PROXY protocol on the MQTT listeners (issue 12)', () => {
  let p: TestPlatform;
  let tls: TlsFixture;
  let device: { sensorId: string; password: string };
  const logs = captureLogs();
  let host = '';
  let port = 0;
  let tlsPort = 0;

  beforeAll(async () => {
    tls = await makeTlsFixture();
    p = await startTestPlatform({
      logger: logs.logger,
      overrides: {
        mqtt: { port: 0, host: '127.0.0.1', trustedProxies: [BALANCER] },
        tls: { cert: tls.files.cert, key: tls.files.key, mqttPort: 0, http: false },
        // one socket per client address: which address a socket counts against shows at the second one
        limits: { connectionsPerAddress: 1 },
      },
    });
    device = p.credentials!.devices[0]!;
    const url = new URL(p.mqttUrl);
    host = url.hostname;
    port = Number(url.port);
    tlsPort = Number(new URL(p.mqttsUrl!).port);
  });
  afterAll(async () => {
    await p?.stop();
    tls?.remove();
  });

  const connectPacket = (clientId: string, password = device.password) =>
    rawConnect(Buffer.from(clientId), Buffer.from(device.sensorId), Buffer.from(password));
  const refusalLine = (reason: string) => logs.lines.find((l) => l.reason === reason);

  it('counts a balanced connection against the client its PROXY header names (v1, v2), not the balancer', async () => {
    const first = await rawExchange({
      host,
      port,
      localAddress: BALANCER,
      bytes: Buffer.concat([
        proxyV2(ipv4Bytes('198.51.100.7'), 40000, ipv4Bytes('10.0.0.11'), 1883),
        connectPacket(`${device.sensorId}-a`),
      ]),
      hold: true,
    });
    expect(first.connack).toBe(0);
    // the same client again, written as v1: its address already holds its one socket
    const second = await rawExchange({
      host,
      port,
      localAddress: BALANCER,
      bytes: Buffer.concat([proxyV1('198.51.100.7', 40001, '10.0.0.11', 1883), connectPacket(`${device.sensorId}-b`)]),
    });
    expect(second.connack).toBeUndefined();
    expect(logs.lines.some((l) => l.reason === 'connections_per_address' && l.account === '198.51.100.7')).toBe(true);
    // another client through the same balancer is not affected by the first
    const other = await rawExchange({
      host,
      port,
      localAddress: BALANCER,
      bytes: Buffer.concat([proxyV1('198.51.100.8', 40002, '10.0.0.11', 1883), connectPacket(`${device.sensorId}-c`)]),
    });
    expect(other.connack).toBe(0);
    first.close();
  });

  it('takes a header split across TCP segments', async () => {
    const header = proxyV2(ipv4Bytes('198.51.100.20'), 40003, ipv4Bytes('10.0.0.11'), 1883);
    const socket = netConnect({ host, port, localAddress: BALANCER });
    const answer = new Promise<number | undefined>((resolve) => {
      socket.on('data', (b: Buffer) => resolve(b[0] === 0x20 ? b[3] : undefined));
      socket.on('close', () => resolve(undefined));
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(header.subarray(0, 7));
    await sleep(50);
    socket.write(header.subarray(7, 20));
    await sleep(50);
    socket.write(Buffer.concat([header.subarray(20), connectPacket(`${device.sensorId}-split`, 'wrong')]));
    // CONNACK 4, and the refused login is logged under the client's address
    expect(await answer).toBe(4);
    socket.destroy();
    const line = logs.lines.find((l) => l.msg === 'MQTT login refused: bad username or password');
    expect(line?.address).toBe('198.51.100.20');
  });

  it('refuses a PROXY header from a peer that is not a trusted proxy, and logs it', async () => {
    const result = await rawExchange({
      host,
      port,
      localAddress: '127.0.0.2',
      bytes: Buffer.concat([proxyV1('203.0.113.5', 1, '10.0.0.11', 1883), connectPacket(`${device.sensorId}-x`)]),
    });
    expect(result.connack).toBeUndefined();
    const line = refusalLine('proxy_untrusted');
    expect(line).toMatchObject({ address: '127.0.0.2', level: 40 });
    expect(String(line?.msg)).toMatch(/not in mqtt\.trustedProxies/);
    // the same peer without a header is an ordinary client
    expect(
      (await rawExchange({ host, port, localAddress: '127.0.0.2', bytes: connectPacket(device.sensorId) })).connack,
    ).toBe(0);
  });

  it('refuses a trusted proxy connection that comes without a PROXY header, and logs it', async () => {
    const result = await rawExchange({
      host,
      port,
      localAddress: BALANCER,
      bytes: connectPacket(`${device.sensorId}-y`),
    });
    expect(result.connack).toBeUndefined();
    expect(refusalLine('proxy_missing')).toMatchObject({ address: BALANCER });
  });

  it('reads the header before TLS on MQTT over TLS, from the trusted proxy only', async () => {
    const overTls = (from: string, header: Buffer, password: string) =>
      new Promise<number | undefined>((resolve) => {
        const raw = netConnect({ host, port: tlsPort, localAddress: from }, () => {
          raw.write(header);
          const secure = tlsConnect({ socket: raw, ca: tls.ca, servername: 'localhost' }, () =>
            secure.write(connectPacket(`${device.sensorId}-tls`, password)),
          );
          secure.on('data', (b: Buffer) => resolve(b[0] === 0x20 ? b[3] : undefined));
          secure.on('error', () => resolve(undefined));
          secure.on('close', () => resolve(undefined));
        });
        raw.on('error', () => resolve(undefined));
      });
    expect(await overTls(BALANCER, proxyV1('198.51.100.30', 5, '10.0.0.11', 8883), 'wrong')).toBe(4);
    const refused = logs.lines.filter((l) => l.msg === 'MQTT login refused: bad username or password');
    expect(refused.at(-1)?.address).toBe('198.51.100.30');
    expect(await overTls(BALANCER, proxyV1('198.51.100.31', 5, '10.0.0.11', 8883), device.password)).toBe(0);
    expect(await overTls('127.0.0.4', proxyV1('198.51.100.32', 5, '10.0.0.11', 8883), device.password)).toBeUndefined();
    expect(logs.lines.some((l) => l.reason === 'proxy_untrusted' && l.address === '127.0.0.4')).toBe(true);
  });
});
