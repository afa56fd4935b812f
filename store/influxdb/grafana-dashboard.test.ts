import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startInfluxd, type InfluxServer } from '../../test-support/influxd.ts';
import type { Point } from '../time-series-store.ts';
import { InfluxHttp } from './influx-http.ts';
import { capturingLogger, freshDatabase, influxConfig } from './influx-test-helpers.ts';
import { openInfluxStore } from './influxdb-store.ts';

interface Target {
  query: string;
}
interface Panel {
  type: string;
  title: string;
  targets?: Target[];
}
interface Variable {
  type: string;
  name: string;
  query: string;
}
const dashboard = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../docs/grafana/ioc-dashboard.json', import.meta.url)), 'utf8'),
) as {
  panels: Panel[];
  templating: { list: Variable[] };
};
const sensors = (
  parseYaml(readFileSync(fileURLToPath(new URL('../../config/cities/hue/sensors.yaml', import.meta.url)), 'utf8')) as {
    sensors: Array<{ id: string; kind: string; district: string }>;
  }
).sensors;

const customVariables = dashboard.templating.list.filter((v) => v.type === 'custom');
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, query: t.query })));

describe('Grafana dashboard of the default city', () => {
  it('lists only sensors of the default city, of the kind each panel reads', () => {
    const byId = new Map(sensors.map((s) => [s.id, s]));
    const kindOf: Record<string, string> = { river: 'water', rain: 'water', air: 'air', traffic: 'traffic' };
    expect(customVariables.map((v) => v.name).sort()).toEqual(Object.keys(kindOf).sort());
    for (const variable of customVariables) {
      for (const id of variable.query.split(',')) expect(byId.get(id)?.kind, id).toBe(kindOf[variable.name]);
    }
  });

  describe('against a real InfluxDB', () => {
    let server: InfluxServer;
    let http: InfluxHttp;
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    beforeAll(async () => {
      server = await startInfluxd();
      const database = freshDatabase('grafana');
      const store = await openInfluxStore(influxConfig({ url: server.url, database }), capturingLogger().logger);
      http = new InfluxHttp(influxConfig({ url: server.url, database }));
      const values: Record<string, Record<string, number>> = {
        water: { waterLevel: 1.2, precipitation: 0.4 },
        air: { pm25: 35, pm10: 60 },
        traffic: { intensity: 120, averageVehicleSpeed: 31 },
        camera: { vehicleCount: 4 },
      };
      const points: Point[] = sensors.flatMap((s) =>
        [0, 1, 2].map((i) => ({
          measurement: s.kind,
          tags: { sensorId: s.id, kind: s.kind, district: s.district },
          fields: values[s.kind]!,
          ts: now - i * 60_000,
        })),
      );
      points.push(
        {
          measurement: 'device_status',
          tags: { sensorId: 'water-kimlong', kind: 'water', district: 'Kim Long' },
          fields: { status: 'online', source: 'device' },
          ts: now - 5000,
        },
        {
          measurement: 'alert_events',
          tags: {
            ruleId: 'flood-kimlong',
            sensorId: 'water-kimlong',
            kind: 'water',
            district: 'Kim Long',
            severity: 'high',
          },
          fields: { alertId: 'a1', state: 'firing', type: 'firing', seq: 1, value: 2.1, threshold: 2 },
          ts: now - 4000,
        },
      );
      await store.write(points);
    });
    afterAll(() => server?.dispose());

    /** Grafana's macros and variables as it sends them with every variable on "All". */
    const expand = (query: string) => {
      let out = query
        .replaceAll('$timeFilter', `time >= ${now - 3_600_000}ms AND time <= ${now + 60_000}ms`)
        .replaceAll('$__interval', '1m')
        .replaceAll('$district', '.*');
      for (const v of customVariables) out = out.replaceAll(`$${v.name}`, `(${v.query.split(',').join('|')})`);
      return out;
    };

    it.each(queries)('panel "$title" answers with data', async ({ query }) => {
      const [result] = await http.query([expand(query)]);
      expect(result!.error).toBeUndefined();
      expect(result!.series.length).toBeGreaterThan(0);
    });

    it('fills the district variable from the tags', async () => {
      const variable = dashboard.templating.list.find((v) => v.name === 'district')!;
      const [result] = await http.query([variable.query]);
      const districts = result!.series.flatMap((s) => s.values.map((row) => row[1]));
      expect(districts).toEqual(expect.arrayContaining(['Kim Long', 'Phú Xuân', 'Thuận Hóa']));
    });
  });
});
