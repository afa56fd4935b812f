import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../test-support/log-capture.ts';
import { startTestPlatform, type TestPlatform } from '../test-support/platform-harness.ts';
import { runningPid } from '../store/data-dir-lock.ts';
import { auditEntrySchema, hashEntry, serializeEntry, type AuditEntry } from './audit-entry.ts';

/**
 * Attacker review item 3: the chain is keyed (HMAC-SHA256 with a key outside the data directory), so
 * someone who can write the audit files, rewrite an entry and recompute every plain hash after it is
 * still caught; and the head goes to the log every few entries, a witness for an off-host collector.
 */
const IOC = fileURLToPath(new URL('../cli/ioc.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ioc = (...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', IOC, ...args],
      { cwd: ROOT, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });

/** What an attacker without the key does: change one entry, re-hash it and everything after, fix the head. */
function rewriteAndRehash(
  dataDir: string,
  match: (e: AuditEntry) => boolean,
  change: (e: AuditEntry) => void,
  dropMacs: boolean,
): void {
  const file = join(dataDir, 'audit', 'audit.log');
  const entries = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => auditEntrySchema.parse(JSON.parse(l)));
  const at = entries.findIndex(match);
  expect(at).toBeGreaterThanOrEqual(0);
  change(entries[at]!);
  for (let i = at; i < entries.length; i++) {
    const e = entries[i]!;
    if (i > 0) e.prevHash = entries[i - 1]!.hash;
    if (dropMacs) delete e.mac;
    e.hash = hashEntry(e);
  }
  writeFileSync(file, entries.map((e) => `${serializeEntry(e)}\n`).join(''));
  const last = entries[entries.length - 1]!;
  writeFileSync(join(dataDir, 'audit', 'audit.head'), JSON.stringify({ seq: last.seq, hash: last.hash }));
}

describe('the keyed audit chain', () => {
  let p: TestPlatform;
  const logs = captureLogs('info');
  beforeAll(async () => {
    p = await startTestPlatform({ logger: logs.logger, overrides: { audit: { witnessEveryEntries: 3 } } });
  });
  afterAll(async () => {
    await p?.stop();
  });

  const admin = () => ({ token: p.adminToken });

  it('makes its key 0600 outside the data directory, MACs every entry and logs the head as a witness', async () => {
    const keyFile = `${p.dataDir}.audit.key`;
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    for (const name of ['tran.mot', 'tran.hai', 'tran.ba'])
      expect((await p.request('POST', '/api/accounts', { ...admin(), body: { name, role: 'viewer' } })).status).toBe(
        201,
      );
    await p.audit.idle();
    const lines = readFileSync(join(p.dataDir, 'audit', 'audit.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry);
    expect(lines.every((e) => /^[0-9a-f]{64}$/.test(e.mac ?? ''))).toBe(true);
    const witnesses = logs.lines
      .filter((l) => l.msg === 'audit: chain head')
      .map((l) => l.auditHead as { seq: number; hash: string });
    expect(witnesses.length).toBeGreaterThanOrEqual(1);
    // each witness names an entry as it is on disk
    for (const w of witnesses) expect(lines.find((e) => e.seq === w.seq)?.hash).toBe(w.hash);
    expect((await ioc('audit', 'verify', '--data-dir', p.dataDir)).stdout).toMatch(/^ok \(MACs checked\)/m);
    const key = readFileSync(keyFile, 'utf8').trim();
    expect(logs.text()).not.toContain(key);
  }, 60_000);

  it('catches an entry rewritten and the plain chain recomputed without the key; the witness disagrees', async () => {
    await p.audit.idle();
    const witnessed = logs.lines
      .filter((l) => l.msg === 'audit: chain head')
      .map((l) => l.auditHead as { seq: number; hash: string })[0]!;
    rewriteAndRehash(
      p.dataDir,
      (e) => e.action === 'account.create' && e.target === 'tran.mot',
      (e) => {
        e.target = 'someone.else';
      },
      false,
    );
    // the hashes alone are fooled: that is what the key is for
    expect((await ioc('audit', 'verify', '--data-dir', p.dataDir, '--unkeyed')).code).toBe(0);
    const keyed = await ioc('audit', 'verify', '--data-dir', p.dataDir);
    expect(keyed.code).toBe(1);
    expect(keyed.stdout).toMatch(/BREAK audit\.log line \d+ \(seq \d+\): its MAC does not match/);
    // the witness in the log no longer matches the file
    const now = readFileSync(join(p.dataDir, 'audit', 'audit.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry);
    expect(now.find((e) => e.seq === witnessed.seq)?.hash).not.toBe(witnessed.hash);

    // stripping the MACs does not help either
    rewriteAndRehash(
      p.dataDir,
      (e) => e.target === 'someone.else',
      (e) => {
        e.target = 'tran.mot';
      },
      true,
    );
    const stripped = await ioc('audit', 'verify', '--data-dir', p.dataDir);
    expect(stripped.code).toBe(1);
    expect(stripped.stdout).toMatch(/no MAC: written without the audit key, or its MAC was stripped/);

    // the running platform says so over HTTP and in its log, once
    const verify = await p.request('GET', '/api/audit/verify', admin());
    expect(verify.json).toMatchObject({ ok: false });
    await p.request('GET', '/api/audit/verify', admin());
    expect(
      logs.lines.filter((l) => l.msg === 'audit: THE AUDIT CHAIN IS BROKEN: found by a full verification'),
    ).toHaveLength(1);
    expect((await p.request('GET', '/api/health')).json).toMatchObject({ audit: { chain: 'broken' } });
  }, 60_000);

  it('refuses to start when the key is gone but the log is keyed, not re-keying quietly (review F5)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ioc-audit-key-'));
    const first = await startTestPlatform({ dataDir: dir });
    await first.request('POST', '/api/accounts', {
      token: first.adminToken,
      body: { name: 'kiem-toan', role: 'viewer' },
    });
    await first.stop();
    const key = readFileSync(`${dir}.audit.key`);
    rmSync(`${dir}.audit.key`, { force: true });
    await expect(startTestPlatform({ dataDir: dir })).rejects.toThrow(
      /audit key .* is missing, but the audit log holds entries signed/,
    );
    expect(existsSync(`${dir}.audit.key`)).toBe(false);
    expect(runningPid(dir), 'the refused start left its data-dir mark (and the store it had opened)').toBeUndefined();
    // the refused start released what it had opened (the data-dir lock, the store's worker): with the key back,
    // the same process starts on the same data dir
    writeFileSync(`${dir}.audit.key`, key, { mode: 0o600 });
    const again = await startTestPlatform({ dataDir: dir });
    await again.stop();
    rmSync(`${dir}.audit.key`, { force: true });
    rmSync(dir, { recursive: true, force: true });
  });
});
