import {
  closeSync,
  writeFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { CommitLog } from './commit-log.ts';
import { LogDamageReporter } from './log-damage-report.ts';
import { Quarantine, readQuarantineIndex } from './log-quarantine.ts';
import { captureLogs } from '../test-support/log-capture.ts';

/**
 * Damage in the commit log is found, set aside and reported once; it never hides the intact records after
 * it. Real segment files, damaged the way a disk or an operator would.
 */
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-damage-'));
  dirs.push(dir);
  const capture = captureLogs();
  const registry = new Registry();
  const quarantine = new Quarantine(join(dir, 'quarantine'), () => Date.UTC(2026, 11, 5));
  const reporter = new LogDamageReporter({ quarantine, logger: capture.logger, registry });
  return { dir, capture, registry, quarantine, reporter };
}

function overwrite(path: string, at: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, at);
  } finally {
    closeSync(fd);
  }
}

const segmentFiles = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort()
    .map((n) => join(dir, n));
const payloads = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => Buffer.from(JSON.stringify({ n: from + i, pad: 'x'.repeat(40) })));

describe('commit-log damage', () => {
  it('skips a damaged record, finds every intact one after it, quarantines the bytes and reports once', async () => {
    const { dir, capture, registry, reporter } = setup();
    const writer = CommitLog.open({ dir, segmentBytes: 1024 * 1024 });
    const groups = [];
    for (let g = 0; g < 10; g++) groups.push(await writer.append(payloads(5, g * 5)));
    await writer.close();
    // flip four bytes inside the payload of record 12 (group 2, record 2)
    const victim = (await CommitLog.open({ dir, segmentBytes: 1024 * 1024 }).read(0, 1 << 20))[12]!;
    overwrite(segmentFiles(dir)[0]!, victim.offset + 20, Buffer.from([0xde, 0xad, 0xbe, 0xef]));

    const log = CommitLog.open({ dir, segmentBytes: 1024 * 1024, damage: reporter });
    expect(await log.verify(0)).toBe(49);
    const read = (await log.read(0, 1 << 20)).map((r) => (JSON.parse(r.payload.toString()) as { n: number }).n);
    expect(read).toEqual(Array.from({ length: 50 }, (_, i) => i).filter((n) => n !== 12));
    await log.read(0, 1 << 20); // met again: still one report

    expect(reporter.state()).toMatchObject({ damagedRegions: 1, tornTails: 0 });
    expect(reporter.degraded).toBe(true);
    const errors = capture.lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(String(errors[0]!.msg)).toMatch(/commit log damaged/);
    const index = readFileSync(join(dir, 'quarantine', 'index.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(index).toEqual([
      expect.objectContaining({ cause: 'log-damaged', offset: victim.offset, length: victim.next - victim.offset }),
    ]);
    const copy = readFileSync(join(dir, 'quarantine', index[0]!.file as string));
    expect(copy.subarray(20, 24)).toEqual(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    expect(await registry.getSingleMetricAsString('ioc_log_damaged_records_total')).toMatch(
      /ioc_log_damaged_records_total 1/,
    );
    expect(groups.length).toBe(10);
  });

  it('cuts a torn final record, counts it and keeps its bytes, without degrading health', async () => {
    const { dir, registry, reporter } = setup();
    const writer = CommitLog.open({ dir, segmentBytes: 1024 * 1024 });
    const { end } = await writer.append(payloads(3));
    await writer.close();
    // a crash mid-write: half a frame after the last record
    const torn = Buffer.from([0xfe, 0x10, 0xc0, 0x6c, 200, 0, 0, 0, 1, 2, 3, 4, 0x7b, 0x22]);
    overwrite(segmentFiles(dir)[0]!, end, torn);

    const log = CommitLog.open({ dir, segmentBytes: 1024 * 1024, damage: reporter });
    expect(log.head).toBe(end);
    expect((await log.read(0, 1 << 20)).length).toBe(3);
    const again = await log.append(payloads(1, 3));
    expect(again.start).toBe(end);
    expect(reporter.state()).toMatchObject({ tornTails: 1, damagedRegions: 0 });
    expect(reporter.degraded).toBe(false);
    const index = readFileSync(join(dir, 'quarantine', 'index.ndjson'), 'utf8');
    expect(index).toMatch(/"cause":"log-torn"/);
    expect(await registry.getSingleMetricAsString('ioc_log_torn_tails_total')).toMatch(/ioc_log_torn_tails_total 1/);
    await log.close();
  });

  it('reports a segment cut short in the middle of the log and reads the next segment', async () => {
    const { dir, reporter } = setup();
    const writer = CommitLog.open({ dir, segmentBytes: 64 * 1024 });
    for (let g = 0; g < 120; g++) await writer.append(payloads(30, g * 30)); // several segments
    await writer.close();
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(2);
    truncateSync(files[1]!, Math.floor(statSync(files[1]!).size / 10));

    const log = CommitLog.open({ dir, segmentBytes: 64 * 1024, damage: reporter });
    const numbers = (await log.read(0, 1 << 24)).map((r) => (JSON.parse(r.payload.toString()) as { n: number }).n);
    expect(numbers).toContain(3599); // the last record, after the gap
    expect(numbers.length).toBeLessThan(3600);
    expect(reporter.state().damagedRegions).toBe(1);
    expect(existsSync(join(dir, 'quarantine', 'index.ndjson'))).toBe(true);
  });

  it('does not crash when the quarantine cannot be written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-damage-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'not-a-folder'), 'x');
    const reporter = new LogDamageReporter({
      quarantine: new Quarantine(join(dir, 'not-a-folder', 'quarantine'), () => 0),
      logger: pino({ level: 'silent' }),
    });
    reporter.report({ cause: 'damaged', offset: 100, end: 140, segment: join(dir, 'x.log'), fileOffset: 100 });
    expect(reporter.state().damagedRegions).toBe(1);
  });
});

describe('the quarantine index', () => {
  const oldLine = (entry: Record<string, unknown>) => {
    // as written before the cause was renamed (docs/names.md): `kind`
    const { cause, ...rest } = entry;
    return JSON.stringify({ kind: cause, ...rest });
  };

  it('reads lines written with the old name `kind` as `cause`, and skips what is not an entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-quarantine-'));
    dirs.push(dir);
    const at = '2026-12-05T00:00:00.000Z';
    const lines = [
      oldLine({ cause: 'log-damaged', file: '0-100.bin', reason: 'bad', segment: '0', offset: 100, length: 40, at }),
      JSON.stringify({ cause: 'store-batch', file: 'store-7.ndjson', reason: 'refused', offset: 7, records: 1, at }),
      '{"kind":"log-torn","file":"0-9', // cut by a crash in the middle of an append
      JSON.stringify({ kind: 'something-else', file: 'x', reason: 'y', at }),
    ];
    writeFileSync(join(dir, 'index.ndjson'), `${lines.join('\n')}\n`);
    const entries = readQuarantineIndex(dir);
    expect(entries).toEqual([
      { cause: 'log-damaged', file: '0-100.bin', reason: 'bad', segment: '0', offset: 100, length: 40, at },
      { cause: 'store-batch', file: 'store-7.ndjson', reason: 'refused', offset: 7, records: 1, at },
    ]);
    expect(entries.some((e) => 'kind' in e)).toBe(false);
    expect(readQuarantineIndex(join(dir, 'nothing-here'))).toEqual([]);
  });

  it('a restart meets the same damage again: reported again, indexed once, old lines included', async () => {
    const { dir, reporter } = setup();
    const writer = CommitLog.open({ dir, segmentBytes: 1024 * 1024 });
    for (let g = 0; g < 4; g++) await writer.append(payloads(5, g * 5));
    await writer.close();
    const victim = (await CommitLog.open({ dir, segmentBytes: 1024 * 1024 }).read(0, 1 << 20))[7]!;
    overwrite(segmentFiles(dir)[0]!, victim.offset + 20, Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    const first = CommitLog.open({ dir, segmentBytes: 1024 * 1024, damage: reporter });
    expect((await first.read(0, 1 << 20)).length).toBe(19);
    await first.close();
    const indexFile = join(dir, 'quarantine', 'index.ndjson');
    const [line] = readFileSync(indexFile, 'utf8').trim().split('\n');
    const entry = JSON.parse(line!) as Record<string, unknown>;
    expect(entry).toMatchObject({ cause: 'log-damaged', offset: victim.offset });
    writeFileSync(indexFile, `${oldLine(entry)}\n`); // as an older platform wrote it

    // the next start: a new reporter, the same quarantine folder
    const capture = captureLogs();
    const quarantine = new Quarantine(join(dir, 'quarantine'), () => Date.UTC(2026, 11, 6));
    const restarted = new LogDamageReporter({ quarantine, logger: capture.logger });
    const second = CommitLog.open({ dir, segmentBytes: 1024 * 1024, damage: restarted });
    expect((await second.read(0, 1 << 20)).length).toBe(19);
    await second.close();
    expect(restarted.state().damagedRegions).toBe(1); // still damaged: still reported
    expect(capture.lines.filter((l) => l.level === 50)).toHaveLength(1);
    expect(readFileSync(indexFile, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(readQuarantineIndex(join(dir, 'quarantine'))).toEqual([{ ...entry, cause: 'log-damaged' }]);

    // other bytes at the same place (damaged anew after the copy was made) are a new entry
    overwrite(segmentFiles(dir)[0]!, victim.offset + 24, Buffer.from([0x0b, 0xad]));
    const later = new LogDamageReporter({
      quarantine: new Quarantine(join(dir, 'quarantine'), () => Date.UTC(2026, 11, 7)),
      logger: pino({ level: 'silent' }),
    });
    const log = CommitLog.open({ dir, segmentBytes: 1024 * 1024, damage: later });
    await log.read(0, 1 << 20);
    await log.close();
    expect(readQuarantineIndex(join(dir, 'quarantine')).map((e) => e.at)).toEqual([
      entry.at,
      '2026-12-07T00:00:00.000Z',
    ]);
  });
});
