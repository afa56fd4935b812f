import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import type { RecordGroup } from '../store/log-record.ts';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.ts';
import { createSchema } from '../store/sqlite/sqlite-schema.ts';

/**
 * The embedded store's write cost by transaction size, as the file grows (issue 13: the soak's PUBACK p99 rose
 * with the store): readings of `--series` sensors, one every 100 ms each, written through the store's own
 * writer (SqliteDatabase: its pragmas, upserts, `latest` table) `batch` rows per transaction, with a
 * checkpoint (wal_checkpoint) every 10,000 rows as the feeder does by default. Per million rows it prints CPU µs
 * per row and the bytes the process had written (/proc/self/io: each page charged when dirtied again, so an upper
 * bound). Baseline in the same run: raw better-sqlite3 INSERTs of the same rows into the same table, 10,000 rows
 * per transaction, default pragmas.
 *
 *   npm run bench -- store-batches [--series 1000] [--rows 3000000] [--batches 25,1000,10000]
 */
const { values } = parseArgs({
  options: {
    series: { type: 'string', default: '1000' },
    rows: { type: 'string', default: '3000000' },
    batches: { type: 'string', default: '25,1000,10000' },
  },
});
const series = Number(values.series);
const total = Number(values.rows);
const batches = values.batches.split(',').map(Number);
const REPORT = 1_000_000;
const CHECKPOINT_EVERY = 10_000;

const writtenBytes = () => Number(/^write_bytes: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0);

/** the i-th reading: sensors in turn, each a step of 100 ms after its previous one */
function reading(i: number, base: number): RecordGroup {
  const s = i % series;
  const level = 30 + (i % 97);
  return {
    measurement: 'air',
    tags: { sensorId: `air-${s}`, kind: 'air', district: 'Phú Xuân' },
    points: [[base + Math.floor(i / series) * 100, { pm25: level + 0.5, pm10: level * 1.6, temperature: 27.5 }]],
  };
}

interface Row {
  rows: number;
  micros: number;
  bytes: number;
}

/** Writes `total` readings `batch` at a time through `write`; a row per million: µs CPU and bytes per row. */
function measure(batch: number, write: (groups: RecordGroup[]) => void, sync: () => void): Row[] {
  const base = Date.now() - (total / series) * 100;
  const out: Row[] = [];
  let cpu = process.cpuUsage();
  let bytes = writtenBytes();
  let sinceSync = 0;
  for (let done = 0; done < total; ) {
    const n = Math.min(batch, total - done);
    const groups = Array.from({ length: n }, (_, k) => reading(done + k, base));
    write(groups);
    done += n;
    sinceSync += n;
    if (sinceSync >= CHECKPOINT_EVERY) {
      sync();
      sinceSync = 0;
    }
    if (done % REPORT < n || done === total) {
      const used = process.cpuUsage(cpu);
      const now = writtenBytes();
      const rows = ((done - 1) % REPORT) + 1;
      out.push({ rows: done, micros: (used.user + used.system) / rows, bytes: (now - bytes) / rows });
      cpu = process.cpuUsage();
      bytes = now;
    }
  }
  return out;
}

function inTempDir<T>(fn: (file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-store-batches-'));
  try {
    return fn(join(dir, 'store.sqlite'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const raw = inTempDir((file) => {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  createSchema(db);
  const insert = db.prepare('INSERT INTO readings (series_id, ts, fields) VALUES (?, ?, ?)');
  const tx = db.transaction((groups: RecordGroup[]) => {
    for (const g of groups) {
      const [ts, fields] = g.points[0]!;
      insert.run(Number(g.tags.sensorId!.slice(4)) + 1, ts, JSON.stringify(fields));
    }
  });
  const rows = measure(10_000, tx, () => db.pragma('wal_checkpoint(PASSIVE)'));
  db.close();
  return rows;
});

const runs = batches.map((batch) =>
  inTempDir((file) => {
    const db = new SqliteDatabase(file);
    const rows = measure(
      batch,
      (groups) => db.writeGroups(groups),
      () => db.sync(),
    );
    db.close();
    return { batch, rows };
  }),
);

console.log(
  `store-batches: ${series} sensors, one reading each per 100 ms, ${total.toLocaleString('en')} rows per run, ` +
    `checkpoint every ${CHECKPOINT_EVERY.toLocaleString('en')} rows, ${new Date().toISOString()}`,
);
const fmt = (rows: readonly Row[]) =>
  rows.map((r) => `${(r.rows / 1e6).toFixed(0)}M ${r.micros.toFixed(1)} µs ${(r.bytes / 1024).toFixed(1)} KiB`);
console.log(`  raw better-sqlite3 INSERT, 10,000 rows per transaction: ${fmt(raw).join(' | ')}`);
for (const { batch, rows } of runs) {
  const first = rows[0]!.micros;
  const last = rows.at(-1)!.micros;
  console.log(
    `  store writer, ${String(batch).padStart(6)} rows per transaction: ${fmt(rows).join(' | ')}  ` +
      `(last/first ${(last / first).toFixed(2)}, last/raw ${(last / raw.at(-1)!.micros).toFixed(2)})`,
  );
}
