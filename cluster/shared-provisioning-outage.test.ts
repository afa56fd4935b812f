import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type InfluxServer } from '../test-support/influxd.ts';
import type { TestPlatform } from '../test-support/platform-harness.ts';
import { startRedis, type RedisServer } from '../test-support/redis-server.ts';
import { freshDatabase } from '../store/influxdb/influx-test-helpers.ts';
import { startNode } from './cluster-test-kit.ts';

/**
 * A provisioning claim while the cluster's Redis does not answer (config/sensors/provisioning-codes.ts): the
 * shared copy decides every claim, so with Redis stopped (SIGSTOP: the connection stays open, nothing answers)
 * the claim is refused at once with 503, not held for ever and never decided from the node's own file; it does
 * not count against the technician's address; once Redis answers, the same code works once.
 */
describe('a provisioning claim while Redis does not answer', () => {
  let redis: RedisServer | undefined;
  let influx: InfluxServer | undefined;
  let node: TestPlatform | undefined;
  beforeAll(async () => {
    const [r, i] = await Promise.all([startRedis(), startInfluxd()]);
    redis = r;
    influx = i;
    node = await startNode(
      { redisUrl: r.url, influxUrl: i.url, database: freshDatabase('provoutage'), leaseMs: 1500, partitions: 4 },
      'node-a',
      // one refused code from an address, and the next claim from it waits
      { overrides: { accounts: { maxFailuresPerAddress: 1 } } },
    );
  }, 90_000);
  afterAll(async () => {
    const pid = redis?.pid();
    if (pid !== undefined) process.kill(pid, 'SIGCONT');
    await node?.stop();
    await redis?.dispose();
    await influx?.dispose();
  });

  it('is refused with 503 at once, not counted against the address; the code works once Redis is back', async () => {
    const n = node!;
    const issued = await n.request('POST', '/api/sensors/cam-sanbay/provisioning-codes', {
      token: n.adminToken,
      body: { expiresInMinutes: 30 },
    });
    expect(issued.status, issued.text).toBe(201);
    const { code } = issued.json as { code: string };
    const claim = () => n.request('POST', '/api/provision', { token: null, body: { code } });

    const pid = redis!.pid()!;
    process.kill(pid, 'SIGSTOP');
    let during: Awaited<ReturnType<typeof claim>>;
    const began = Date.now();
    try {
      during = await claim();
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(during.status, during.text).toBe(503);
    expect(during.json).toMatchObject({ code: 'provisioning_unavailable' });
    expect(Date.now() - began).toBeLessThan(10_000);

    // not the technician's failure: with a limit of one failure, the valid code still gets through
    const after = await claim();
    expect(after.status, after.text).toBe(200);
    expect(after.json).toMatchObject({ sensorId: 'cam-sanbay' });
    // spent: a replay is refused, and that refusal does count (the next claim waits)
    expect((await claim()).status).toBe(403);
    expect((await claim()).status).toBe(429);
  }, 60_000);
});
