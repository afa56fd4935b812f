import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createManualClock } from '../core/clock.ts';
import { AuditLog } from './audit-log.ts';
import { listAuditFiles, verifyAuditDir } from './audit-files.ts';
import { queryAudit } from './audit-query.ts';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ioc-audit-'));
  dirs.push(d);
  return join(d, 'audit');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function writeEntries(dir: string, n: number, maxFileBytes = 1024 * 1024): Promise<void> {
  const clock = createManualClock();
  const log = AuditLog.open({ dir, clock, logger: silent, maxFileBytes });
  for (let i = 0; i < n; i++) {
    clock.advance(1000);
    await log.record({
      actor: { name: `op${i % 3}`, role: 'operator' },
      address: '10.0.0.7',
      action: i % 2 ? 'alert.acknowledge' : 'rule.update',
      target: `t${i}`,
      details: { i },
    });
  }
  await log.close();
}

describe('audit chain on real files', () => {
  it('writes one canonical line per entry, 0600 in a 0700 directory, and verifies clean', async () => {
    const dir = tempDir();
    await writeEntries(dir, 10);
    const text = readFileSync(join(dir, 'audit.log'), 'utf8');
    expect(text.trim().split('\n')).toHaveLength(10);
    expect(statSync(join(dir, 'audit.log')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const status = verifyAuditDir(dir);
    expect(status).toMatchObject({ ok: true, entries: 10, breaks: [] });
  });

  it('names the line of a byte flipped in the middle of the file', async () => {
    const dir = tempDir();
    await writeEntries(dir, 10);
    const file = join(dir, 'audit.log');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[4] = lines[4]!.replace('"t4"', '"t9"');
    writeFileSync(file, lines.join('\n'));
    const status = verifyAuditDir(dir);
    expect(status.ok).toBe(false);
    expect(status.breaks[0]).toMatchObject({ file: 'audit.log', line: 5, seq: 5 });
    expect(status.breaks[0]!.reason).toMatch(/hash does not match/);
  });

  it('detects a deleted line (at the next line) and a line cut off the end (against audit.head)', async () => {
    const dir = tempDir();
    await writeEntries(dir, 6);
    const file = join(dir, 'audit.log');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    writeFileSync(file, `${[...lines.slice(0, 2), ...lines.slice(3)].join('\n')}\n`);
    expect(verifyAuditDir(dir).breaks[0]).toMatchObject({ line: 3, seq: 4 });
    writeFileSync(file, `${lines.slice(0, 5).join('\n')}\n`);
    const cut = verifyAuditDir(dir);
    expect(cut.ok).toBe(false);
    expect(cut.breaks[0]!.reason).toMatch(/removed from the end/);
  });

  it('on open, reports a broken chain loudly and continues on a new segment that names the break', async () => {
    const dir = tempDir();
    await writeEntries(dir, 5);
    const file = join(dir, 'audit.log');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    writeFileSync(file, `${[lines[0], lines[1]!.replace('op1', 'opX'), ...lines.slice(2)].join('\n')}\n`);
    const errors: string[] = [];
    const registry = new Registry();
    const log = AuditLog.open({
      dir,
      clock: createManualClock(),
      logger: { ...silent, error: (_o, m) => errors.push(m) },
      maxFileBytes: 1 << 20,
      registry,
    });
    expect(log.state()).toMatchObject({ chain: 'broken', breaks: 1 });
    expect(log.state().reason).toMatch(/audit.log line 2/);
    expect(errors).toHaveLength(1);
    expect(await registry.getSingleMetricAsString('ioc_audit_chain_breaks')).toMatch(/ioc_audit_chain_breaks 1/);
    const next = await log.record({ actor: { name: 'admin', role: 'admin' }, action: 'rule.delete', target: 'r1' });
    expect(next?.seq).toBe(7);
    await log.close();
    const all = queryAudit(dir, {}, 10).entries;
    expect(all[1]).toMatchObject({ seq: 6, action: 'audit.chain_break' });
    expect((all[1]!.details as { breaks: Array<{ line: number }> }).breaks[0]!.line).toBe(2);
    // a second start finds the break answered in the chain: no new chain_break entry, still reported
    const again = AuditLog.open({ dir, clock: createManualClock(), logger: silent, maxFileBytes: 1 << 20 });
    expect(again.state().chain).toBe('broken');
    await again.close();
    expect(queryAudit(dir, { action: ['audit'] }, 10).entries).toHaveLength(1);
  });

  it('rotates by size and keeps the chain across files; pages newest first with a cursor', async () => {
    const dir = tempDir();
    await writeEntries(dir, 30, 1200);
    expect(listAuditFiles(dir).length).toBeGreaterThan(3);
    expect(verifyAuditDir(dir)).toMatchObject({ ok: true, entries: 30 });
    const seen: number[] = [];
    let cursor: number | undefined;
    do {
      const page = queryAudit(dir, {}, 7, cursor);
      seen.push(...page.entries.map((e) => e.seq));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));
    expect(
      queryAudit(dir, { actor: 'op1', action: ['alert'] }, 100).entries.every(
        (e) => e.actor.name === 'op1' && e.action === 'alert.acknowledge',
      ),
    ).toBe(true);
  });
});
