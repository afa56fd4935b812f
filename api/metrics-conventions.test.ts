import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * /metrics follows Prometheus' naming conventions (what `promtool check metrics` checks): a counter's
 * name ends in `_total`, nothing else's does; every family has HELP and TYPE; units are base units.
 */
describe('/metrics naming conventions', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('counters end in _total, gauges and histograms never do, and every family has HELP and TYPE', async () => {
    // something in every family: a reading, a refusal, a failed login
    const device = await p.connectDevice('air-ngomon');
    await publishAcked(device, 'ioc/air/air-ngomon/readings', JSON.stringify({ pm25: 12 }));
    await device.endAsync();
    await p.request('GET', '/api/alerts', { token: 'wrong' });
    const text = (await p.request('GET', '/metrics', { token: p.adminToken })).text;
    const types = new Map<string, string>();
    const helps = new Set<string>();
    for (const line of text.split('\n')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      const help = /^# HELP (\S+) \S/.exec(line);
      if (help) helps.add(help[1]!);
    }
    expect(types.size).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const [name, type] of types) {
      if (!helps.has(name)) problems.push(`${name}: no HELP`);
      if (type === 'counter' && !name.endsWith('_total'))
        problems.push(`${name}: a counter whose name does not end in _total`);
      if (type !== 'counter' && name.endsWith('_total')) problems.push(`${name}: a ${type} whose name ends in _total`);
      if (/_(ms|milliseconds|kb|mb|minutes|hours)(_|$)/.test(name))
        problems.push(`${name}: not in base units (seconds, bytes)`);
    }
    expect(problems).toEqual([]);
  });
});

describe('/api/stats', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('gives a viewer the readings stored so far, which the console turns into a rate (no /metrics)', async () => {
    const before = (await p.request('GET', '/api/stats', { token: p.credentials!.viewer!.token })).json as {
      readingsStoredTotal: number;
    };
    const device = await p.connectDevice('air-ngomon');
    await publishAcked(
      device,
      'ioc/air/air-ngomon/readings',
      JSON.stringify([{ pm25: 12 }, { pm25: 13, ts: Date.now() - 1000 }]),
    );
    await device.endAsync();
    await expect
      .poll(
        async () =>
          (
            (await p.request('GET', '/api/stats', { token: p.credentials!.viewer!.token })).json as {
              readingsStoredTotal: number;
            }
          ).readingsStoredTotal,
      )
      .toBe(before.readingsStoredTotal + 2);
    expect((await p.request('GET', '/api/stats', { token: null })).status).toBe(401);
  });
});
