import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../core/clock.ts';
import { loadPlatformConfig } from '../config/platform-config.ts';
import { runningPid } from './data-dir-lock.ts';
import { DurablePipeline } from './durable-pipeline.ts';
import { STORE_ADAPTERS, type StoreAdapter } from './store-adapters.ts';

/**
 * The store extension point (docs/ARCHITECTURE.md, "Add a store"): an adapter is one file that implements
 * TimeSeriesStore and exports a StoreAdapter, plus one line in STORE_ADAPTERS. The file below lives in a
 * temporary folder and imports only the interfaces; chosen by `store.engine`, the durable pipeline opens it,
 * feeds it from the commit log, reads through it and closes it, with nothing else in the platform changed.
 */
const types = JSON.stringify(pathToFileURL(join(import.meta.dirname, 'time-series-store.ts')).href);
const adapterTypes = JSON.stringify(pathToFileURL(join(import.meta.dirname, 'store-adapters.ts')).href);
const MEMORY_STORE = `
import type { Point, TimeSeriesStore } from ${types};
import type { StoreAdapter } from ${adapterTypes};

/** Points in memory, one per series and time (a replay lands once): a store for trials and tests. */
export function createMemoryStore(): TimeSeriesStore & { closed: boolean } {
  const points = new Map<string, Point>();
  const key = (p: Point) => JSON.stringify([p.measurement, Object.entries(p.tags).sort(), p.ts]);
  const inRange = (p: Point, q: { measurement: string; from: number; to: number }) =>
    p.measurement === q.measurement && p.ts >= q.from && p.ts < q.to;
  const sorted = () => [...points.values()].sort((a, b) => a.ts - b.ts);
  const store = {
    name: 'memory',
    closed: false,
    async write(batch: readonly Point[]) { for (const p of batch) points.set(key(p), p); },
    async queryRange(q) {
      return sorted()
        .filter((p) => inRange(p, q) && p.tags.sensorId === q.sensorId && typeof p.fields[q.field] === 'number')
        .map((p) => ({ ts: p.ts, value: p.fields[q.field] as number })).slice(0, q.limit);
    },
    async aggregate() { throw new Error('the memory store does not aggregate'); },
    async latest() { return []; },
    async queryPoints(q) {
      return sorted().filter((p) => inRange(p, q) && Object.entries(q.tags ?? {}).every(([k, v]) => p.tags[k] === v));
    },
    async close() { store.closed = true; },
  };
  return store;
}

export const memoryStoreAdapter: StoreAdapter = { engine: 'memory', open: async () => createMemoryStore() };
`;

describe('a store adapter added as one file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-store-adapter-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const pipelineOn = (dataDir: string, engine: string, adapters: readonly StoreAdapter[]) => {
    mkdirSync(dataDir, { recursive: true }); // platform.ts prepares it (config/private-files.ts)
    return new DurablePipeline({
      config: loadPlatformConfig({ env: {}, overrides: { dataDir, store: { engine } } }),
      clock: createManualClock(Date.UTC(2026, 9, 1)),
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      adapters,
    });
  };
  const point = (ts: number, waterLevel: number) => ({
    measurement: 'water',
    tags: { sensorId: 'water-kimlong', kind: 'water', district: 'Kim Long' },
    fields: { waterLevel },
    ts,
  });

  it('is opened by store.engine, fed from the commit log in order, read through and closed', async () => {
    writeFileSync(join(dir, 'memory-store.ts'), MEMORY_STORE);
    const { memoryStoreAdapter } = (await import(pathToFileURL(join(dir, 'memory-store.ts')).href)) as {
      memoryStoreAdapter: StoreAdapter;
    };
    const pipeline = pipelineOn(join(dir, 'data'), 'memory', [...STORE_ADAPTERS, memoryStoreAdapter]);
    await pipeline.writer.write([point(1_000, 3.1)]);
    const opened = await pipeline.open();
    await pipeline.writer.write([point(2_000, 3.4), point(1_000, 3.1)]);
    await pipeline.readBarrier();
    expect(pipeline.health().store).toMatchObject({ engine: 'memory', ready: true, lagBytes: 0 });
    const range = await pipeline.store.queryRange({
      measurement: 'water',
      sensorId: 'water-kimlong',
      field: 'waterLevel',
      from: 0,
      to: 3_000,
    });
    expect(range).toEqual([
      { ts: 1_000, value: 3.1 },
      { ts: 2_000, value: 3.4 },
    ]);
    await pipeline.close();
    expect((opened as unknown as { closed: boolean }).closed).toBe(true);
  });

  it('refuses a store.engine no adapter has, naming the known ones, and releases the data directory', async () => {
    const dataDir = join(dir, 'unknown');
    const pipeline = pipelineOn(dataDir, 'nope', STORE_ADAPTERS);
    await expect(pipeline.open()).rejects.toThrow(
      'store.engine "nope" names no store adapter (known: embedded, influxdb)',
    );
    expect(runningPid(dataDir)).toBeUndefined();
  });
});
