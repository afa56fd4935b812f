import { describe, expect, it } from 'vitest';
import { kilobytes, memoryBreakdown } from './soak-memory.ts';

describe('the soak’s memory breakdown', () => {
  it('reads the kernel’s anonymous and file-mapped counts and puts the committed JS heap inside the first', () => {
    const status = 'Name:\tnode\nVmRSS:\t  300000 kB\nRssAnon:\t  262144 kB\nRssFile:\t   37856 kB\nRssShmem:\t0 kB\n';
    expect(kilobytes(status, 'RssAnon')).toBe(262_144);
    expect(kilobytes(status, 'RssFil')).toBeUndefined();
    const writer = { thread: 'writer', committedBytes: 24 * 2 ** 20, youngCommittedBytes: 16 * 2 ** 20, usedBytes: 1 };
    const m = memoryBreakdown([writer, { ...writer, thread: 'reader-1' }], status);
    expect(m.anonMb).toBe(256);
    expect(m.fileMb).toBeCloseTo(36.97, 2);
    expect(m.heapCommittedMb).toBeGreaterThan(m.youngCommittedMb);
    expect(m.threadsMb).toBe(48);
    expect(m.nativeMb).toBeCloseTo(256 - m.heapCommittedMb - 48, 6);
  });

  it('gives the heap alone where the kernel’s counts are not there', () => {
    const m = memoryBreakdown([], '');
    expect(m.heapCommittedMb).toBeGreaterThan(0);
    expect(m.anonMb).toBeUndefined();
    expect(m.nativeMb).toBeUndefined();
  });

  it('reads this process’s own counts on Linux', () => {
    const m = memoryBreakdown();
    if (process.platform !== 'linux') return;
    expect(m.anonMb! + m.fileMb!).toBeGreaterThan(m.heapCommittedMb);
  });
});
