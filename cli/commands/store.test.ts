import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type InfluxServer } from '../../test-support/influxd.ts';
import { InfluxHttp } from '../../store/influxdb/influx-http.ts';
import { freshDatabase, influxConfig } from '../../store/influxdb/influx-test-helpers.ts';
import { openInfluxStore } from '../../store/influxdb/influxdb-store.ts';
import { rollupQuery } from '../../store/influxdb/influx-rollup-setup.ts';
import { runCli } from '../ioc.ts';
import pino from 'pino';

const T = Date.UTC(2026, 9, 1);
const MIN = 60_000;
const CONFIG_DIR = resolve(import.meta.dirname, '../../config');

function capture(): { io: { out(t: string): void; err(t: string): void }; text(): string } {
  const lines: string[] = [];
  return { io: { out: (t) => lines.push(t), err: (t) => lines.push(t) }, text: () => lines.join('\n') };
}

describe('ioc store setup-retention (InfluxDB 1.x)', () => {
  let server: InfluxServer;
  let dir: string;
  beforeAll(async () => {
    server = await startInfluxd();
    dir = mkdtempSync(join(tmpdir(), 'ioc-store-cli-'));
  });
  afterAll(async () => {
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  function configFile(database: string, lifecycle = ''): string {
    const file = join(dir, `${database}.yaml`);
    writeFileSync(
      file,
      [
        `city: ${join(CONFIG_DIR, 'cities/hue/city.yaml')}`,
        `kindsDir: ${join(CONFIG_DIR, 'kinds')}`,
        `dataDir: ${join(dir, 'data')}`,
        'store:',
        '  engine: influxdb',
        `  influxdb: { url: "${server.url}", database: ${database} }`,
        lifecycle,
      ].join('\n'),
    );
    return file;
  }

  const policies = async (http: InfluxHttp, db: string) => {
    const { series } = await http.run(`SHOW RETENTION POLICIES ON "${db}"`, { db });
    return Object.fromEntries(series[0]!.values.map((row) => [row[0], row[1]]));
  };

  it('prints the plan on --dry-run changing nothing, sets it up for real, then finds nothing to change', async () => {
    const database = freshDatabase('setup');
    const store = await openInfluxStore(influxConfig({ url: server.url, database }), pino({ level: 'silent' }));
    const tags = { sensorId: 'sr-a', kind: 'air', district: 'Phú Xuân' };
    await store.write(
      Array.from({ length: 180 }, (_, i) => ({ measurement: 'air', tags, fields: { pm25: i % 40 }, ts: T + i * MIN })),
    );
    const http = new InfluxHttp(influxConfig({ url: server.url, database }));
    const file = configFile(
      database,
      '  lifecycle: { retention: { raw: { air: 30d, water: 400d }, rollup1m: 200d, rollup1h: forever } }',
    );

    const dry = capture();
    expect(await runCli(['store', 'setup-retention', '--dry-run', '--config', file], dry.io)).toBe(0);
    expect(dry.text()).toContain('would change retention policy autogen from INF to 400d');
    expect(dry.text()).toContain('would create retention policy ioc_rollup_1m (200d)');
    expect(dry.text()).toContain('would create continuous query ioc_rollup_1h');
    expect(dry.text()).toMatch(/kept longer than configured: air \(30d\)/);
    expect(dry.text()).toContain(rollupQuery(database, 'autogen', 'ioc_rollup_1m'));
    expect(await policies(http, database)).toEqual({ autogen: '0s' });

    const real = capture();
    expect(await runCli(['store', 'setup-retention', '--config', file], real.io)).toBe(0);
    expect(real.text()).toContain('done  create continuous query ioc_rollup_1m');
    expect(await policies(http, database)).toEqual({
      autogen: '9600h0m0s',
      ioc_rollup_1m: '4800h0m0s',
      ioc_rollup_1h: '0s',
    });
    const { series } = await http.run('SHOW CONTINUOUS QUERIES', { db: database });
    expect(
      series
        .find((s) => s.name === database)!
        .values.map((r) => r[0])
        .sort(),
    ).toEqual(['ioc_rollup_1h', 'ioc_rollup_1m']);
    // the readings stored before the roll-up existed were rolled up: three hours, one per hour
    const [hours] = await http.query(
      ['SELECT count_pm25, max_pm25, min_pm25, mean_pm25, sum_pm25 FROM "ioc_rollup_1h"."air"'],
      { db: database },
    );
    expect(hours!.series[0]!.values.map((r) => r.slice(0, 4))).toEqual([
      [T, 60, 39, 0],
      [T + 60 * MIN, 60, 39, 0],
      [T + 120 * MIN, 60, 39, 0],
    ]);
    const [minutes] = await http.query(['SELECT count(count_pm25) FROM "ioc_rollup_1m"."air"'], { db: database });
    expect(minutes!.series[0]!.values[0]![1]).toBe(180);

    const again = capture();
    expect(await runCli(['store', 'setup-retention', '--config', file], again.io)).toBe(0);
    expect(again.text()).toContain('nothing to change');
    expect(again.text()).not.toMatch(/done|would/);
  });

  it('changes only what the configuration changed', async () => {
    const database = freshDatabase('setup');
    await runCli(['store', 'setup-retention', '--config', configFile(database)], capture().io);
    const http = new InfluxHttp(influxConfig({ url: server.url, database }));
    const changed = capture();
    const file = configFile(`${database}`, '  lifecycle: { retention: { rollup1m: 90d } }');
    expect(await runCli(['store', 'setup-retention', '--config', file], changed.io)).toBe(0);
    expect(changed.text()).toContain('done  change retention policy ioc_rollup_1m from 365d to 90d');
    expect(changed.text()).toContain('1 change(s) made');
    expect((await policies(http, database)).ioc_rollup_1m).toBe('2160h0m0s');
  });

  it('refuses with a clear message when the store is the embedded one', async () => {
    const file = join(dir, 'embedded.yaml');
    writeFileSync(
      file,
      `city: ${join(CONFIG_DIR, 'cities/hue/city.yaml')}\nkindsDir: ` +
        `${join(CONFIG_DIR, 'kinds')}\ndataDir: ${join(dir, 'data')}\n`,
    );
    const out = capture();
    expect(await runCli(['store', 'setup-retention', '--config', file], out.io)).toBe(2);
    expect(out.text()).toContain('the embedded store applies store.lifecycle itself');
    expect(await runCli(['store', 'frobnicate'], capture().io)).toBe(2);
  });
});
