import { chmodSync, mkdirSync } from 'node:fs';

/**
 * The data directory holds device secrets, tokens, readings and alerts: nobody but the platform's user
 * reads it. Rather than a mode on each of the writers (commit log segments, checkpoints, SQLite and its
 * WAL, written from a worker thread, credentials, the alert journal), the process's file mode creation
 * mask is set once, before anything is created, so every directory comes out 0700 and every file 0600,
 * including those a library creates. The data directory itself is tightened if an older version made it
 * open.
 */
export const PRIVATE_UMASK = 0o077;

export function preparePrivateDataDir(dataDir: string): void {
  process.umask(PRIVATE_UMASK);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
}
