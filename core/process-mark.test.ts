import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatProcessMark, ownProcessMark, parseProcessMark, processRuns } from './process-mark.ts';

describe('process mark', () => {
  it('reads what it writes, and a pid alone from older files; anything else is no mark', () => {
    const own = ownProcessMark();
    expect(own.started).toMatch(/^\d+$/); // Linux: /proc is there
    expect(parseProcessMark(`${formatProcessMark(own)}\n`)).toEqual(own);
    expect(parseProcessMark('4242')).toEqual({ pid: 4242, started: undefined });
    for (const junk of ['', 'abc', '-3', '0', '12 x', '12 34 56', '1.5', '__proto__']) {
      expect(parseProcessMark(junk), junk).toBeUndefined();
    }
  });

  it('a live pid with another start time is not the marked process; a dead pid never is', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 50));
      expect(processRuns({ pid: child.pid!, started: undefined })).toBe(true);
      const started = ownProcessMark().started!;
      expect(processRuns({ pid: process.pid, started })).toBe(true);
      expect(processRuns({ pid: process.pid, started: String(Number(started) + 1) })).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) => child.once('exit', r));
    expect(processRuns({ pid: child.pid!, started: undefined })).toBe(false);
  });
});
