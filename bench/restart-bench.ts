import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startPlatform } from '../platform.ts';
import { CommitLog } from '../store/commit-log.ts';
import { encodeRecord } from '../store/log-record.ts';
import type { Point } from '../store/time-series-store.ts';
import { storeCaughtUp } from './bench-platform.ts';

/**
 * Restart time with a long unapplied tail (issue 13 item 2): a commit log of N records is written with the
 * real CommitLog while no store consumes it (the store held back, as after a long outage or a crash with a
 * stale checkpoint), then the platform starts on that data dir; measured: time to "ready" (which includes
 * the integrity scan from the checkpoint) and time until the store has applied the whole log. Then a
 * second start after a clean stop: the bounded tail regular checkpoints leave. Baseline in the same run:
 * raw better-sqlite3 inserts of the same rows (one table, one transaction per 20,000 rows).
 *
 *   npm run bench -- restart [--records 1000000]
 */
const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' } } });
const records = Number(values.records);
const dir = mkdtempSync(join(tmpdir(), 'ioc-restart-bench-'));
const SENSORS = ['air-ngomon', 'air-dongba', 'air-gahue', 'air-ancuu'];
const base = Date.now() - 24 * 3_600_000;
const point = (i: number): Point => {
  const sensorId = SENSORS[i % SENSORS.length]!;
  return {
    measurement: 'air',
    tags: { sensorId, kind: 'air', district: 'Phú Xuân' },
    fields: { pm25: i % 500, pm10: (i * 7) % 900 },
    ts: base + Math.floor(i / SENSORS.length) * 10,
  };
};

try {
  console.log(`restart bench: ${records.toLocaleString('en')} unapplied records, load ${loadavg()[0]!.toFixed(1)}`);
  let t = performance.now();
  const log = CommitLog.open({ dir: join(dir, 'log'), segmentBytes: 16 * 1024 * 1024 });
  for (let i = 0; i < records; i += 1000) {
    const group: string[] = [];
    for (let k = i; k < Math.min(records, i + 1000); k++) group.push(encodeRecord([point(k)]));
    await log.append(group);
  }
  const logBytes = log.sizeBytes;
  await log.close();
  console.log(
    `prepared the log: ${(logBytes / 1e6).toFixed(1)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  const start = async (label: string) => {
    const t0 = performance.now();
    const platform = await startPlatform({
      env: {},
      overrides: {
        dataDir: dir,
        mqtt: { port: 0, host: '127.0.0.1' },
        http: { port: 0, host: '127.0.0.1' },
        demo: { enabled: false },
      },
      logger: pino({ level: 'warn' }),
    });
    const readyMs = performance.now() - t0;
    await storeCaughtUp(platform, 50);
    const drainMs = performance.now() - t0;
    await platform.close();
    console.log(`${label}: ready ${(readyMs / 1000).toFixed(2)} s, store caught up ${(drainMs / 1000).toFixed(2)} s`);
    return drainMs;
  };
  const drainMs = await start('first start (whole log unapplied)');
  console.log(`  = ${Math.round(records / (drainMs / 1000)).toLocaleString('en')} records/s through start-up`);
  const emptyMs = await start('second start (after a clean stop)');
  // what the replay itself took: the first start less what a start with nothing to replay costs
  const replayMs = Math.max(1, drainMs - emptyMs);
  console.log(
    `replay alone (first start - second start): ${(replayMs / 1000).toFixed(2)} s ` +
      `= ${Math.round(records / (replayMs / 1000)).toLocaleString('en')} records/s`,
  );

  // baseline: the same rows straight into SQLite on this machine now
  t = performance.now();
  const db = new Database(join(dir, 'baseline.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE r (sensor TEXT, ts INTEGER, pm25 REAL, pm10 REAL, PRIMARY KEY (sensor, ts)) WITHOUT ROWID');
  const insert = db.prepare('INSERT OR REPLACE INTO r VALUES (?, ?, ?, ?)');
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const p = point(i);
      insert.run(p.tags.sensorId, p.ts, p.fields.pm25, p.fields.pm10);
    }
  });
  for (let i = 0; i < records; i += 20_000) batch(i, Math.min(records, i + 20_000));
  db.close();
  const rawMs = performance.now() - t;
  console.log(
    `baseline: raw SQLite insert of the same rows ${(rawMs / 1000).toFixed(2)} s ` +
      `(${Math.round(records / (rawMs / 1000)).toLocaleString('en')} rows/s)`,
  );
  console.log(
    `ratio to the baseline: through start-up ${(drainMs / rawMs).toFixed(1)}x, replay ` +
      `alone ${(replayMs / rawMs).toFixed(1)}x`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
