import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { runCli } from '../cli/ioc.ts';
import { canConnect, publishAcked, type TestPlatform } from '../test-support/platform-harness.ts';
import { trafficJamRule } from '../test-support/rule-fixtures.ts';
import { accountMadeOn, pairEvents, waitFor, watchAlerts, twoClusterNodes } from './cluster-test-kit.ts';

/**
 * What an admin changes on one node holds on every node at once (cluster/shared-state.ts), on a real Redis and
 * InfluxDB with two nodes in one process: a rotated device secret, a disabled account, a revoked token, a
 * disabled sensor, a console session, a rule.
 */

/** An alert stream opened with a token or a cookie; resolves once its first message came, with its close. */
async function openStream(node: TestPlatform, auth: { token?: string; cookie?: string }) {
  const query = auth.token ? `?token=${auth.token}` : '';
  const socket = new WebSocket(`${node.httpUrl.replace(/^http/, 'ws')}/api/alerts/stream${query}`, {
    headers: auth.cookie ? { cookie: auth.cookie } : {},
  });
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once('message', () => resolve());
    socket.once('unexpected-response', (_req, res) => reject(new Error(`stream refused: ${res.statusCode}`)));
    socket.once('error', reject);
  });
  return { socket, closed };
}

async function signIn(node: TestPlatform, username: string, password: string): Promise<string> {
  const res = await fetch(`${node.httpUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

const withCookie = (node: TestPlatform, method: string, cookie: string) =>
  fetch(`${node.httpUrl}/api/session`, { method, headers: { cookie } });

describe('changes made on one node hold on every node at once', () => {
  let a: TestPlatform;
  let b: TestPlatform;
  twoClusterNodes('sharedstate', (na, nb) => {
    a = na;
    b = nb;
  });

  const accountOnA = (name: string) => accountMadeOn(a, b, name);

  it('a device secret rotated on node A: the old one is refused on node B, which closes its session', async () => {
    const sensorId = 'air-ngomon';
    const oldSecret = b.devicePassword(sensorId);
    const device = await b.connectDevice(sensorId);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    const rotated = await a.request('POST', `/api/sensors/${sensorId}/secret`, { token: a.adminToken });
    expect(rotated.status, rotated.text).toBe(200);
    const newSecret = (rotated.json as { password: string }).password;
    await closed;
    expect(await canConnect(b.mqttUrl, sensorId, oldSecret)).toBe(false);
    expect(await canConnect(a.mqttUrl, sensorId, oldSecret)).toBe(false);
    expect(await canConnect(b.mqttUrl, sensorId, newSecret)).toBe(true);
    // the notice carried the new salted hash, never the secret: node B's auth.json holds no plain secret
    expect(JSON.stringify(b.accounts.file)).not.toContain(newSecret);
  });

  it('an account disabled on node A: its token is refused on node B, and its stream there closes', async () => {
    const { token } = await accountOnA('duty-hoa');
    const stream = await openStream(b, { token });
    const disabled = await a.request('PATCH', '/api/accounts/duty-hoa', {
      token: a.adminToken,
      body: { disabled: true },
    });
    expect(disabled.status, disabled.text).toBe(200);
    expect(await stream.closed).toBe(4401);
    expect((await b.request('GET', '/api/session', { token })).status).toBe(401);
  });

  it("an account disabled with `ioc accounts` on node A's data directory is refused on node B too", async () => {
    const { token } = await accountOnA('duty-tuan');
    const quiet = { out: () => undefined, err: () => undefined };
    expect(await runCli(['accounts', 'disable', 'duty-tuan', '--data-dir', a.dataDir], quiet)).toBe(0);
    // node A notices its file changed (a watch), then sends the change like an API change
    await waitFor('node B refusing the token', async () =>
      (await b.request('GET', '/api/session', { token })).status === 401 ? true : undefined,
    );
  });

  it('a token revoked on node A is refused on node B at once', async () => {
    const { token, tokenId } = await accountOnA('duty-lan');
    const stream = await openStream(b, { token });
    const revoked = await a.request('DELETE', `/api/accounts/duty-lan/tokens/${tokenId}`, { token: a.adminToken });
    expect(revoked.status, revoked.text).toBe(204);
    expect(await stream.closed).toBe(4401);
    expect((await b.request('GET', '/api/session', { token })).status).toBe(401);
  });

  it('a sensor disabled or deleted on node A is refused by node B and its session there closes', async () => {
    const sensorId = 'air-dongba';
    const device = await b.connectDevice(sensorId);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    const res = await a.request('PATCH', `/api/sensors/${sensorId}`, { token: a.adminToken, body: { disabled: true } });
    expect(res.status, res.text).toBe(200);
    await closed;
    expect(await canConnect(b.mqttUrl, sensorId, b.devicePassword(sensorId))).toBe(false);
    expect(b.city.sensorsById.has(sensorId)).toBe(false);
    const listed = await b.request('GET', '/api/sensor-registry', { token: b.adminToken });
    const sensors = (listed.json as { sensors: Array<{ id: string; disabled: boolean }> }).sensors;
    expect(sensors.find((s) => s.id === sensorId)?.disabled).toBe(true);
    // deleted on node A: its secret is gone on node B, its session there closes
    const gone = 'air-gahue';
    const another = await b.connectDevice(gone);
    const anotherClosed = new Promise<void>((resolve) => another.once('close', () => resolve()));
    expect((await a.request('DELETE', `/api/sensors/${gone}`, { token: a.adminToken })).status).toBe(204);
    await anotherClosed;
    expect(await canConnect(b.mqttUrl, gone, b.devicePassword(gone))).toBe(false);
    expect(b.accounts.file.devices[gone]).toBeUndefined();
  });

  it('a console sign-in on node A holds on node B; a sign-out on node B ends it on node A', async () => {
    const { password } = await accountOnA('duty-minh');
    const cookie = await signIn(a, 'duty-minh', password);
    const onB = await withCookie(b, 'GET', cookie);
    expect(onB.status).toBe(200);
    expect(await onB.json()).toMatchObject({ name: 'duty-minh', via: 'session' });
    const stream = await openStream(a, { cookie });
    expect((await withCookie(b, 'DELETE', cookie)).status).toBe(204);
    // node A heard the sign-out: the stream the cookie opened there closes, and the cookie is refused
    expect(await stream.closed).toBe(4401);
    expect((await withCookie(a, 'GET', cookie)).status).toBe(401);
  });

  it('a rule created on node A is evaluated for a reading through node B, and fires once', async () => {
    const watchers = [await watchAlerts(a), await watchAlerts(b)];
    const rule = trafficJamRule('jam-davien-shared', 'traffic-davien', { above: 0.8 });
    const created = await a.request('POST', '/api/rules', { token: a.adminToken, body: rule });
    expect(created.status, created.text).toBe(201);
    await waitFor('node B knowing the rule', async () =>
      (await b.request('GET', '/api/rules/jam-davien-shared')).status === 200 ? true : undefined,
    );
    const device = await b.connectDevice('traffic-davien');
    await publishAcked(device, 'ioc/traffic/traffic-davien/readings', JSON.stringify({ occupancy: 0.95 }));
    for (const watch of watchers) {
      await waitFor('the firing event', () =>
        pairEvents(watch.events, 'jam-davien-shared', 'traffic-davien').length ? true : undefined,
      );
    }
    await Promise.all(watchers.map((w) => w.sync()));
    const [seenA, seenB] = watchers.map((w) => pairEvents(w.events, 'jam-davien-shared', 'traffic-davien'));
    expect(seenA).toHaveLength(1);
    expect(seenA![0]).toMatch(/^firing:/);
    expect(seenB).toEqual(seenA);
    // removed on node B: gone from node A too
    expect((await b.request('DELETE', '/api/rules/jam-davien-shared', { token: b.adminToken })).status).toBe(204);
    await waitFor('node A dropping the rule', async () =>
      (await a.request('GET', '/api/rules/jam-davien-shared')).status === 404 ? true : undefined,
    );
    for (const w of watchers) w.close();
  });
});
