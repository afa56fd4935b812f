import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import type { AlertEvent } from './alert-model.ts';

/**
 * End to end through the real platform: a real device over MQTT (QoS 1) -> broker -> ingest -> the
 * alerts engine with the default rules of Huế -> alert events in the embedded store; then a restart.
 */
describe('alerts in the running platform', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ioc-alerts-platform-'));
  let platform: TestPlatform | undefined;
  afterAll(async () => {
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('raises one alert per rule from 300 concurrent QoS 1 publishes, and none again after a restart', async () => {
    platform = await startTestPlatform({ dataDir });
    const seen: AlertEvent[] = [];
    platform.alerts.bus.on('alert', (e) => seen.push(e));
    const device = await platform.connectDevice('water-kimlong');
    const now = Date.now();
    // Kim Long at 3.6-3.9 m: above alarm levels I (1.0), II (2.0) and III (3.5) at once
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        publishAcked(
          device,
          'ioc/water/water-kimlong/readings',
          JSON.stringify({ ts: now - 300_000 + i * 1000, waterLevel: 3.6 + (i % 4) / 10 }),
        ),
      ),
    );
    await platform.alerts.idle();
    const kimLong = platform.alerts.open().filter((a) => a.sensorId === 'water-kimlong');
    expect(kimLong.map((a) => `${a.ruleId}:${a.severity}:${a.state}`).sort()).toEqual([
      'flood-level-1:medium:firing',
      'flood-level-2:high:firing',
      'flood-level-3:critical:firing',
    ]);
    expect(seen.filter((e) => e.alert.sensorId === 'water-kimlong').map((e) => e.type)).toEqual([
      'firing',
      'firing',
      'firing',
    ]);
    const level3 = kimLong.find((a) => a.ruleId === 'flood-level-3')!;
    expect(level3.message.vi).toMatch(
      /^Mực nước 3,\d+ m tại Trạm thủy văn Kim Long \(sông Hương\) vượt báo động III \(3,5 m\)$/,
    );
    await platform.alerts.acknowledge(level3.id, 'operator', 'Đã thông báo sơ tán');
    const lastSeq = seen.at(-1)!.seq;
    await device.endAsync();
    await platform.close();

    platform = await startTestPlatform({ dataDir });
    const afterRestart: AlertEvent[] = [];
    platform.alerts.bus.on('alert', (e) => afterRestart.push(e));
    expect(
      platform.alerts
        .open()
        .filter((a) => a.sensorId === 'water-kimlong')
        .map((a) => `${a.ruleId}:${a.state}`)
        .sort(),
    ).toEqual(['flood-level-1:firing', 'flood-level-2:firing', 'flood-level-3:acknowledged']);
    const again = await platform.connectDevice('water-kimlong');
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        publishAcked(
          again,
          'ioc/water/water-kimlong/readings',
          JSON.stringify({ ts: Date.now() - 50_000 + i * 1000, waterLevel: 3.7 }),
        ),
      ),
    );
    await platform.alerts.idle();
    expect(afterRestart.filter((e) => e.alert.sensorId === 'water-kimlong')).toEqual([]);
    // the river falls below level I less its 0.1 m hysteresis: all three resolve, numbered after the old ones
    await publishAcked(again, 'ioc/water/water-kimlong/readings', JSON.stringify({ waterLevel: 0.5 }));
    await platform.alerts.idle();
    // a 3.2 m drop in one reading is also an implausible jump: Huế's river-gauge-health opens a maintenance task
    const kimLongAfter = afterRestart.filter((e) => e.alert.sensorId === 'water-kimlong');
    expect(kimLongAfter.filter((e) => e.alert.ruleId === 'river-gauge-health').map((e) => e.type)).toEqual(['firing']);
    const resolved = kimLongAfter.filter((e) => e.alert.ruleId.startsWith('flood-level-'));
    expect(resolved.map((e) => e.type)).toEqual(['resolved', 'resolved', 'resolved']);
    expect(Math.min(...kimLongAfter.map((e) => e.seq))).toBe(lastSeq + 1);
    expect(resolved.find((e) => e.alert.ruleId === 'flood-level-3')!.alert).toMatchObject({
      acknowledgedBy: 'operator',
      ackNote: 'Đã thông báo sơ tán',
      resolvedBy: 'system',
    });
    await again.endAsync();
  });
});
