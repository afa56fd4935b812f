import { fileURLToPath } from 'node:url';
import { processIo, type CliCommand, type CliIo } from './cli-command.ts';
import { accountsCommand } from './commands/accounts.ts';
import { auditCommand } from './commands/audit.ts';
import { backupCommand, restoreCommand } from './commands/backup.ts';
import { credentialsCommand } from './commands/credentials.ts';
import { rulesCommand } from './commands/rules.ts';
import { sensorsCommand } from './commands/sensors.ts';
import { simulateCommand } from './commands/simulate.ts';
import { startCommand } from './commands/start.ts';
import { storeCommand } from './commands/store.ts';
import { tlsCommand } from './commands/tls.ts';

/**
 * `ioc`: the engineers' command line (`npm run ioc -- <command> ...`). Adding a command is adding a file
 * in cli/commands/ and a line in this table.
 */
export const COMMANDS: readonly CliCommand[] = [
  rulesCommand,
  simulateCommand,
  credentialsCommand,
  tlsCommand,
  accountsCommand,
  backupCommand,
  restoreCommand,
  storeCommand,
  auditCommand,
  sensorsCommand,
  startCommand,
];

function help(io: CliIo): void {
  io.out('usage: ioc <command> [arguments]\n');
  for (const c of COMMANDS) io.out(`  ${c.name.padEnd(10)} ${c.summary}`);
  io.out("\nioc <command> --help shows a command's usage.");
}

export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    help(io);
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`ioc: unknown command "${name}"`);
    help(io);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    io.err(`ioc ${name}: ${(err as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await runCli(process.argv.slice(2));
}
