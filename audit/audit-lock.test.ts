import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireAuditLock, releaseAuditLock } from './audit-lock.ts';

// A lock names its writer by pid and start time: a crashed writer's lock must not keep the platform from
// starting again when another process has since been given the same pid (after a reboot, or as pid 1 in a
// container), and a live writer's lock must still be respected.
describe('audit.lock', () => {
  let dir: string;
  let other: ReturnType<typeof spawn>;
  const lockFile = () => join(dir, 'audit.lock');
  const startTicksOf = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ioc-audit-lock-'));
    other = spawn('sleep', ['60'], { stdio: 'ignore' });
  });
  afterEach(() => {
    releaseAuditLock(dir);
    other.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes its pid and start time, and refuses a second writer in the same process', () => {
    expect(acquireAuditLock(dir)).toBe(true);
    expect(readFileSync(lockFile(), 'utf8')).toBe(`${process.pid} ${startTicksOf(process.pid)}`);
    expect(acquireAuditLock(dir)).toBe(false);
  });

  it('is refused while the process that wrote it runs', () => {
    writeFileSync(lockFile(), `${other.pid} ${startTicksOf(other.pid!)}`);
    expect(acquireAuditLock(dir)).toBe(false);
    writeFileSync(lockFile(), `${other.pid}`); // a lock written before start times were recorded
    expect(acquireAuditLock(dir)).toBe(false);
  });

  it('is taken over when its pid now belongs to a process that started later', () => {
    const started = Number(startTicksOf(other.pid!));
    writeFileSync(lockFile(), `${other.pid} ${started - 1}`);
    expect(acquireAuditLock(dir)).toBe(true);
    expect(readFileSync(lockFile(), 'utf8')).toBe(`${process.pid} ${startTicksOf(process.pid)}`);
  });

  it('is taken over when its writer is gone', async () => {
    const gone = spawn('true');
    await new Promise((r) => gone.once('exit', r));
    writeFileSync(lockFile(), `${gone.pid} 1`);
    expect(acquireAuditLock(dir)).toBe(true);
  });
});
