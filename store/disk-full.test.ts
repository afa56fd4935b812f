import { readFileSync, statfsSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_DIR } from '../config/platform-config.ts';
import type { CredentialsFile } from '../config/credentials.ts';
import { spawnPlatform, type PlatformProcess } from '../test-support/platform-process.ts';
import { mountSmallFilesystem, type SmallFilesystem } from '../test-support/small-filesystem.ts';

/**
 * A disk that fills up during ingest, on a real 8 MiB tmpfs holding the platform's data dir: the platform
 * stops acknowledging without closing connections, says so once (log, health 503, errors topic), keeps
 * its memory, and once a filler file is deleted it resumes by itself with every acknowledged reading
 * stored exactly once.
 */
const SENSOR = 'air-ngomon';
const fs: SmallFilesystem | undefined = mountSmallFilesystem(8 * 1024 * 1024);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const freeBytes = (dir: string) => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};
const lines = (p: PlatformProcess, re: RegExp) =>
  p.output
    .join('')
    .split('\n')
    .filter((l) => re.test(l));

async function health(p: PlatformProcess): Promise<{
  code: number;
  body: { status: string; storage?: { writable: boolean; reason?: string; low: boolean; lowReason?: string } };
}> {
  const res = await fetch(`${p.httpUrl}/api/health`);
  return { code: res.status, body: (await res.json()) as never };
}

async function rssBytes(p: PlatformProcess, token: string): Promise<number> {
  const text = await (await fetch(`${p.httpUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  return Number(/^ioc_process_(?:process_)?resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? NaN);
}

/** Publishes readings with the given timestamps, QoS 1; resolves with those acknowledged within `waitMs`. */
async function publishWindow(client: MqttClient, stamps: number[], waitMs: number): Promise<number[]> {
  const results = await Promise.all(
    stamps.map((ts) =>
      Promise.race([
        client
          .publishAsync(`ioc/air/${SENSOR}/readings`, JSON.stringify({ ts, pm25: ts % 500, pm10: (ts % 700) + 0.5 }), {
            qos: 1,
          })
          .then(
            () => ts,
            () => undefined,
          ),
        sleep(waitMs).then(() => undefined),
      ]),
    ),
  );
  return results.filter((ts): ts is number => ts !== undefined);
}

describe.skipIf(!fs)('a disk that fills up during ingest (8 MiB tmpfs)', () => {
  const dataDir = join(fs?.dir ?? '/nonexistent', 'data');
  const filler = join(fs?.dir ?? '/nonexistent', 'filler.bin');
  let platform: PlatformProcess | undefined;
  afterAll(async () => {
    if (platform && platform.child.exitCode === null) {
      platform.child.kill('SIGKILL');
      await platform.exited;
    }
    fs?.unmount();
  });

  it('stops acknowledging, keeps connections and memory, says so once, then resumes losing nothing', async () => {
    mkdirSync(dataDir, { mode: 0o700 });
    const config = parseYaml(readFileSync(join(CONFIG_DIR, 'default.yaml'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    config.city = join(CONFIG_DIR, String(config.city)) as never;
    config.kindsDir = join(CONFIG_DIR, String(config.kindsDir)) as never;
    config.store!.log = { maxBytes: 64 * 1024 * 1024, segmentBytes: 256 * 1024 };
    config.store!.disk = { lowWatermarkBytes: 2 * 1024 * 1024, lowWatermarkPercent: 0, checkSeconds: 1 };
    config.limits = { ...config.limits, devicePublishesPerSecond: 100_000, devicePublishBurst: 100_000 };
    const configFile = join(fs!.dir, 'platform.yaml');
    writeFileSync(configFile, stringifyYaml(config));

    platform = await spawnPlatform({ IOC_DATA_DIR: dataDir, IOC_CONFIG: configFile });
    const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as CredentialsFile;
    const token = creds.operator.token;
    expect((await health(platform)).code).toBe(200);
    const rssBefore = await rssBytes(platform, token);

    // leave about 1.5 MiB: a few segments of the log and the store's pages, then ENOSPC
    writeFileSync(filler, Buffer.alloc(Math.max(0, freeBytes(fs!.dir) - 1536 * 1024), 1));
    // below the 2 MiB watermark: a warning before anything fails (checked every second)
    let low = await health(platform);
    for (let i = 0; i < 50 && !low.body.storage?.low; i++) low = await sleep(200).then(() => health(platform!));
    expect(low.code).toBe(200);
    expect(low.body.status).toBe('degraded');
    expect(low.body.storage?.lowReason).toMatch(/low disk space on the data dir: .* free/);
    expect(lines(platform, /low disk space/)).toHaveLength(1);
    const device = creds.devices.find((d) => d.sensorId === SENSOR)!;

    const client = await mqtt.connectAsync(platform.mqttUrl, {
      username: SENSOR,
      password: device.password,
      clientId: `${SENSOR}-diskfull`,
      reconnectPeriod: 0,
    });
    let closes = 0;
    client.on('close', () => closes++);
    const told: Array<{ code: string; message: string }> = [];
    client.on('message', (_t, body) =>
      told.push(...(JSON.parse(body.toString()) as { errors: Array<{ code: string; message: string }> }).errors),
    );
    await client.subscribeAsync(`ioc/air/${SENSOR}/errors`, { qos: 0 });

    const acked = new Set<number>();
    const base = Date.now() - 3_600_000;
    let next = base;
    // fill the disk: windows of 32 publishes until the platform says it cannot write
    for (
      let round = 0;
      round < 2000 && client.connected && !told.some((e) => e.code === 'storage_unavailable');
      round++
    ) {
      const stamps = Array.from({ length: 32 }, () => next++);
      for (const ts of await publishWindow(client, stamps, 5000)) acked.add(ts);
    }
    expect(told.find((e) => e.code === 'storage_unavailable')?.message).toMatch(
      /disk full on the platform: reading not accepted, retry later/,
    );
    const ackedWhenFull = acked.size;
    expect(ackedWhenFull).toBeGreaterThan(100);

    // keep publishing into the full disk: nothing is acknowledged, nothing is closed, nothing floods
    const outputBefore = platform.output.join('').length;
    for (let round = 0; round < 20; round++) {
      const stamps = Array.from({ length: 50 }, () => next++);
      for (const ts of await publishWindow(client, stamps, 100)) acked.add(ts);
    }
    await sleep(1500);
    expect(acked.size).toBe(ackedWhenFull);
    expect(client.connected).toBe(true);
    expect(closes).toBe(0);
    const down = await health(platform);
    expect(down.code).toBe(503);
    expect(down.body.status).toBe('down');
    expect(down.body.storage?.reason).toMatch(/disk full/);
    // HTTP ingest says the same, with the reason
    const viaHttp = await fetch(`${platform.httpUrl}/api/ingest/air/${SENSOR}/readings`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${SENSOR}:${device.password}`).toString('base64')}`,
      },
      body: JSON.stringify({ ts: next++, pm25: 1 }),
    });
    expect(viaHttp.status).toBe(503);
    expect(await viaHttp.json()).toMatchObject({
      code: 'storage_unavailable',
      message: expect.stringMatching(/disk full on the platform/),
    });
    expect(lines(platform, /storage unavailable/)).toHaveLength(1);
    expect(lines(platform, /disk space on the data dir|low disk space/).length).toBeLessThanOrEqual(2);
    // 1,000 refused publishes wrote at most a few lines: no stack trace per publish
    expect(platform.output.join('').length - outputBefore).toBeLessThan(20_000);
    const metrics = await (
      await fetch(`${platform.httpUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })
    ).text();
    expect(metrics).toMatch(/^ioc_storage_writable 0$/m);
    expect(metrics).toMatch(/^ioc_disk_free_bytes \d+/m);
    const rssFull = await rssBytes(platform, token);
    expect(rssFull).toBeLessThan(rssBefore + 150 * 1024 * 1024);
    const outageOutput = platform.output.join('').length - outputBefore;

    // space returns: the platform finds out by itself (probe on a backoff) and acknowledges again
    unlinkSync(filler);
    const freedAt = Date.now();
    const deadline = Date.now() + 60_000;
    while ((await health(platform)).code !== 200 && Date.now() < deadline) await sleep(500);
    expect((await health(platform)).code).toBe(200);
    expect(lines(platform, /storage available/)).toHaveLength(1);
    expect(lines(platform, /above the low watermark again/)).toHaveLength(1);
    const resumedMs = Date.now() - freedAt;
    const after = Array.from({ length: 50 }, () => next++);
    const ackedAfter = await publishWindow(client, after, 10_000);
    expect(ackedAfter).toHaveLength(50);
    for (const ts of ackedAfter) acked.add(ts);
    expect(client.connected).toBe(true);
    expect(closes).toBe(0);

    // every acknowledged reading is stored, exactly once, once the store has caught up with the log (after a
    // fault the feeder may still be in its retry backoff, which a read does not wait out)
    const lagBytes = async () =>
      Number(
        (
          await (await fetch(`${platform!.httpUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text()
        ).match(/^ioc_store_lag_bytes (\d+)$/m)?.[1] ?? Number.NaN,
      );
    await expect.poll(lagBytes, { timeout: 30_000, interval: 250 }).toBe(0);
    const stored: number[] = [];
    // `to` is exclusive: windows [from, from + 10,000) hold every stamp once (`to` at from + 9,999 left out each
    // 10,000th stamp, unseen while fewer than 10,000 were acknowledged before the disk filled)
    for (let from = base; from < next; from += 10_000) {
      const res = await fetch(
        `${platform.httpUrl}/api/sensors/${SENSOR}/readings?metric=pm25&from=${from}&to=${from + 10_000}&limit=10000`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      expect(res.status).toBe(200);
      stored.push(...((await res.json()) as { points: Array<{ ts: number }> }).points.map((p) => p.ts));
    }
    const storedSet = new Set(stored);
    expect(stored.length).toBe(storedSet.size);
    expect([...acked].filter((ts) => !storedSet.has(ts))).toEqual([]);
    console.info(
      `disk-full: ${ackedWhenFull} acknowledged before full, 1000 refused while full, ${outageOutput} bytes ` +
        `of log meanwhile, RSS ${Math.round(rssBefore / 2 ** 20)} -> ${Math.round(rssFull / 2 ** 20)} MiB, ` +
        `resumed ${resumedMs} ms after space returned, ${acked.size} acknowledged, ${stored.length} stored ` +
        `(${storedSet.size} distinct), ${platform.output.join('').split('\n').length} log lines in all`,
    );
    client.end(true);
    platform.child.kill('SIGTERM');
    expect(await platform.exited).toBe(0);
  }, 240_000);
});
