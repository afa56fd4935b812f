import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real, small filesystem for disk-full tests: a tmpfs of `sizeBytes` mounted on a fresh temp dir. Needs
 * root (or CAP_SYS_ADMIN); `mount` returns undefined where that is not allowed, and the test says it skipped.
 * Unmounted by its own path, never by name.
 */
export interface SmallFilesystem {
  readonly dir: string;
  unmount(): void;
}

export function mountSmallFilesystem(sizeBytes: number): SmallFilesystem | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-smallfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    unmount() {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); // still busy (a child not yet reaped): detach it
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
