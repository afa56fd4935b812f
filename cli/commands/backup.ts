import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPlatformConfig } from '../../config/platform-config.ts';
import { backupDataDir, restoreDataDir } from '../../store/data-backup.ts';
import type { CliCommand, CliIo } from '../cli-command.ts';

/**
 * `ioc backup` and `ioc restore` (docs/operations.md). Backup runs beside a running platform; restore
 * refuses a data directory a platform runs on, and a non-empty one without --force.
 */
const BACKUP_USAGE = `usage: ioc backup --out DIR [--data-dir DIR] [--config FILE]
Copies the data directory (embedded store through SQLite's online backup, commit log and checkpoints,
credentials, rules changed through the API) into DIR, a new or empty directory, while the platform runs.
DIR holds plain device secrets (credentials.json): keep it as safe as the server.`;

const RESTORE_USAGE = `usage: ioc restore --from DIR [--data-dir DIR] [--config FILE] [--force]
Puts a backup made by ioc backup into the data directory. Checks every file first. Refuses while a
platform runs on the directory; a non-empty directory is moved aside (DIR.before-restore-...) only with --force.`;

function dataDirOf(values: { 'data-dir'?: string; config?: string }): string {
  if (values['data-dir']) return resolve(values['data-dir']);
  return loadPlatformConfig({ env: { ...process.env, ...(values.config ? { IOC_CONFIG: values.config } : {}) } })
    .dataDir;
}

const common = { 'data-dir': { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean' } } as const;

function usage(io: CliIo, text: string, help: boolean | undefined): number {
  if (help) io.out(text);
  else io.err(text);
  return help ? 0 : 2;
}

export const backupCommand: CliCommand = {
  name: 'backup',
  summary: 'copy the data directory consistently while the platform runs',
  usage: BACKUP_USAGE,
  async run(args, io) {
    const { values } = parseArgs({ args: [...args], options: { ...common, out: { type: 'string' } } });
    if (values.help || !values.out) return usage(io, BACKUP_USAGE, values.help);
    const started = Date.now();
    const manifest = await backupDataDir(dataDirOf(values), resolve(values.out));
    const bytes = manifest.files.reduce((n, f) => n + f.bytes, 0);
    io.out(
      `backed up ${manifest.files.length} files (${(bytes / 1048576).toFixed(1)} MiB) from ${manifest.source} ` +
        `to ${resolve(values.out)} in ${Date.now() - started} ms`,
    );
    return 0;
  },
};

export const restoreCommand: CliCommand = {
  name: 'restore',
  summary: 'put a backup back into a data directory (the platform stopped)',
  usage: RESTORE_USAGE,
  async run(args, io) {
    const { values } = parseArgs({
      args: [...args],
      options: { ...common, from: { type: 'string' }, force: { type: 'boolean' } },
    });
    if (values.help || !values.from) return usage(io, RESTORE_USAGE, values.help);
    const dataDir = dataDirOf(values);
    const result = restoreDataDir(resolve(values.from), dataDir, { force: values.force });
    if (result.movedAside) io.out(`moved the directory that was there to ${result.movedAside}`);
    io.out(
      `restored ${result.files} files (${(result.bytes / 1048576).toFixed(1)} MiB) into ${dataDir}; start the ` +
        'platform: it replays the commit log from the checkpoint',
    );
    return 0;
  },
};
