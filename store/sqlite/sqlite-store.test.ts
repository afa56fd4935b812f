import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { describeStoreConformance } from '../store-conformance.ts';
import { seriesKey } from '../time-series-store.ts';
import { SqliteStore } from './sqlite-store.ts';

describeStoreConformance('embedded (SQLite)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-sqlite-'));
  const store = await SqliteStore.open(join(dir, 'ioc.sqlite'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('embedded store lifecycle', () => {
  it('fails calls made after close instead of leaving them waiting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-sqlite-'));
    try {
      const store = await SqliteStore.open(join(dir, 'ioc.sqlite'));
      await store.close();
      await expect(store.latest({})).rejects.toThrow(/closed/);
      await expect(store.write([])).rejects.toThrow(/closed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('embedded store layout migration', () => {
  it('folds a store with a row per field value into a row per point, keeping every value and type', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-sqlite-'));
    try {
      const file = join(dir, 'ioc.sqlite');
      // the layout before the row-per-point change, as a store of that version left it
      const old = new Database(file);
      old.exec(`
        CREATE TABLE series (id INTEGER PRIMARY KEY, measurement TEXT NOT NULL, key TEXT NOT NULL UNIQUE,
          sensor_id TEXT, kind TEXT, district TEXT, tags TEXT NOT NULL);
        CREATE TABLE samples (series_id INTEGER NOT NULL, field TEXT NOT NULL, ts INTEGER NOT NULL,
          type INTEGER NOT NULL, num REAL, str TEXT, PRIMARY KEY (series_id, field, ts)) WITHOUT ROWID;
        CREATE TABLE latest (series_id INTEGER NOT NULL, field TEXT NOT NULL, ts INTEGER NOT NULL, num REAL NOT NULL,
          PRIMARY KEY (series_id, field)) WITHOUT ROWID;
      `);
      const tags = { sensorId: 'air-1', kind: 'air', district: 'Phú Hội' };
      old
        .prepare('INSERT INTO series VALUES (1, ?, ?, ?, ?, ?, ?)')
        .run('air', seriesKey('air', tags), 'air-1', 'air', 'Phú Hội', JSON.stringify(tags));
      const sample = old.prepare('INSERT INTO samples VALUES (1, ?, ?, ?, ?, ?)');
      sample.run('pm25', 1000, 0, 12.5, null);
      sample.run('pm10', 1000, 0, 40, null);
      sample.run('note', 1000, 1, null, 'bụi "mịn"');
      sample.run('calibrated', 1000, 2, 1, null);
      sample.run('pm25', 2000, 0, 13.25, null);
      old.prepare('INSERT INTO latest VALUES (1, ?, ?, ?)').run('pm25', 2000, 13.25);
      old.close();

      const store = await SqliteStore.open(file);
      try {
        expect(await store.queryPoints({ measurement: 'air', from: 0, to: 10_000 })).toEqual([
          { measurement: 'air', tags, fields: { pm25: 12.5, pm10: 40, note: 'bụi "mịn"', calibrated: true }, ts: 1000 },
          { measurement: 'air', tags, fields: { pm25: 13.25 }, ts: 2000 },
        ]);
        expect(
          await store.queryRange({ measurement: 'air', sensorId: 'air-1', field: 'pm25', from: 0, to: 10_000 }),
        ).toEqual([
          { ts: 1000, value: 12.5 },
          { ts: 2000, value: 13.25 },
        ]);
        expect(await store.latest({ sensorIds: ['air-1'] })).toEqual([
          expect.objectContaining({ field: 'pm25', ts: 2000, value: 13.25 }),
        ]);
      } finally {
        await store.close();
      }
      const after = new Database(file, { readonly: true });
      expect(after.prepare(`SELECT name FROM sqlite_master WHERE name = 'samples'`).get()).toBeUndefined();
      after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
