import { Gauge, type Registry } from 'prom-client';
import type { DiskWatch } from './disk-watch.ts';
import type { StorageState } from './storage-state.ts';

/** The log's writability and the data dir's free space, read at scrape time. */
export function registerStorageMetrics(registry: Registry, storage: StorageState, disk: DiskWatch): void {
  new Gauge({
    name: 'ioc_storage_writable',
    help: '1 while the commit log takes writes, 0 while the disk is full or failing (nothing is acknowledged)',
    registers: [registry],
    collect() {
      this.set(storage.unavailableReason === undefined ? 1 : 0);
    },
  });
  new Gauge({
    name: 'ioc_storage_refused_writes',
    help: 'Writes refused since start because the commit log could not write',
    registers: [registry],
    collect() {
      this.set(storage.snapshot().refused);
    },
  });
  new Gauge({
    name: 'ioc_disk_free_bytes',
    help: "Free bytes on the data dir's filesystem (for unprivileged users), at the last check",
    registers: [registry],
    collect() {
      const free = disk.snapshot().freeBytes;
      if (free !== undefined) this.set(free);
    },
  });
  new Gauge({
    name: 'ioc_disk_low',
    help: "1 while the data dir's free space is below the low watermark",
    registers: [registry],
    collect() {
      this.set(disk.snapshot().low ? 1 : 0);
    },
  });
}
