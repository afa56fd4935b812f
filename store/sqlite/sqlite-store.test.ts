import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeStoreConformance } from '../store-conformance.ts';
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
