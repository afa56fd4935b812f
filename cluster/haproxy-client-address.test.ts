import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../test-support/log-capture.ts';
import { HAPROXY_SOURCE_ADDRESS, startHaproxy, type Haproxy } from '../test-support/haproxy.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { ipv4Bytes, proxyV2, rawExchange } from '../test-support/proxy-header.ts';
import { rawConnect } from '../test-support/raw-mqtt.ts';

/**
 * Issue 12, client addresses behind the shipped deploy/haproxy.cfg on a real HAProxy: the node learns each
 * client's own address (PROXY protocol v2 on MQTT, X-Forwarded-For on HTTP) from HAProxy only, so five wrong
 * guesses from one client lock that client out of the account, not everyone behind the balancer. The clients
 * bind 127.0.0.1 and 127.0.0.2; HAProxy reaches the node from 127.0.0.3, the node's only trusted proxy.
 */
function signIn(
  baseUrl: string,
  from: string,
  username: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const url = new URL('/api/session', baseUrl);
  const body = JSON.stringify({ username, password });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: from,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('client addresses through HAProxy (issue 12)', () => {
  let platform: TestPlatform;
  let haproxy: Haproxy;
  const logs = captureLogs();

  beforeAll(async () => {
    platform = await startTestPlatform({
      logger: logs.logger,
      overrides: {
        mqtt: { port: 0, host: '127.0.0.1', trustedProxies: [HAPROXY_SOURCE_ADDRESS] },
        http: { port: 0, host: '127.0.0.1', trustedProxies: [HAPROXY_SOURCE_ADDRESS] },
        accounts: { maxFailuresPerAccount: 5 },
        limits: { connectionsPerAddress: 2 },
      },
    });
    haproxy = await startHaproxy([
      {
        name: 'node-a',
        mqttPort: Number(new URL(platform.mqttUrl).port),
        httpPort: Number(new URL(platform.httpUrl).port),
      },
    ]);
  }, 60_000);
  afterAll(async () => {
    await haproxy?.dispose();
    await platform?.stop();
  });

  it('locks out the guessing client after five wrong passwords, not the other client behind HAProxy', async () => {
    const { username, password } = platform.credentials!.operator;
    const through = haproxy.httpUrl;
    const guesses: number[] = [];
    for (let i = 0; i < 6; i++) guesses.push(await signIn(through, '127.0.0.1', username, `guess-${i}`));
    expect(guesses).toEqual([401, 401, 401, 401, 401, 429]);
    // the account's owner on another address, through the same HAProxy, still signs in
    expect(await signIn(through, '127.0.0.2', username, 'typo')).toBe(401);
    expect(await signIn(through, '127.0.0.2', username, password)).toBe(200);
    // the guesser cannot claim another address: HAProxy appends the real one, and only its hop is believed
    expect(await signIn(through, '127.0.0.1', username, password, { 'x-forwarded-for': '127.0.0.9' })).toBe(429);
    const refused = logs.lines.filter((l) => l.msg === 'sign-in refused');
    expect(new Set(refused.map((l) => l.from))).toEqual(new Set(['127.0.0.1', '127.0.0.2']));
    // a client reaching the node directly is not a trusted proxy: its X-Forwarded-For is ignored
    expect(await signIn(platform.httpUrl, '127.0.0.1', username, password, { 'x-forwarded-for': '127.0.0.2' })).toBe(
      429,
    );
  });

  it('counts MQTT sockets against each client address behind HAProxy', async () => {
    const device = platform.credentials!.devices[0]!;
    const url = new URL(haproxy.mqttUrl);
    const connectAs = (from: string, clientId: string, hold = true) =>
      rawExchange({
        host: url.hostname,
        port: Number(url.port),
        localAddress: from,
        bytes: rawConnect(Buffer.from(clientId), Buffer.from(device.sensorId), Buffer.from(device.password)),
        hold,
      });
    const a = await connectAs('127.0.0.1', `${device.sensorId}-a`);
    const b = await connectAs('127.0.0.1', `${device.sensorId}-b`);
    expect([a.connack, b.connack]).toEqual([0, 0]);
    // a third socket from 127.0.0.1 is one too many; one from 127.0.0.2 is its first
    expect((await connectAs('127.0.0.1', `${device.sensorId}-c`, false)).connack).toBeUndefined();
    expect((await connectAs('127.0.0.2', `${device.sensorId}-d`, false)).connack).toBe(0);
    expect(logs.lines.some((l) => l.reason === 'connections_per_address' && l.account === '127.0.0.1')).toBe(true);
    expect(logs.lines.some((l) => l.reason === 'connections_per_address' && l.account !== '127.0.0.1')).toBe(false);
    a.close();
    b.close();
  });

  it('refuses a PROXY header sent to the node by anyone but HAProxy', async () => {
    const node = new URL(platform.mqttUrl);
    const device = platform.credentials!.devices[0]!;
    const forged = Buffer.concat([
      proxyV2(ipv4Bytes('203.0.113.77'), 1234, ipv4Bytes('10.0.0.11'), 1883),
      rawConnect(Buffer.from(device.sensorId), Buffer.from(device.sensorId), Buffer.from(device.password)),
    ]);
    const result = await rawExchange({
      host: node.hostname,
      port: Number(node.port),
      localAddress: '127.0.0.2',
      bytes: forged,
    });
    expect(result.connack).toBeUndefined();
    expect(logs.lines.find((l) => l.reason === 'proxy_untrusted')).toMatchObject({ address: '127.0.0.2' });
  });
});
