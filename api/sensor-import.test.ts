import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAcked, startTestPlatform, tryConnect, type TestPlatform } from '../test-support/platform-harness.ts';

/** Bulk import over HTTP: CSV and GeoJSON, a dry run that lists every problem and changes nothing. */
interface ImportResult {
  dryRun: boolean;
  rows: number;
  problems: Array<{ where: string; id?: string; message: string }>;
  sensors: Array<{ id: string; action: string }>;
  credentials: Array<{ sensorId: string; username: string; password: string }>;
}

const CSV_BAD = [
  'id,kind,name,lat,lon,district,floodLevels,tags',
  'air-ok,air,Trạm tốt,16.46,107.59,Phú Xuân,,site=school',
  'air-lava,lava,Loại lạ,16.46,107.59,Phú Xuân,,',
  'air-ok,air,"Trùng id, lần hai",16.46,107.59,Phú Xuân,,',
  'air-sea,air,Ngoài biển,16.9,108.4,Thuận An,,',
  'air-nodistrict,air,Thiếu phường,16.46,107.59,,,',
  'water-kimlong,water,Đã có,16.46,107.59,Kim Long,,',
  'air-swapped,air,Đảo tọa độ,107.59,16.46,Phú Xuân,,',
].join('\r\n');

describe('bulk import of sensors', () => {
  let platform: TestPlatform;
  const post = (path: string, body: string, type: string) =>
    platform.request('POST', path, { token: platform.adminToken, body, headers: { 'content-type': type } });
  const registryIds = async () =>
    (
      (await platform.request('GET', '/api/sensor-registry', { token: platform.adminToken })).json as {
        sensors: Array<{ id: string }>;
      }
    ).sensors.map((s) => s.id);
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await platform.stop();
  });

  it('a CSV dry run lists each problem by line, changing nothing; a run with problems is refused whole', async () => {
    const before = await registryIds();
    const dry = await post('/api/sensors/import?dryRun=true', CSV_BAD, 'text/csv');
    expect(dry.status).toBe(200);
    const result = dry.json as ImportResult;
    expect(result).toMatchObject({ dryRun: true, rows: 7, sensors: [], credentials: [] });
    const byLine = (where: string) =>
      result.problems
        .filter((p) => p.where === where)
        .map((p) => p.message)
        .join(' | ');
    expect(byLine('line 2')).toBe('');
    expect(byLine('line 3')).toMatch(/unknown kind "lava"/);
    expect(byLine('line 4')).toMatch(/duplicate sensor id "air-ok" \(also at line 2\)/);
    expect(byLine('line 5')).toMatch(/outside the city boundary/);
    expect(byLine('line 6')).toMatch(/district: missing/);
    expect(byLine('line 7')).toMatch(/"water-kimlong" exists already/);
    expect(byLine('line 8')).toMatch(/lat/);
    expect(await registryIds()).toEqual(before);
    const real = await post('/api/sensors/import', CSV_BAD, 'text/csv');
    expect(real.status).toBe(400);
    expect((real.json as ImportResult).problems.length).toBe(result.problems.length);
    expect(await registryIds()).toEqual(before);
  });

  it('a clean CSV imports all rows at once; the new devices get secrets and can publish', async () => {
    const csv =
      'id,kind,name,lat,lon,district,tag.site\nair-csv1,air,Trạm CSV 1,16.46,107.59,Phú Xuân,school\n' +
      'air-csv2,air,Trạm CSV 2,16.47,107.6,Thuận Hóa,market\n';
    const dry = (await post('/api/sensors/import?dryRun=true', csv, 'text/csv')).json as ImportResult;
    expect(dry.sensors).toEqual([
      { id: 'air-csv1', action: 'create' },
      { id: 'air-csv2', action: 'create' },
    ]);
    expect(await registryIds()).not.toContain('air-csv1');
    const real = await post('/api/sensors/import', csv, 'text/csv');
    expect(real.status).toBe(200);
    const creds = (real.json as ImportResult).credentials;
    expect(creds.map((c) => c.sensorId)).toEqual(['air-csv1', 'air-csv2']);
    const device = await tryConnect(platform.mqttUrl, {
      username: 'air-csv2',
      password: creds[1]!.password,
      clientId: 'air-csv2',
    });
    expect(device.ok).toBe(true);
    await publishAcked(device.client!, 'ioc/air/air-csv2/readings', JSON.stringify({ pm25: 12 }));
    const sensor = await platform.request('GET', '/api/sensors/air-csv2');
    expect(sensor.json).toMatchObject({
      district: 'Thuận Hóa',
      tags: { site: 'market' },
      latest: { pm25: { value: 12 } },
    });
    await device.client!.endAsync();
  });

  it('imports GeoJSON points, lists bad features by index, and updates existing sensors only when asked', async () => {
    const geo = (features: unknown[]) => JSON.stringify({ type: 'FeatureCollection', features });
    const point = (id: string, lon: number, lat: number, props: Record<string, unknown> = {}) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [lon, lat] },
      properties: { id, kind: 'traffic', name: `Đếm xe ${id}`, district: 'An Cựu', ...props },
    });
    const bad = await post(
      '/api/sensors/import?dryRun=true',
      geo([
        point('traffic-geo1', 107.6, 16.45),
        {
          type: 'Feature',
          geometry: {
            type: 'LineString',
            coordinates: [
              [1, 2],
              [3, 4],
            ],
          },
          properties: { id: 'traffic-line', kind: 'traffic', name: 'x', district: 'y' },
        },
        point('traffic-geo3', 107.6, 16.45, { kind: undefined }),
      ]),
      'application/geo+json',
    );
    const problems = (bad.json as ImportResult).problems;
    expect(problems.map((p) => p.where)).toEqual(expect.arrayContaining(['features[1]', 'features[2]']));
    expect(problems.some((p) => p.where === 'features[0]')).toBe(false);
    expect(problems.find((p) => p.where === 'features[2]')!.message).toMatch(/kind: missing/);

    const good = geo([point('traffic-geo1', 107.6, 16.45, { tags: { road: 'junction' } })]);
    expect((await post('/api/sensors/import', good, 'application/geo+json')).status).toBe(200);
    const renamed = geo([point('traffic-geo1', 107.6, 16.45, { name: 'Đổi tên' })]);
    expect(
      ((await post('/api/sensors/import?dryRun=true', renamed, 'application/geo+json')).json as ImportResult)
        .problems[0]!.message,
    ).toMatch(/exists already/);
    const updated = await post('/api/sensors/import?update=true', renamed, 'application/geo+json');
    expect((updated.json as ImportResult).sensors).toEqual([{ id: 'traffic-geo1', action: 'update' }]);
    expect((await platform.request('GET', '/api/sensors/traffic-geo1')).json).toMatchObject({ name: 'Đổi tên' });
  });

  it('refuses a file that is not valid UTF-8 instead of storing replacement characters', async () => {
    const bytes = Buffer.concat([
      Buffer.from('id,kind,name,lat,lon,district\nutf'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(',air,x,16.46,107.59,Phú Hội\n'),
    ]);
    // raw bytes over real HTTP (the harness's request sends text)
    const res = await fetch(`${platform.httpUrl}/api/sensors/import?dryRun=true`, {
      method: 'POST',
      body: bytes,
      headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'text/csv' },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('invalid_encoding');
  });

  it("the city's own sensors pass the same checks (the seed is importable)", async () => {
    const text = readFileSync(join(import.meta.dirname, '../config/cities/hue/sensors.yaml'), 'utf8');
    const { checkImport } = await import('../config/sensors/sensor-import.ts');
    const { loadCity } = await import('../config/city-config.ts');
    const { loadCityBounds } = await import('../config/sensors/city-bounds.ts');
    const city = loadCity(
      join(import.meta.dirname, '../config/cities/hue/city.yaml'),
      join(import.meta.dirname, '../config/kinds'),
    );
    const check = checkImport(
      'yaml',
      text,
      { kinds: city.kinds, bounds: loadCityBounds(city.boundaryFile) },
      { exists: () => true, updateExisting: true },
    );
    expect(check.problems).toEqual([]);
    expect(check.plan.length).toBe(city.sensors.length);
  });
});
