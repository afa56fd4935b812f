import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A real file system that gives I/O errors on command, for fault tests of the commit log: a FUSE pass-through
 * (test-support/faulty-fs.py, Debian's python3-fusepy) over a backing directory. `dir` is the mount, where the
 * code under test writes; `backing` holds what "the disk" holds, to read back as a restart would. Needs root
 * (or CAP_SYS_ADMIN), /dev/fuse and the package: `mountFaultyFilesystem` returns undefined where any is missing,
 * and the test says it skipped. Unmounted by its own path, the daemon stopped by its pid.
 */
export type WriteFault = 'off' | 'eio' | 'land-then-eio';

export interface FaultyFilesystem {
  readonly dir: string;
  readonly backing: string;
  /** off: writes pass; eio: they fail and change nothing; land-then-eio: the next lands and fails, then eio */
  setFault(fault: WriteFault): void;
  readonly fault: WriteFault;
  unmount(): Promise<void>;
}

const DAEMON = fileURLToPath(new URL('./faulty-fs.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

const mounted = (dir: string) => readFileSync('/proc/mounts', 'utf8').includes(` ${dir} fuse `);

function available(): boolean {
  if (process.platform !== 'linux' || !existsSync('/dev/fuse') || !existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ['-c', 'import fusepy'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

export async function mountFaultyFilesystem(): Promise<FaultyFilesystem | undefined> {
  if (!available()) return undefined;
  const root = mkdtempSync(join(tmpdir(), 'ioc-faultyfs-'));
  const backing = join(root, 'backing');
  const dir = join(root, 'mnt');
  const control = join(root, 'fault');
  mkdirSync(backing);
  mkdirSync(dir);
  writeFileSync(control, 'off');
  const daemon: ChildProcess = spawn(PYTHON, [DAEMON, backing, dir, control], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  daemon.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  for (let i = 0; i < 100 && !mounted(dir) && daemon.exitCode === null; i++)
    await new Promise((r) => setTimeout(r, 50));
  if (!mounted(dir)) {
    daemon.kill();
    await exited;
    rmSync(root, { recursive: true, force: true });
    if (stderr) process.emitWarning(`faulty file system not mounted: ${stderr.trim()}`);
    return undefined;
  }
  return {
    dir,
    backing,
    setFault(fault) {
      writeFileSync(control, fault);
    },
    get fault() {
      return (readFileSync(control, 'utf8').trim() || 'off') as WriteFault;
    },
    async unmount() {
      writeFileSync(control, 'off');
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); // a handle still open: detach it
      }
      const timer = setTimeout(() => daemon.kill(), 5000);
      await exited;
      clearTimeout(timer);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
