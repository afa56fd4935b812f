import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeThrough } from '../alerts/write-through-store.ts';
import { systemClock } from '../core/clock.ts';
import { captureLogs } from '../test-support/log-capture.ts';
import { CommitLog } from './commit-log.ts';
import { Quarantine } from './log-quarantine.ts';
import { encodeRecord } from './log-record.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import { StoreFeeder } from './store-feeder.ts';
import type { Point, TimeSeriesStore } from './time-series-store.ts';

/**
 * The store never wedges: a record it refuses for good is set aside (quarantine) instead of retried for
 * ever, an outage is only ever waited out, and checkpoints are written while running, not only at stop.
 * Real commit log, real embedded store (in its worker thread).
 */
const T0 = Date.UTC(2026, 9, 1);
const tags = Object.freeze({ sensorId: 'air-1', kind: 'air', district: 'd' });
const point = (i: number): Point => ({ measurement: 'air', tags, fields: { pm25: i }, ts: T0 + i * 1000 });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(wrap?: (real: SqliteStore) => TimeSeriesStore, extra: { checkpointEveryRecords?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-feeder-faults-'));
  const capture = captureLogs();
  const log = CommitLog.open({ dir: join(dir, 'log'), segmentBytes: 1024 * 1024 });
  const real = await SqliteStore.open(join(dir, 'store.sqlite'));
  const store = wrap ? wrap(real) : real;
  const quarantine = new Quarantine(join(dir, 'log', 'quarantine'), () => Date.now());
  const feeder = new StoreFeeder({
    name: 'test',
    log,
    store,
    checkpointFile: join(dir, 'checkpoint'),
    clock: systemClock,
    logger: capture.logger,
    quarantine,
    ...extra,
  });
  cleanups.push(async () => {
    await feeder.stop();
    await real.close();
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const stored = async () =>
    (
      await real.queryRange({
        measurement: 'air',
        field: 'pm25',
        sensorId: 'air-1',
        from: T0,
        to: T0 + 1e9,
        limit: 100_000,
      })
    ).map((s) => s.value);
  return { dir, log, feeder, real, capture, stored, quarantineDir: quarantine.dir };
}

describe('StoreFeeder under faults', () => {
  it('sets aside a record the store refuses for good and stores everything around it', async () => {
    const t = await setup();
    await t.log.append([
      encodeRecord([point(1), point(2)]),
      '{"m":"air","t":{"sensorId":"air-1"},"p":"not points"',
      encodeRecord([point(3)]),
    ]);
    await t.log.append([encodeRecord([point(4)])]);
    t.feeder.start();
    expect(await t.feeder.waitFor(t.log.head, 20_000)).toBe(true);
    expect((await t.stored()).sort()).toEqual([1, 2, 3, 4]);
    const state = t.feeder.state();
    expect(state.quarantinedRecords).toBe(1);
    expect(state.lastQuarantine).toMatch(/refused by the store/);
    const index = readFileSync(join(t.quarantineDir, 'index.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { cause: string; file: string });
    expect(index).toEqual([expect.objectContaining({ cause: 'store-batch', records: 1 })]);
    expect(readFileSync(join(t.quarantineDir, index[0]!.file), 'utf8')).toContain('"p":"not points"');
    expect(t.capture.lines.filter((l) => l.level === 50)).toHaveLength(1);
  });

  it('only waits out an outage: nothing is set aside, everything lands once the store is back', async () => {
    let down = true;
    let attempts = 0;
    const t = await setup((real) =>
      writeThrough(real, async (points) => {
        attempts++;
        if (down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8086'), { code: 'ECONNREFUSED' });
        await real.write(points);
      }),
    );
    await t.log.append([encodeRecord([point(1)]), encodeRecord([point(2)]), encodeRecord([point(3)])]);
    t.feeder.start();
    // well past the failures that trigger a record-by-record probe
    while (attempts < 12) await new Promise((r) => setTimeout(r, 50));
    expect(t.feeder.state().quarantinedRecords).toBe(0);
    expect(t.feeder.state().healthy).toBe(false);
    down = false;
    expect(await t.feeder.waitFor(t.log.head, 30_000)).toBe(true);
    expect((await t.stored()).sort()).toEqual([1, 2, 3]);
    expect(existsSync(t.quarantineDir)).toBe(false);
  }, 60_000);

  it('writes the checkpoint while running, every N records', async () => {
    const t = await setup(undefined, { checkpointEveryRecords: 10 });
    // appended before start: the feeder reads them from disk (nothing pushes to it in this test)
    for (let i = 0; i < 25; i++) await t.log.append([encodeRecord([point(i)])]);
    t.feeder.start();
    expect(await t.feeder.waitFor(t.log.head, 20_000)).toBe(true);
    let saved = 0;
    for (let tries = 0; tries < 100 && saved === 0; tries++) {
      saved = existsSync(join(t.dir, 'checkpoint')) ? Number(readFileSync(join(t.dir, 'checkpoint'), 'utf8')) : 0;
      if (saved === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(saved).toBeGreaterThan(0);
    expect(saved).toBeLessThanOrEqual(t.log.head);
  });
});
