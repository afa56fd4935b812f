import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  publishAcked,
  startTestPlatform,
  subscribeCollect,
  type TestPlatform,
} from '../test-support/platform-harness.ts';

/**
 * Issue 12, item 3: a river gauge hovering around alarm level I must not storm operators. Real device and
 * integration clients over MQTT; the announced events are those integrations receive on ioc/alerts/#.
 */
describe('flapping alerts', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform({ overrides: { limits: { alertFlapTransitions: 4, alertFlapWindowSeconds: 600 } } });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('announces the changes up to the bound, marks the next one flapping, then holds the rest', async () => {
    const integration = await p.connectOperator();
    const alerts = await subscribeCollect(integration, 'ioc/alerts/#');
    const device = await p.connectDevice('water-kimlong');
    const start = Date.now() - 120_000;
    // level I is 1.0 m with 0.1 m hysteresis: 1.5 fires it, 0.5 resolves it; 10 cycles = 20 state changes
    for (let i = 0; i < 20; i++) {
      await publishAcked(
        device,
        'ioc/water/water-kimlong/readings',
        JSON.stringify({ ts: start + i * 1000, waterLevel: i % 2 === 0 ? 1.5 : 0.5 }),
      );
    }
    await p.alerts.idle();
    // a marker after the storm: another sensor's alert arrives after everything the storm announced
    const marker = await p.connectDevice('water-phuoc');
    await publishAcked(marker, 'ioc/water/water-phuoc/readings', JSON.stringify({ waterLevel: 9 }));
    await expect.poll(() => alerts.messages.some((m) => m.topic.endsWith('/water-phuoc'))).toBe(true);

    const kimLong = alerts.messages
      .filter((x) => x.topic.endsWith('/water-kimlong'))
      .map((x) => JSON.parse(x.payload) as { type: string; alert: { ruleId: string; flapping?: boolean } })
      .filter((e) => e.alert.ruleId === 'flood-level-1');
    expect(kimLong.map((e) => e.type)).toEqual(['firing', 'resolved', 'firing', 'resolved', 'firing']);
    expect(kimLong.map((e) => e.alert.flapping ?? false)).toEqual([false, false, false, false, true]);
    expect((await p.request('GET', '/api/health', { token: null })).status).toBe(200);
  });
});
