import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CredentialsFile } from '../config/credentials.ts';
import {
  applyFault,
  checkStored,
  ingestFor,
  newLedger,
  seededRandom,
  writeFaultConfig,
  type Fault,
} from '../test-support/log-fault-kit.ts';
import { spawnPlatform, type PlatformProcess } from '../test-support/platform-process.ts';

/**
 * The platform process under QoS 1 ingest is SIGKILLed at seeded random moments (with small segments, so
 * releases happen while it runs), and its commit log and checkpoint are damaged between runs. After each
 * restart: it starts, every acknowledged reading whose record is intact is stored exactly once, damage is
 * reported (health, metric, quarantine), and ingest goes on. The long variant: `npm run bench -- faults`.
 */
const SEED = Number(process.env.IOC_FAULT_SEED) || 13_2026;

describe('commit log under SIGKILL and damage', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ioc-faults-'));
  const processes: PlatformProcess[] = [];
  afterAll(() => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`keeps every intact acknowledged reading and reports damage (seed ${SEED})`, async () => {
    const random = seededRandom(SEED);
    const ledger = newLedger();
    // small segments: releases (and their checkpoints) happen while it runs and is killed
    const config = (checkpointEveryRecords: number) =>
      writeFaultConfig(dataDir, {
        segmentBytes: 64 * 1024,
        checkpointEveryRecords,
        checkpointEverySeconds: checkpointEveryRecords > 1000 ? 3600 : 1,
      });
    const env = { IOC_DATA_DIR: dataDir, IOC_CONFIG: config(200) };
    const faults: Fault[] = ['flip-bytes', 'checkpoint-past-end', 'truncate-segment', 'garbage-checkpoint'];
    let creds: CredentialsFile | undefined;
    let damaged = false;
    let damageChecked = 0;
    for (let round = 0; round <= faults.length; round++) {
      // before the byte damage, rare checkpoints: the damage then lands in records the store has not applied
      config(faults[round] === 'flip-bytes' ? 1_000_000 : 200);
      const platform = await spawnPlatform(env);
      processes.push(platform);
      creds ??= JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as CredentialsFile;
      const token = creds.operator.token;
      const check = await checkStored(platform.httpUrl, token, ledger);
      expect(check.missing, `round ${round}: acknowledged, intact, but missing`).toEqual([]);
      expect(check.duplicated, `round ${round}: stored twice`).toEqual([]);
      if (damaged) {
        const health = (await (await fetch(`${platform.httpUrl}/api/health`)).json()) as {
          status: string;
          integrity?: { state: string; damagedRegions: number };
        };
        expect(health.status, `round ${round}: health after damage`).toBe('degraded');
        expect(health.integrity?.damagedRegions).toBeGreaterThan(0);
        const metrics = await (
          await fetch(`${platform.httpUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })
        ).text();
        expect(metrics).toMatch(/ioc_log_damaged_records_total [1-9]/);
        expect(existsSync(join(dataDir, 'log', 'quarantine', 'index.ndjson'))).toBe(true);
        damaged = false;
        damageChecked++;
      }
      if (round === faults.length) {
        // ingest goes on: one more acknowledged reading, then a clean stop that keeps it
        const before = ledger.acked.size;
        await ingestFor(platform, creds, ledger, 300);
        expect(ledger.acked.size).toBeGreaterThan(before);
        platform.child.kill('SIGTERM');
        expect(await platform.exited).toBe(0);
        break;
      }
      // ingest, then SIGKILL at a seeded random moment
      const killAfter = 400 + Math.floor(random() * 1200);
      await ingestFor(platform, creds, ledger, killAfter, () => platform.child.kill('SIGKILL'));
      await platform.exited;
      const done = applyFault(dataDir, faults[round]!, random, ledger);
      damaged = done.includes('after the checkpoint');
    }
    expect(ledger.acked.size).toBeGreaterThan(100);
    expect(damageChecked, 'the byte damage landed where the platform had to report it').toBe(1);
  }, 240_000);
});
