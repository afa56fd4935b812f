import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import type { CredentialsFile } from '../config/credentials.ts';
import { scanFrames, SEGMENT_HEADER_BYTES } from '../store/log-frame.ts';
import { decodeRecord } from '../store/log-record.ts';
import type { PlatformProcess } from './platform-process.ts';

/**
 * Shared by the fault tests (store/log-faults.test.ts) and their long variant (`npm run bench -- faults`):
 * seeded randomness, QoS 1 ingest that records what was acknowledged, damage to the commit log and the
 * checkpoint between runs (remembering which readings the damage may have taken), and the check that every
 * other acknowledged reading is in the store exactly once.
 */
export const SENSORS = ['air-ngomon', 'air-dongba', 'air-gahue', 'air-ancuu'];
/** recent enough for ingest's time window and retention: one millisecond apart per reading */
export const BASE_TS = Date.now() - 2 * 3_600_000;

/** mulberry32: a small seeded generator, so a failing run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A config file for a child platform: the default city, with the commit-log settings under test. */
export function writeFaultConfig(
  dir: string,
  log: { segmentBytes: number; checkpointEveryRecords: number; checkpointEverySeconds: number },
): string {
  const config = fileURLToPath(new URL('../config/', import.meta.url));
  const file = join(dir, 'fault-config.yaml');
  writeFileSync(
    file,
    [
      `city: ${join(config, 'cities/hue/city.yaml')}`,
      `kindsDir: ${join(config, 'kinds')}`,
      // the test devices publish as fast as acknowledgements come back: no per-device rate limit in the way
      'limits: { devicePublishesPerSecond: 1000000, devicePublishBurst: 1000000 }',
      'store:',
      '  log:',
      `    segmentBytes: ${log.segmentBytes}`,
      `    checkpointEveryRecords: ${log.checkpointEveryRecords}`,
      `    checkpointEverySeconds: ${log.checkpointEverySeconds}`,
      '',
    ].join('\n'),
  );
  return file;
}

export interface Ledger {
  /** `${sensorId}:${ts}` of every reading the platform acknowledged */
  readonly acked: Set<string>;
  /** acknowledged readings whose log record was damaged or cut on purpose: they may be missing */
  readonly excused: Set<string>;
  next: number;
}

export function newLedger(): Ledger {
  return { acked: new Set(), excused: new Set(), next: 0 };
}

/**
 * QoS 1 publishes from every sensor for `ms` after they are connected, then calls `atEnd` (a SIGKILL)
 * while they still publish; records each acknowledged reading.
 */
export async function ingestFor(
  platform: PlatformProcess,
  creds: CredentialsFile,
  ledger: Ledger,
  ms: number,
  atEnd?: () => void,
): Promise<void> {
  let stopped = false;
  const clients = await Promise.all(
    SENSORS.map((id) =>
      mqtt.connectAsync(platform.mqttUrl, {
        username: id,
        password: creds.devices.find((d) => d.sensorId === id)!.password,
        clientId: `${id}-faults`,
        reconnectPeriod: 0,
      }),
    ),
  );
  // the platform is killed under them: a reset connection is expected, not an error of the test
  for (const c of clients) c.on('error', () => undefined);
  const loops = clients.map(async (client, i) => {
    const id = SENSORS[i]!;
    while (!stopped) {
      const window = Array.from({ length: 8 }, () => BASE_TS + ledger.next++);
      const results = await Promise.allSettled(
        window.map((ts) =>
          client
            .publishAsync(`ioc/air/${id}/readings`, JSON.stringify({ ts, pm25: ts % 500 }), { qos: 1 })
            .then(() => ts),
        ),
      );
      for (const r of results) if (r.status === 'fulfilled') ledger.acked.add(`${id}:${r.value}`);
      if (results.some((r) => r.status === 'rejected')) return;
    }
  });
  await new Promise((r) => setTimeout(r, ms));
  atEnd?.();
  stopped = true;
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 2000))]);
  for (const c of clients) c.end(true);
}

function segmentPaths(dataDir: string): string[] {
  const dir = join(dataDir, 'log');
  return readdirSync(dir)
    .filter((n) => /^\d{20}\.log$/.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/** The readings of the records that overlap [from, to) of a segment file. */
function readingsIn(path: string, from: number, to: number): string[] {
  const { records } = scanFrames(readFileSync(path), SEGMENT_HEADER_BYTES);
  const out: string[] = [];
  for (const r of records) {
    if (r.next <= from || r.at >= to) continue;
    for (const p of decodeRecord(r.payload.toString('utf8'))) out.push(`${p.tags.sensorId}:${p.ts}`);
  }
  return out;
}

export type Fault = 'flip-bytes' | 'truncate-segment' | 'garbage-checkpoint' | 'checkpoint-past-end';

/**
 * Damages the data dir of a stopped platform; the readings whose records it touched go to `excused`.
 * Byte damage lands on a record inside the log (not the last one, which would read as a torn write).
 * Returns what was done, for the test's messages.
 */
export function applyFault(dataDir: string, fault: Fault, random: () => number, ledger: Ledger): string {
  const segments = segmentPaths(dataDir);
  if (fault === 'garbage-checkpoint' || fault === 'checkpoint-past-end') {
    const dir = join(dataDir, 'log');
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.checkpoint'))) {
      writeFileSync(
        join(dir, name),
        fault === 'garbage-checkpoint' ? '\x00\x17garbage' : String(Number.MAX_SAFE_INTEGER - 7),
      );
    }
    return fault;
  }
  // a cut is a torn tail: the newest segment. Byte damage: the newest segment with a few records (a kill just
  // after the log rolled leaves the newest one nearly empty, and the damage would then land nowhere)
  const enough = (p: string) => scanFrames(readFileSync(p), SEGMENT_HEADER_BYTES).records.length >= 3;
  const path = fault === 'truncate-segment' ? segments.at(-1) : [...segments].reverse().find(enough);
  if (!path || !enough(path)) return `${fault}: too few records to damage`;
  const { records } = scanFrames(readFileSync(path), SEGMENT_HEADER_BYTES);
  if (fault === 'truncate-segment') {
    const cut = records[Math.floor(records.length / 2 + random() * (records.length / 2 - 1))]!;
    const at = cut.at + Math.floor(random() * (cut.next - cut.at));
    for (const r of readingsIn(path, at, statSync(path).size)) ledger.excused.add(r);
    truncateSync(path, at);
    return `truncated ${path} at ${at}`;
  }
  // damage behind the store's checkpoint is history (already applied, not scanned again): aim past it
  const base = Number(/(\d{20})\.log$/.exec(path)![1]);
  const checkpoint = readCheckpoints(join(dataDir, 'log'));
  const ahead = records.slice(0, -1).filter((r) => base + r.at >= checkpoint);
  const pool = ahead.length ? ahead : records.slice(0, -1);
  const victim = pool[Math.floor(random() * pool.length)]!;
  const at = victim.at + Math.floor(random() * (victim.next - victim.at - 4));
  for (const r of readingsIn(path, at, at + 4)) ledger.excused.add(r);
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.from([0xde, 0xad, 0xbe, 0xef]), 0, 4, at);
  } finally {
    closeSync(fd);
  }
  return `flipped 4 bytes of ${path} at ${at} (${ahead.length ? 'after' : 'before'} the checkpoint)`;
}

function readCheckpoints(dir: string): number {
  const values = readdirSync(dir)
    .filter((n) => n.endsWith('.checkpoint'))
    .map((n) => Number(readFileSync(join(dir, n), 'utf8')));
  return values.length ? Math.max(...values.map((v) => (Number.isFinite(v) ? v : 0))) : 0;
}

/** Every acknowledged, not excused reading is stored exactly once; returns what is wrong (empty: all well). */
export async function checkStored(
  httpUrl: string,
  token: string,
  ledger: Ledger,
): Promise<{ missing: string[]; duplicated: string[]; stored: number }> {
  const missing: string[] = [];
  const duplicated: string[] = [];
  let stored = 0;
  for (const id of SENSORS) {
    const seen = new Map<number, number>();
    const to = BASE_TS + ledger.next + 1;
    for (let from = BASE_TS; from < to; ) {
      const res = await fetch(`${httpUrl}/api/sensors/${id}/readings?metric=pm25&from=${from}&to=${to}&limit=10000`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await res.json()) as { points: Array<{ ts: number }> };
      for (const p of body.points) seen.set(p.ts, (seen.get(p.ts) ?? 0) + 1);
      if (body.points.length < 10000) break;
      from = body.points[body.points.length - 1]!.ts + 1;
    }
    stored += seen.size;
    for (const [ts, n] of seen) if (n > 1) duplicated.push(`${id}:${ts}`);
    for (const key of ledger.acked) {
      const [sensor, ts] = key.split(':');
      if (sensor === id && !ledger.excused.has(key) && !seen.has(Number(ts))) missing.push(key);
    }
  }
  return { missing, duplicated, stored };
}
