import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSeries, startVictoriaMetrics, type VictoriaMetricsServer } from '../../test-support/victoria-metrics.ts';
import { capturingLogger, influxConfig } from './influx-test-helpers.ts';
import { openInfluxStore } from './influxdb-store.ts';

// The v2 write path (@influxdata/influxdb-client's WriteApi, /api/v2/write) against a real server that
// serves it: VictoriaMetrics, which stores each field as a metric named <measurement>_<field>.
describe('InfluxDB v2 write path (token, org and bucket)', () => {
  let vm: VictoriaMetricsServer;
  beforeAll(async () => {
    vm = await startVictoriaMetrics();
  });
  afterAll(() => vm?.dispose());

  it('writes readings via /api/v2/write with ms timestamps and escaped tags; says reads are unavailable', async () => {
    const { logger, lines } = capturingLogger();
    const store = await openInfluxStore(
      influxConfig({ url: vm.url, token: 'ioc-token', org: 'hue', bucket: 'ioc', batchSize: 100 }),
      logger,
    );
    expect(store.state()).toMatchObject({ writePath: 'v2', reachable: true, readsAvailable: false });
    expect(lines.some((l) => l.level === 40 && l.msg.includes('does not answer InfluxQL'))).toBe(true);

    const t0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const district = 'Phú Xuân, cửa Ngọ Môn';
    const points = Array.from({ length: 250 }, (_, i) => ({
      measurement: 'airv2',
      tags: { sensorId: 'air-ngomon', kind: 'air', district },
      fields: { pm25: i + 0.5, pm10: 2 * i },
      ts: t0 + i * 10,
    }));
    await store.write(points);
    expect(store.state()).toMatchObject({ pointsWritten: 250, lastError: null });

    const series = await exportSeries(vm.url, '{__name__=~"airv2_.*"}', 2);
    const byName = Object.fromEntries(series.map((s) => [s.metric.__name__, s]));
    expect(Object.keys(byName).sort()).toEqual(['airv2_pm10', 'airv2_pm25']);
    expect(byName.airv2_pm25!.metric).toMatchObject({ sensorId: 'air-ngomon', kind: 'air', district });
    expect(byName.airv2_pm25!.timestamps).toEqual(points.map((p) => p.ts));
    expect(byName.airv2_pm25!.values).toEqual(points.map((p) => p.fields.pm25));
    expect(byName.airv2_pm10!.values).toEqual(points.map((p) => p.fields.pm10));

    await expect(store.latest({ sensorIds: ['air-ngomon'] })).rejects.toMatchObject({
      category: 'unavailable',
      code: 'store_reads_unavailable',
    });
  });

  it('rejects a write while the server is down, and writes it once it is back', async () => {
    const { logger } = capturingLogger();
    const store = await openInfluxStore(
      influxConfig({ url: vm.url, token: 'ioc-token', org: 'hue', bucket: 'ioc', writeRetries: 1 }),
      logger,
    );
    const ts = Math.floor(Date.now() / 1000) * 1000 - 30_000;
    const point = {
      measurement: 'downv2',
      tags: { sensorId: 'water-kimlong', kind: 'water', district: 'Kim Long' },
      fields: { waterLevel: 2.25 },
      ts,
    };
    await vm.stop();
    await expect(store.write([point])).rejects.toMatchObject({ failure: 'unreachable' });
    expect(store.state().reachable).toBe(false);
    await vm.start();
    await store.write([point]);
    const [series] = await exportSeries(vm.url, '{__name__="downv2_waterLevel"}');
    expect(series).toMatchObject({ values: [2.25], timestamps: [ts] });
  });
});
