import { describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform } from '../test-support/platform-harness.ts';

/**
 * Shutdown finishes with devices dropping (their wills arriving) just before it, when the store feeder
 * is between batches: a wake-up lost there once left close() waiting forever.
 */
describe('graceful shutdown', () => {
  it('closes promptly after devices drop, keeping their last status', async () => {
    for (let round = 0; round < 3; round++) {
      const p = await startTestPlatform();
      const ids = ['air-ngomon', 'water-kimlong', 'cam-ngomon'];
      const devices = await Promise.all(
        ids.map((id) => {
          const kind = p.city.sensorsById.get(id)!.kind;
          return p.connectDevice(id, {
            will: { topic: `ioc/${kind}/${id}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
          });
        }),
      );
      for (const [i, d] of devices.entries())
        await publishAcked(d, `ioc/${p.city.sensorsById.get(ids[i]!)!.kind}/${ids[i]}/status`, 'online');
      for (const d of devices) d.stream.destroy();
      const started = Date.now();
      await p.stop();
      expect(Date.now() - started).toBeLessThan(10_000);
    }
  }, 120_000);
});
