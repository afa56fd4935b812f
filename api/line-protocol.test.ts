import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { InfluxDB, Point } from '@influxdata/influxdb-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';

/**
 * InfluxDB's write API on the platform, through real clients over a real socket: the official
 * @influxdata/influxdb-client (2.x API), plain HTTP and curl with gzip (1.x API, as Telegraf sends it) and
 * Debian's `influx -import`. What they write is validated, stored durably and evaluated by the rules.
 */
const run = promisify(execFile);

describe('InfluxDB line protocol in', () => {
  let p: TestPlatform;
  const dir = mkdtempSync(join(tmpdir(), 'ioc-lp-'));
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const stored = async (sensorId: string, metric: string, from: number, to: number) => {
    const res = await p.request('GET', `/api/sensors/${sensorId}/readings?metric=${metric}&from=${from}&to=${to}`, {
      token: p.operatorToken,
    });
    return (res.json as { points: Array<{ ts: number; value: number }> }).points;
  };
  const write1x = (body: string | Buffer, query: string, headers: Record<string, string> = {}) =>
    fetch(`${p.httpUrl}/write?${query}`, {
      method: 'POST',
      body: typeof body === 'string' ? body : new Uint8Array(body),
      headers,
    });

  it('stores what the official client library writes (2.x API, Token sensor:secret); flood rule fires', async () => {
    const token = `water-kimlong:${p.devicePassword('water-kimlong')}`;
    const writeApi = new InfluxDB({ url: p.httpUrl, token }).getWriteApi('hue', 'ioc', 'ms', { maxRetries: 0 });
    const t0 = Date.now() - 120_000;
    for (let i = 0; i < 3; i++)
      writeApi.writePoint(
        new Point('water')
          .tag('sensorId', 'water-kimlong')
          .floatField('waterLevel', 3.7)
          .timestamp(new Date(t0 + i * 1000)),
      );
    await writeApi.close();
    expect((await stored('water-kimlong', 'waterLevel', t0, t0 + 3000)).map((s) => s.value)).toEqual([3.7, 3.7, 3.7]);
    await p.alerts.idle();
    expect(
      p.alerts
        .open()
        .filter((a) => a.sensorId === 'water-kimlong')
        .map((a) => a.ruleId)
        .sort(),
    ).toEqual(['flood-level-1', 'flood-level-2', 'flood-level-3']);
  });

  it('takes gzip on the 1.x API with u/p, answers 204, keeps the precision', async () => {
    const s = Math.floor(Date.now() / 1000) - 300;
    const body = gzipSync(
      `air,sensorId=air-ngomon pm25=41.5,pm10=60 ${s}\nair,sensorId=air-ngomon pm25=42.5 ${s + 1}\n`,
    );
    const res = await write1x(
      body,
      `db=ioc&precision=s&u=air-ngomon&p=${encodeURIComponent(p.devicePassword('air-ngomon'))}`,
      { 'content-encoding': 'gzip' },
    );
    expect(res.status).toBe(204);
    expect(await stored('air-ngomon', 'pm25', s * 1000, s * 1000 + 2000)).toEqual([
      { ts: s * 1000, value: 41.5 },
      { ts: s * 1000 + 1000, value: 42.5 },
    ]);
  });

  it('refuses a body that does not parse with its line number, and writes none of it', async () => {
    const ts = Date.now() - 60_000;
    const res = await write1x(
      `air,sensorId=air-ngomon pm25=11 ${ts}\nair,sensorId=air-ngomon pm25= ${ts + 1}`,
      `db=ioc&precision=ms&u=air-ngomon&p=${encodeURIComponent(p.devicePassword('air-ngomon'))}`,
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe(
      `unable to parse 'air,sensorId=air-ngomon pm25= ${ts + 1}': ` +
        'missing value for field "pm25" (line 2); nothing was written',
    );
    expect(await stored('air-ngomon', 'pm25', ts, ts + 2)).toEqual([]);
  });

  it('answers a partial write as InfluxDB does: the valid readings stored, refused ones named by line', async () => {
    const ts = Date.now() - 90_000;
    const res = await fetch(`${p.httpUrl}/api/v2/write?org=hue&bucket=ioc&precision=ms`, {
      method: 'POST',
      headers: { authorization: `Token air-ngomon:${p.devicePassword('air-ngomon')}` },
      body:
        `air,sensorId=air-ngomon pm25=12 ${ts}\nair,sensorId=air-ngomon pm25=-5 ${ts + 1}\n` +
        `water,sensorId=air-ngomon waterLevel=1 ${ts + 2}`,
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe('invalid');
    expect(body.message).toMatch(
      new RegExp(
        '^partial write: 1 readings written, 2 refused: line 2: out_of_range: .*; line 3: kind_mismatch: ' +
          String.raw`measurement "water" is not the kind of sensor air-ngomon \("air"\)$`,
      ),
    );
    expect((await stored('air-ngomon', 'pm25', ts, ts + 3)).map((s) => s.value)).toEqual([12]);
  });

  it('refuses bad credentials (401), another sensor (403, nothing written) and a viewer (403)', async () => {
    const ts = Date.now() - 30_000;
    const bad = await write1x(`air,sensorId=air-ngomon pm25=1 ${ts}`, 'db=ioc&precision=ms&u=air-ngomon&p=wrong');
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'authorization failed' });
    const none = await write1x(`air,sensorId=air-ngomon pm25=1 ${ts}`, 'db=ioc&precision=ms');
    expect(none.status).toBe(401);
    const other = await write1x(
      `air,sensorId=air-ngomon pm25=2 ${ts}\nair,sensorId=air-hue-citadel pm25=2 ${ts}`,
      `db=ioc&precision=ms&u=air-ngomon&p=${encodeURIComponent(p.devicePassword('air-ngomon'))}`,
    );
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: string }).error).toMatch(
      /^line 2: air-ngomon may only write its own readings, not sensor "air-hue-citadel"; nothing was written$/,
    );
    expect(await stored('air-ngomon', 'pm25', ts, ts + 1)).toEqual([]);
    const viewer = await fetch(`${p.httpUrl}/api/v2/write?org=o&bucket=b&precision=ms`, {
      method: 'POST',
      headers: { authorization: `Token ${p.credentials!.viewer!.token}` },
      body: `air,sensorId=air-ngomon pm25=1 ${ts}`,
    });
    expect(viewer.status).toBe(403);
  });

  it('answers 413 for a body that grows past the limit once gunzipped', async () => {
    const big = gzipSync(Buffer.alloc(11 * 1024 * 1024, 'a'));
    const res = await write1x(big, `db=ioc&u=air-ngomon&p=${encodeURIComponent(p.devicePassword('air-ngomon'))}`, {
      'content-encoding': 'gzip',
    });
    expect(res.status).toBe(413);
  });

  it("takes line protocol on the device's MQTT readings topic (Telegraf); lines for others are refused", async () => {
    const device = await p.connectDevice('air-dongba');
    const errors: string[] = [];
    device.on('message', (_t, m) => errors.push(m.toString()));
    await device.subscribeAsync('ioc/air/air-dongba/errors', { qos: 1 });
    const ms = Date.now() - 45_000;
    await publishAcked(
      device,
      'ioc/air/air-dongba/readings',
      `air,sensorId=air-dongba,host=pi pm25=33.5 ${ms}000000\nair pm25=34.5 ${ms + 1000}000000\n`,
    );
    expect((await stored('air-dongba', 'pm25', ms, ms + 1001)).map((x) => x.value)).toEqual([33.5, 34.5]);
    await publishAcked(device, 'ioc/air/air-dongba/readings', `air,sensorId=air-ngomon pm25=1 ${ms + 2000}000000`);
    await expect.poll(() => errors.length).toBeGreaterThan(0);
    expect(errors[0]).toContain('line 1 is for sensor \\"air-ngomon\\", not air-dongba');
    expect(await stored('air-dongba', 'pm25', ms + 2000, ms + 2001)).toEqual([]);
    await device.endAsync();
  });

  it('fires the heavy-rain rule from line protocol published over MQTT, as from any other reading', async () => {
    const device = await p.connectDevice('rain-binhdien');
    const ms = Date.now() - 600_000;
    await publishAcked(
      device,
      'ioc/water/rain-binhdien/readings',
      `water,sensorId=rain-binhdien precipitation=20 ${ms}000000\nwater precipitation=15 ${ms + 60_000}000000\n`,
    );
    expect((await stored('rain-binhdien', 'precipitation', ms, ms + 60_001)).map((x) => x.value)).toEqual([20, 15]);
    // 35 mm within the hour: above the city's heavy-rain threshold (30 mm/h)
    await p.alerts.idle();
    const fired = () =>
      p.alerts
        .open()
        .filter((a) => a.sensorId === 'rain-binhdien')
        .map((a) => a.ruleId);
    await expect.poll(fired).toEqual(['heavy-rain']);
    await device.endAsync();
  });

  it("imports a file with Debian's influx CLI (influx -import) and fires the heavy-rain rule", async () => {
    const s = Math.floor(Date.now() / 1000) - 600;
    const file = join(dir, 'export.txt');
    writeFileSync(
      file,
      [
        '# DML',
        '# CONTEXT-DATABASE: ioc',
        `water,sensorId=rain-aluoi precipitation=20 ${s}`,
        `water,sensorId=rain-aluoi precipitation=15 ${s + 60}`,
        '',
      ].join('\n'),
    );
    const url = new URL(p.httpUrl);
    const rainPassword = p.devicePassword('rain-aluoi');
    const { stdout, stderr } = await run(
      'influx',
      [
        '-host',
        url.hostname,
        '-port',
        url.port,
        '-username',
        'rain-aluoi',
        '-password',
        rainPassword,
        '-import',
        '-path',
        file,
        '-precision',
        's',
      ],
      { timeout: 20_000 },
    );
    expect(`${stdout}${stderr}`).toMatch(/Processed 2 inserts\n.*Failed 0 inserts/);
    expect((await stored('rain-aluoi', 'precipitation', s * 1000, s * 1000 + 60_001)).map((x) => x.value)).toEqual([
      20, 15,
    ]);
    // 35 mm within the hour: above the city's heavy-rain threshold (30 mm/h)
    await p.alerts.idle();
    expect(
      p.alerts
        .open()
        .filter((a) => a.sensorId === 'rain-aluoi')
        .map((a) => a.ruleId),
    ).toEqual(['heavy-rain']);
  });

  it('takes a gzipped file from curl on the 1.x API (Basic auth), answers 204 and fires the flood rule', async () => {
    const s = Math.floor(Date.now() / 1000) - 200;
    const file = join(dir, 'phuoc.lp.gz');
    writeFileSync(file, gzipSync(`water,sensorId=water-phuoc waterLevel=1.6 ${s}\n`));
    const { stdout } = await run(
      'curl',
      [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-u',
        `water-phuoc:${p.devicePassword('water-phuoc')}`,
        '-H',
        'Content-Encoding: gzip',
        '--data-binary',
        `@${file}`,
        `${p.httpUrl}/write?db=ioc&precision=s`,
      ],
      { timeout: 20_000 },
    );
    expect(stdout).toBe('204');
    expect((await stored('water-phuoc', 'waterLevel', s * 1000, s * 1000 + 1)).map((x) => x.value)).toEqual([1.6]);
    // Phú Ốc's alarm level I is 1.5 m, II 3.0 m
    await p.alerts.idle();
    expect(
      p.alerts
        .open()
        .filter((a) => a.sensorId === 'water-phuoc')
        .map((a) => a.ruleId),
    ).toEqual(['flood-level-1']);
  });
});
