import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
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
 * The long variant of store/log-faults.test.ts: for N minutes, a platform process under QoS 1 ingest is
 * SIGKILLed at seeded random moments (small segments: often during a segment release) and, between runs,
 * its log or checkpoint is damaged at random. After every restart: every acknowledged reading whose record
 * is intact is stored exactly once. Prints the seed (replay with --seed) and the totals; exits 1 on loss.
 *
 *   npm run bench -- faults [--minutes 10] [--seed 1234]
 */
const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, seed: { type: 'string' } } });
const minutes = Number(values.minutes);
const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const random = seededRandom(seed);
const dataDir = mkdtempSync(join(tmpdir(), 'ioc-faults-bench-'));
const FAULTS: Array<Fault | 'none'> = [
  'none',
  'none',
  'flip-bytes',
  'truncate-segment',
  'garbage-checkpoint',
  'checkpoint-past-end',
];
const ledger = newLedger();
const env = {
  IOC_DATA_DIR: dataDir,
  IOC_CONFIG: writeFaultConfig(dataDir, {
    segmentBytes: 64 * 1024,
    checkpointEveryRecords: 500,
    checkpointEverySeconds: 1,
  }),
};
const until = Date.now() + minutes * 60_000;
let rounds = 0;
let failed = false;
let platform: PlatformProcess | undefined;
console.log(`faults bench: ${minutes} min, seed ${seed}, data dir ${dataDir}`);
try {
  while (Date.now() < until && !failed) {
    platform = await spawnPlatform(env);
    const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as CredentialsFile;
    const check = await checkStored(platform.httpUrl, creds.operator.token, ledger);
    const health = (await (await fetch(`${platform.httpUrl}/api/health`)).json()) as {
      status: string;
      integrity?: { damagedRegions: number; tornTails: number };
    };
    console.log(
      `round ${rounds}: acknowledged ${ledger.acked.size}, excused ${ledger.excused.size}, ` +
        `stored ${check.stored}, missing ${check.missing.length}, duplicated ${check.duplicated.length}, ` +
        `health ${health.status} (damaged ${health.integrity?.damagedRegions ?? 0}, ` +
        `torn ${health.integrity?.tornTails ?? 0})`,
    );
    if (check.missing.length || check.duplicated.length) {
      failed = true;
      console.log(
        `  missing: ${check.missing.slice(0, 10).join(', ')}  duplicated: ${check.duplicated.slice(0, 10).join(', ')}`,
      );
      break;
    }
    const p = platform;
    await ingestFor(p, creds, ledger, 500 + Math.floor(random() * 4000), () => p.child.kill('SIGKILL'));
    await p.exited;
    const fault = FAULTS[Math.floor(random() * FAULTS.length)]!;
    if (fault !== 'none') console.log(`  ${applyFault(dataDir, fault, random, ledger)}`);
    rounds++;
  }
} finally {
  if (platform && platform.child.exitCode === null) platform.child.kill('SIGKILL');
  if (!failed) rmSync(dataDir, { recursive: true, force: true });
}
console.log(
  `${failed ? 'FAILED' : 'ok'}: ${rounds} SIGKILLs, ${ledger.acked.size} acknowledged ` +
    `readings, ${ledger.excused.size} in damaged records (seed ${seed})`,
);
process.exitCode = failed ? 1 : 0;
