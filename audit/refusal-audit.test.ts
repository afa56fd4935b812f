import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../core/clock.ts';
import { captureLogs } from '../test-support/log-capture.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { rawExchange } from '../test-support/proxy-header.ts';
import { rawConnect } from '../test-support/raw-mqtt.ts';
import type { AuditEntry } from './audit-entry.ts';

/**
 * Issue 12, audit of the refusals an outsider can repeat at will: sign-ins refused over their limit (429),
 * provisioning claims refused over theirs (429) and refused MQTT CONNECTs are audit entries, but bounded
 * like HTTP auth failures: `audit.authFailuresPerMinute` per address and minute, then one `audit.suppressed`
 * entry saying how many more, of what, between when and when. Real HTTP and MQTT sockets.
 */
describe('refusals repeated at will are audited, bounded, with a summary (issue 12)', () => {
  let p: TestPlatform;
  const clock = createManualClock(Date.now());
  const logs = captureLogs('warn');
  beforeAll(async () => {
    p = await startTestPlatform({
      clock,
      logger: logs.logger,
      overrides: {
        audit: { authFailuresPerMinute: 3 },
        accounts: { maxFailuresPerAccount: 2, maxFailuresPerAddress: 2 },
      },
    });
  });
  afterAll(async () => {
    await p?.stop();
  });

  const entries = async (action: string): Promise<AuditEntry[]> =>
    (
      (await p.request('GET', `/api/audit?limit=1000&action=${action}`, { token: p.adminToken })).json as {
        entries: AuditEntry[];
      }
    ).entries;
  const summaryOf = async (action: string) => (await entries('audit.suppressed')).filter((e) => e.target === action);
  /** ends the minute: the window's summary is written on the clock, without another refusal */
  const endWindow = async (action: string, suppressed: number) => {
    expect(await summaryOf(action)).toHaveLength(0);
    clock.advance(60_000);
    await expect.poll(async () => (await summaryOf(action)).length).toBe(1);
    const [summary] = await summaryOf(action);
    expect(summary).toMatchObject({
      address: '127.0.0.1',
      outcome: 'failure',
      details: { suppressed, action },
    });
    expect(String(summary!.details!.summary)).toMatch(
      new RegExp(`^${suppressed} similar ${action} entries suppressed`),
    );
  };

  it('sign-ins refused with 429: three entries a minute, then a summary of the rest', async () => {
    const { username } = p.credentials!.operator;
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await p.request('POST', '/api/session', { token: null, body: { username, password: `guess-${i}` } });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 429, 429, 429, 429, 429, 429, 429, 429]);
    // written in the background (the refusal does not wait for the fsync)
    await expect.poll(async () => (await entries('auth.rate_limited')).length).toBe(3);
    const limited = await entries('auth.rate_limited');
    expect(limited[0]).toMatchObject({
      address: '127.0.0.1',
      outcome: 'failure',
      target: 'POST /api/session',
      details: { username, reason: 'rate_limited' },
    });
    expect(JSON.stringify(limited)).not.toContain('guess-');
    await endWindow('auth.rate_limited', 5);
  });

  it('provisioning claims refused over the limit: three entries a minute, then a summary of the rest', async () => {
    const claim = (code: string) => p.request('POST', '/api/provision', { token: null, body: { code } });
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await claim(`ZZZZ-ZZZZ-Z${'23456789'[i % 8]}2Z`)).status);
    expect(statuses).toEqual([403, 403, 429, 429, 429, 429, 429, 429, 429]);
    // written in the background (the refusal does not wait for the fsync)
    await expect.poll(async () => (await entries('sensor.provision_rate_limited')).length).toBe(3);
    const limited = await entries('sensor.provision_rate_limited');
    expect(limited[0]).toMatchObject({ address: '127.0.0.1', details: { reason: 'rate_limited' } });
    await endWindow('sensor.provision_rate_limited', 4);
  });

  it('refused MQTT CONNECTs: three entries a minute without the password, then a summary of the rest', async () => {
    const url = new URL(p.mqttUrl);
    const device = p.credentials!.devices[0]!;
    for (let i = 0; i < 10; i++) {
      const bytes = rawConnect(Buffer.from(device.sensorId), Buffer.from(device.sensorId), Buffer.from(`wrong-${i}`));
      const answer = await rawExchange({
        host: url.hostname,
        port: Number(url.port),
        localAddress: '127.0.0.1',
        bytes,
      });
      expect(answer.connack).toBe(4);
    }
    // written in the background (the refusal does not wait for the fsync)
    await expect.poll(async () => (await entries('mqtt.connect_refused')).length).toBe(3);
    const refused = await entries('mqtt.connect_refused');
    expect(refused[0]).toMatchObject({
      address: '127.0.0.1',
      outcome: 'failure',
      target: 'mqtt.connect',
      details: {
        username: device.sensorId,
        clientId: device.sensorId,
        returnCode: 4,
        reason: 'bad username or password',
      },
    });
    expect(JSON.stringify(refused)).not.toContain('wrong-');
    await endWindow('mqtt.connect_refused', 7);
    // the chain still verifies with the summaries in it
    expect((await p.request('GET', '/api/audit/verify', { token: p.adminToken })).json).toMatchObject({ ok: true });
  });
});
