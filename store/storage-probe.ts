import { statfs, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Whether the disk under `dir` takes writes again: enough free space for what the log needs next (a new,
 * preallocated segment) and a small file written, synced and removed. A probe that only wrote a few bytes
 * would pass while the next segment still cannot be made, and the platform would flap in and out of the
 * unavailable state.
 */
const PROBE_BYTES = 4096;

export async function probeWritable(dir: string, needBytes: number): Promise<void> {
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (free < needBytes) {
    throw Object.assign(new Error(`${free} bytes free under ${dir}, ${needBytes} needed`), { code: 'ENOSPC' });
  }
  const path = join(dir, '.write-probe');
  const handle = await open(path, 'w');
  try {
    await handle.write(Buffer.alloc(PROBE_BYTES, 0x5a), 0, PROBE_BYTES, 0);
    await handle.datasync();
  } finally {
    await handle.close();
    await unlink(path).catch(() => undefined);
  }
}
