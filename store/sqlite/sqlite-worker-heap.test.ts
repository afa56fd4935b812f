import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerStoreThreadMetrics } from '../pipeline-metrics.ts';
import type { Point } from '../time-series-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import { WORKER_YOUNG_GENERATION_MB } from './sqlite-worker-link.ts';

describe('the embedded store’s worker threads', () => {
  it('keep their own small young generation when the process runs with a large one for the main thread', async () => {
    // what package.json's start script gives the process (a V8 flag is the whole process's)
    setFlagsFromString('--max-semi-space-size=32');
    const dir = mkdtempSync(join(tmpdir(), 'ioc-sqlite-heap-'));
    const store = await SqliteStore.open(join(dir, 'ioc.sqlite'), { readers: 1 });
    try {
      // enough writing for the writer's young generation to grow to whatever it is allowed
      for (let batch = 0; batch < 30; batch++) {
        const points: Point[] = [];
        for (let i = 0; i < 5_000; i++) {
          points.push({
            measurement: 'air',
            tags: { sensorId: `air-${i % 500}`, kind: 'air', district: 'Phú Hội' },
            fields: { pm25: (batch * i) % 300, pm10: i % 500, note: `batch ${batch} reading ${i}` },
            ts: 1_700_000_000_000 + batch * 10_000 + i,
          });
        }
        await store.write(points);
      }
      const heaps = await store.threadHeaps();
      expect(heaps.map((h) => h.thread)).toEqual(['writer', 'reader-1']);
      // the semi-spaces (V8 rounds each up to a power of two) within what was asked for the young generation;
      // with the process's flag in force instead, each worker's grew to 64 MB here
      const youngCap = WORKER_YOUNG_GENERATION_MB * 2 ** 20;
      for (const h of heaps) {
        expect(h.youngCommittedBytes).toBeGreaterThan(0);
        expect(h.youngCommittedBytes).toBeLessThanOrEqual(youngCap);
        expect(h.committedBytes).toBeGreaterThanOrEqual(h.youngCommittedBytes);
        expect(h.usedBytes).toBeGreaterThan(0);
      }
      const registry = new Registry();
      registerStoreThreadMetrics(registry, () => store.threadHeaps());
      const text = await registry.metrics();
      expect(text).toMatch(/^ioc_store_thread_heap_bytes\{thread="writer",generation="all"\} [1-9]\d+$/m);
      expect(text).toMatch(/^ioc_store_thread_heap_bytes\{thread="reader-1",generation="young"\} [1-9]\d+$/m);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the store threads’ heap gauge', () => {
  it('answers a scrape without the figures when the threads are late, and with none after a failure', async () => {
    const registry = new Registry();
    let answer: () => Promise<[]> = () => new Promise(() => undefined);
    registerStoreThreadMetrics(registry, () => answer(), 50);
    const started = Date.now();
    expect(await registry.metrics()).not.toMatch(/^ioc_store_thread_heap_bytes\{/m);
    expect(Date.now() - started).toBeLessThan(2_000);
    answer = () => Promise.reject(new Error('the embedded store is closed'));
    expect(await registry.metrics()).toMatch(/^# TYPE ioc_store_thread_heap_bytes gauge$/m);
  });
});
