import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { CredentialsFile } from '../config/credentials.ts';
import { spawnPlatform, type PlatformProcess } from '../test-support/platform-process.ts';

/**
 * Nothing acknowledged is lost: devices publish QoS 1 as fast as they can, the platform process is
 * killed with SIGKILL mid-stream, and after a restart every acknowledged reading is there.
 */
describe('durability across SIGKILL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ioc-durable-'));
  const processes: PlatformProcess[] = [];
  afterAll(() => {
    for (const p of processes) p.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finds every QoS 1-acknowledged reading after the process is killed', async () => {
    const first = await spawnPlatform({ IOC_DATA_DIR: dataDir });
    processes.push(first);
    const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as CredentialsFile;
    const sensors = ['air-ngomon', 'air-dongba', 'air-gahue', 'air-ancuu'];
    const acked = new Map<string, Set<number>>(sensors.map((s) => [s, new Set()]));
    const base = Date.now() - 3_600_000;
    let stop = false;
    const clients = await Promise.all(
      sensors.map((id) =>
        mqtt.connectAsync(first.mqttUrl, {
          username: id,
          password: creds.devices.find((d) => d.sensorId === id)!.password,
          clientId: `${id}-durability`,
          reconnectPeriod: 0,
        }),
      ),
    );
    const loops = clients.map(async (client, i) => {
      const id = sensors[i]!;
      // a window of 8 publishes in flight per device, each with its own timestamp
      for (let n = 0; !stop; n += 8) {
        const window = Array.from({ length: 8 }, (_, k) => base + n + k);
        const results = await Promise.allSettled(
          window.map((ts) =>
            client
              .publishAsync(`ioc/air/${id}/readings`, JSON.stringify({ ts, pm25: ts % 500 }), { qos: 1 })
              .then(() => ts),
          ),
        );
        for (const r of results) if (r.status === 'fulfilled') acked.get(id)!.add(r.value);
        if (results.some((r) => r.status === 'rejected')) return;
      }
    });
    // let acknowledgements accumulate, then kill without warning
    await new Promise((r) => setTimeout(r, 1500));
    first.child.kill('SIGKILL');
    stop = true;
    await first.exited;
    await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 2000))]);
    for (const c of clients) c.end(true);
    const total = [...acked.values()].reduce((n, s) => n + s.size, 0);
    expect(total).toBeGreaterThan(100);

    const second = await spawnPlatform({ IOC_DATA_DIR: dataDir });
    processes.push(second);
    const token = creds.operator.token;
    for (const id of sensors) {
      const res = await fetch(
        `${second.httpUrl}/api/sensors/${id}/readings?metric=pm25&from=${base}&to=${base + 3_600_000}&limit=10000`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      const body = (await res.json()) as { points: Array<{ ts: number }> };
      const stored = new Set(body.points.map((pt) => pt.ts));
      const missing = [...acked.get(id)!].filter((ts) => !stored.has(ts));
      expect(missing, `${id}: acknowledged but missing`).toEqual([]);
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 90_000);
});
