import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../audit/audit-entry.ts';
import { startTestPlatform, type TestPlatform } from '../../test-support/platform-harness.ts';

/**
 * `ioc audit` and the CLI's own entries, run as separate processes beside a running platform: what an
 * administrator does on the server's shell is in the same chain as what is done over HTTP.
 */
const IOC = fileURLToPath(new URL('../ioc.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function ioc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', IOC, ...args],
      { cwd: ROOT, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

describe('ioc audit, and CLI changes in the audit log', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const entries = async (action: string) =>
    (
      (await platform.request('GET', `/api/audit?action=${action}`, { token: platform.adminToken })).json as {
        entries: AuditEntry[];
      }
    ).entries;

  it('chains in account changes and a device secret rotation made by the CLI in another process', async () => {
    const dir = platform.dataDir;
    expect((await ioc('accounts', 'add', 'hoa.tran', '--role', 'operator', '--data-dir', dir)).code).toBe(0);
    expect((await ioc('accounts', 'role', 'hoa.tran', 'viewer', '--data-dir', dir)).code).toBe(0);
    expect((await ioc('accounts', 'disable', 'hoa.tran', '--data-dir', dir)).code).toBe(0);
    expect((await ioc('credentials', 'device', 'traffic-phubai', '--data-dir', dir)).code).toBe(0);
    // the platform picks pending entries up every 5 s
    await expect
      .poll(async () => (await entries('account')).filter((e) => e.target === 'hoa.tran').length, {
        timeout: 15_000,
        interval: 500,
      })
      .toBe(3);
    const changes = (await entries('account')).filter((e) => e.target === 'hoa.tran').reverse();
    expect(changes.map((e) => [e.action, e.details?.before, e.details?.after])).toEqual([
      ['account.create', undefined, { role: 'operator', disabled: false, hasPassword: true }],
      ['account.update', { role: 'operator' }, { role: 'viewer' }],
      ['account.update', { disabled: false }, { disabled: true }],
    ]);
    for (const e of changes) {
      expect(e.actor.role).toBe('cli');
      expect(e.actor.name).toMatch(/^cli:/);
      expect(e.address).toBe('local');
      expect(typeof e.details?.occurredAt).toBe('number');
    }
    await expect
      .poll(async () => (await entries('device.secret_rotate')).map((e) => e.target), {
        timeout: 15_000,
        interval: 500,
      })
      .toEqual(['traffic-phubai']);
  }, 120_000);

  it('exports NDJSON and CSV with filters, verifies, reports an edited line with file and line (exit 1)', async () => {
    const dir = platform.dataDir;
    const nd = await ioc('audit', 'export', '--data-dir', dir, '--action', 'account');
    expect(nd.code).toBe(0);
    const lines = nd.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry);
    expect(lines.map((e) => e.action)).toEqual(['account.create', 'account.update', 'account.update']);
    const firstTs = lines[0]!.ts;
    const windowed = await ioc(
      'audit',
      'export',
      '--data-dir',
      dir,
      '--action',
      'account',
      '--from',
      String(lines[1]!.ts),
      '--to',
      new Date(lines[2]!.ts).toISOString(),
    );
    expect(
      windowed.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as AuditEntry).seq),
    ).toEqual(lines.filter((e) => e.ts >= lines[1]!.ts && e.ts < lines[2]!.ts).map((e) => e.seq));
    expect(firstTs).toBeLessThanOrEqual(lines[1]!.ts);
    const csv = await ioc('audit', 'export', '--data-dir', dir, '--format', 'csv', '--actor', lines[0]!.actor.name);
    expect(csv.code).toBe(0);
    const rows = csv.stdout.split('\r\n').filter(Boolean);
    expect(rows[0]).toMatch(/^seq,time,/);
    expect(rows.length).toBe(1 + 4); // three account changes and the rotation, by the same OS user
    expect((await ioc('audit', 'export', '--data-dir', dir, '--format', 'xml')).code).toBe(2);
    expect((await ioc('audit', 'export', '--data-dir', dir, '--from', 'yesterday')).stderr).toContain(
      '--from must be ISO-8601',
    );
    expect((await ioc('audit', 'verify', '--data-dir', join(dir, 'nope'))).code).toBe(2);

    const ok = await ioc('audit', 'verify', '--data-dir', dir);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok \(MACs checked\): \d+ entries/m);

    await platform.audit.idle();
    const file = join(dir, 'audit', 'audit.log');
    const text = readFileSync(file, 'utf8').split('\n');
    const at = text.findIndex((l) => l.includes('"device.secret_rotate"'));
    text[at] = text[at]!.replace('traffic-phubai', 'traffic-other');
    writeFileSync(file, text.join('\n'));
    const broken = await ioc('audit', 'verify', '--data-dir', dir);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`BREAK audit.log line ${at + 1}`);
    expect(broken.stdout).toMatch(/^BROKEN \(MACs checked\): /m);
  }, 120_000);
});
