import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../../test-support/log-capture.ts';
import { publishAcked, startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';
import { CORE_CONTEXT, SMART_DATA_MODELS_CONTEXT } from './ngsi-ld-context.ts';

/**
 * NGSI-LD out, end to end: real devices publish over MQTT, the default rules of Huế fire, and a client
 * reads the city over real HTTP as a FIWARE tool would. Entity attributes are checked against the Smart
 * Data Models names in smart-data-models.fixture.json.
 */
type Attr = { type: string; value?: unknown; object?: string; observedAt?: string; unitCode?: string };
type Entity = Record<string, unknown> & { id: string; type: string };
interface Model {
  required: string[];
  attributes: string[];
  enums?: Record<string, string[]>;
}
const fixture = JSON.parse(
  readFileSync(new URL('./smart-data-models.fixture.json', import.meta.url), 'utf8'),
) as Record<string, Model> & { extensions: Record<string, string[]> };

let platform: TestPlatform;
const logs = captureLogs('info');
const get = async (
  path: string,
  headers: Record<string, string> = {},
  token: string | null = platform.operatorToken,
) => {
  const res = await fetch(`${platform.httpUrl}${path}`, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
};
const entities = async (query: string) => {
  const res = await get(`/ngsi-ld/v1/entities?${query}`);
  expect(res.status, res.text).toBe(200);
  return res.json as Entity[];
};

beforeAll(async () => {
  platform = await startTestPlatform({ logger: logs.logger });
  const now = Date.now();
  const air = await platform.connectDevice('air-ngomon');
  await publishAcked(
    air,
    'ioc/air/air-ngomon/readings',
    JSON.stringify({ ts: now - 1000, pm25: 80.5, temperature: 31, relativeHumidity: 70 }),
  );
  const airClean = await platform.connectDevice('air-thuanan');
  await publishAcked(airClean, 'ioc/air/air-thuanan/readings', JSON.stringify({ ts: now - 1000, pm25: 12 }));
  const river = await platform.connectDevice('water-kimlong');
  // above alarm level III (3.5 m): flood-level-1..3 fire
  await publishAcked(
    river,
    'ioc/water/water-kimlong/readings',
    JSON.stringify({ ts: now - 1000, waterLevel: 3.7, flow: 900, precipitation: 12 }),
  );
  const road = await platform.connectDevice('traffic-gahue');
  await publishAcked(
    road,
    'ioc/traffic/traffic-gahue/readings',
    JSON.stringify({ ts: now - 1000, intensity: 340, averageVehicleSpeed: 12, occupancy: 0.8, congested: 1 }),
  );
  await platform.alerts.idle();
});
afterAll(async () => {
  await platform?.stop();
});

describe('GET /ngsi-ld/v1/entities', () => {
  it('writes every entity with the Smart Data Models attribute names, required ones present', async () => {
    const all = await entities('limit=1000');
    const types = new Set(all.map((e) => e.type));
    expect([...types].sort()).toEqual([
      'AirQualityObserved',
      'Alert',
      'Device',
      'TrafficFlowObserved',
      'WaterObserved',
    ]);
    for (const e of all) {
      const model = fixture[e.type]!;
      const allowed = new Set(['id', 'type', ...model.attributes, ...(fixture.extensions[e.type] ?? [])]);
      expect(
        Object.keys(e).filter((k) => !allowed.has(k)),
        `${e.id} has attributes outside ${e.type}`,
      ).toEqual([]);
      expect(
        model.required.filter((k) => !(k in e)),
        `${e.id} lacks required attributes`,
      ).toEqual([]);
      expect(e.id).toMatch(new RegExp(`^urn:ngsi-ld:${e.type}:hue:`));
      for (const [name, attr] of Object.entries(e)) {
        if (name === 'id' || name === 'type') continue;
        expect(['Property', 'GeoProperty', 'Relationship'], `${e.id} ${name}`).toContain((attr as Attr).type);
      }
      for (const [name, values] of Object.entries(model.enums ?? {})) expect(values).toContain((e[name] as Attr).value);
    }
  });

  it('gives the latest readings, normalized, with observedAt and unitCode; a Device for every sensor', async () => {
    const [air] = await entities('id=urn:ngsi-ld:AirQualityObserved:hue:air-ngomon');
    expect(air!.pm25).toMatchObject({ type: 'Property', value: 80.5, unitCode: 'GQ' });
    expect(Date.parse((air!.pm25 as Attr).observedAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(air!.location).toEqual({ type: 'GeoProperty', value: { type: 'Point', coordinates: [107.5793, 16.4675] } });
    expect(air!.refDevice).toEqual({ type: 'Relationship', object: 'urn:ngsi-ld:Device:hue:air-ngomon' });
    const [river] = await entities('type=WaterObserved&q=height>3');
    expect(river).toMatchObject({
      id: 'urn:ngsi-ld:WaterObserved:hue:water-kimlong',
      height: { value: 3.7, unitCode: 'MTR' },
      flow: { value: 900 },
    });
    const [road] = await entities('type=TrafficFlowObserved');
    expect(road).toMatchObject({ intensity: { value: 340 }, congested: { value: true } });

    const devices = await get('/ngsi-ld/v1/entities?type=Device&count=true&limit=0');
    expect(devices.json).toEqual([]);
    expect(Number(devices.headers.get('ngsild-results-count'))).toBe(platform.city.sensors.length);
    const device = (await get('/ngsi-ld/v1/entities/urn:ngsi-ld:Device:hue:air-ngomon')).json as Entity;
    expect(device).toMatchObject({
      deviceState: { value: 'online' },
      controlledProperty: { value: expect.arrayContaining(['pm25', 'relativeHumidity']) },
    });
    expect(
      Date.parse(((device.dateLastValueReported as Attr).value as { '@value': string })['@value']),
    ).toBeGreaterThan(Date.now() - 60_000);
  });

  it('shows the alerts the rules raised as Alert entities', async () => {
    const alerts = await entities('type=Alert&q=alertSource=="urn:ngsi-ld:Device:hue:water-kimlong"&options=keyValues');
    expect(alerts.map((a) => a.severity).sort()).toEqual(['critical', 'high', 'medium']);
    for (const a of alerts) {
      expect(a).toMatchObject({
        category: 'naturalDisaster',
        subCategory: 'flood',
        alertSource: 'urn:ngsi-ld:Device:hue:water-kimlong',
        areaServed: 'Kim Long',
      });
      expect(a.description).toMatch(/Kim Long/);
      expect(a.validTo).toBeUndefined();
    }
    // resolving one gives it a validTo
    const open = platform.alerts.open().find((a) => a.sensorId === 'water-kimlong' && a.severity === 'medium')!;
    await platform.alerts.resolve(open.id, 'operator');
    const [resolved] = await entities(`id=urn:ngsi-ld:Alert:hue:${open.id}&options=keyValues`);
    expect(resolved!.validTo).toMatchObject({ '@type': 'DateTime' });
  });

  it('filters with q, type, id, idPattern and attrs, and pages with limit and offset', async () => {
    const ids = (list: Entity[]) => list.map((e) => e.id);
    expect(ids(await entities('q=pm25>50'))).toEqual(['urn:ngsi-ld:AirQualityObserved:hue:air-ngomon']);
    expect(ids(await entities('q=pm25>50;areaServed=="Thuận An"'))).toEqual([]);
    expect(ids(await entities('q=pm25<50|height>=3.5')).sort()).toEqual([
      'urn:ngsi-ld:AirQualityObserved:hue:air-thuanan',
      'urn:ngsi-ld:WaterObserved:hue:water-kimlong',
    ]);
    expect(ids(await entities('q=pm25==10..20'))).toEqual(['urn:ngsi-ld:AirQualityObserved:hue:air-thuanan']);
    expect(ids(await entities('type=Device&q=address[addressLocality]=="Kim Long";name~="mưa"'))).toEqual([
      'urn:ngsi-ld:Device:hue:rain-kimlong',
    ]);
    expect(ids(await entities('type=Device&idPattern=traffic-(gahue|ancuu)$')).sort()).toEqual([
      'urn:ngsi-ld:Device:hue:traffic-ancuu',
      'urn:ngsi-ld:Device:hue:traffic-gahue',
    ]);
    const projected = await entities('type=AirQualityObserved&attrs=pm25');
    expect(projected.map((e) => Object.keys(e).sort())).toEqual([
      ['id', 'pm25', 'type'],
      ['id', 'pm25', 'type'],
    ]);
    const page1 = ids(await entities('type=Device&limit=3'));
    const page2 = ids(await entities('type=Device&limit=3&offset=3'));
    expect(page1).toHaveLength(3);
    expect(page2.some((id) => page1.includes(id))).toBe(false);
  });

  it('negotiates JSON (context in a Link header) or JSON-LD (context in the body)', async () => {
    const json = await get('/ngsi-ld/v1/entities?type=Device&limit=1', { accept: 'application/json' });
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(json.headers.get('link')).toBe(
      `<${SMART_DATA_MODELS_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`,
    );
    expect((json.json as Entity[])[0]!['@context']).toBeUndefined();
    const ld = await get('/ngsi-ld/v1/entities/urn:ngsi-ld:Device:hue:air-ngomon', { accept: 'application/ld+json' });
    expect(ld.headers.get('content-type')).toMatch(/^application\/ld\+json/);
    expect(ld.headers.get('link')).toBeNull();
    expect((ld.json as Entity)['@context']).toEqual([SMART_DATA_MODELS_CONTEXT, CORE_CONTEXT]);
  });
});

describe('NGSI-LD errors', () => {
  const problem = (type: string) => ({
    type: `https://uri.etsi.org/ngsi-ld/errors/${type}`,
    title: expect.any(String),
    detail: expect.any(String),
  });

  it('answers bad requests with ProblemDetails, counts and logs them once', async () => {
    const cases: Array<[string, number, string, Record<string, string>?]> = [
      ['/ngsi-ld/v1/entities?q=pm25>', 400, 'BadRequestData'],
      ['/ngsi-ld/v1/entities?q=(pm25>1', 400, 'BadRequestData'],
      ['/ngsi-ld/v1/entities?limit=5000', 400, 'BadRequestData'],
      ['/ngsi-ld/v1/entities?idPattern=(a%2B)%2B$', 400, 'BadRequestData'],
      ['/ngsi-ld/v1/entities?options=sysAttrs', 400, 'BadRequestData'],
      ['/ngsi-ld/v1/entities/not-a-uri', 400, 'BadRequestData'],
      ['/ngsi-ld/v1/entities/urn:ngsi-ld:Device:hue:nowhere', 404, 'ResourceNotFound'],
      ['/ngsi-ld/v1/subscriptions', 404, 'ResourceNotFound'],
      ['/ngsi-ld/v1/entities', 406, 'NotAcceptable', { accept: 'text/html' }],
    ];
    for (const [path, status, type, headers] of cases) {
      const res = await get(path, headers);
      expect(res.status, path).toBe(status);
      expect(res.json, path).toEqual(problem(type));
    }
    const bad = await get('/ngsi-ld/v1/entities?q=pm25>');
    expect((bad.json as { detail: string }).detail).toBe('q: a value after ">" at position 5');
    const metrics = (await get('/metrics', {}, platform.adminToken)).text;
    expect(metrics).toMatch(/ioc_ngsild_refused_total\{type="BadRequestData"\} 7/);
    const lines = logs.lines.filter((l) => l.msg === 'NGSI-LD request refused' && l.type === 'BadRequestData');
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines[0])).not.toContain('pm25');
  });

  it('needs a viewer token by default', async () => {
    const res = await get('/ngsi-ld/v1/entities', {}, null);
    expect(res.status).toBe(401);
    expect(res.json).toEqual(problem('Unauthorized'));
    expect((await get('/ngsi-ld/v1/entities', {}, 'not-a-token')).status).toBe(401);
    // counted and logged by access control, once, not again as an NGSI-LD refusal
    const metrics = (await get('/metrics', {}, platform.adminToken)).text;
    expect(metrics).toMatch(/ioc_http_denied_total\{status="401"\} [1-9]/);
    expect(metrics).not.toMatch(/ioc_ngsild_refused_total\{type="Unauthorized"\}/);
    expect(logs.lines.filter((l) => l.msg === 'request refused' && l.url === '/ngsi-ld/v1/entities')).toHaveLength(1);
    expect(logs.lines.filter((l) => l.msg === 'NGSI-LD request refused' && l.type === 'Unauthorized')).toHaveLength(0);
  });
});

describe('ngsiLd.public', () => {
  it('opens the entities to anyone', async () => {
    const open = await startTestPlatform({ overrides: { ngsiLd: { public: true } } });
    try {
      const res = await fetch(`${open.httpUrl}/ngsi-ld/v1/entities?type=Device&limit=1`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as Entity[])[0]!.type).toBe('Device');
    } finally {
      await open.stop();
    }
  });
});
