import type { CliCommand } from '../cli-command.ts';
import { workersArgument } from '../../cluster/workers-plan.ts';

const USAGE = `usage: ioc start [--workers N|auto]
Starts the platform as \`npm start\` does (from the sources). --workers N (cluster.workers, IOC_WORKERS) runs N
platform processes on this box behind the same MQTT and HTTP ports, "auto" one per core; it needs
cluster.redis and store.engine: influxdb (docs/cluster.md).`;

/**
 * `ioc start`: main.ts in this process. main.ts reads --workers from the command line itself, so that
 * `npm start -- --workers N` and the workers the primary forks (which run this same command again) agree.
 */
export const startCommand: CliCommand = {
  name: 'start',
  summary: 'start the platform (--workers N: one process per core behind the same ports)',
  usage: USAGE,
  async run(args, io) {
    if (args.includes('--help') || args.includes('-h')) {
      io.out(USAGE);
      return 0;
    }
    const unknown = args.filter((a, i) => !a.startsWith('--workers') && args[i - 1] !== '--workers');
    if (unknown.length > 0) {
      io.err(`ioc start: unknown argument ${unknown.join(' ')}\n${USAGE}`);
      return 2;
    }
    workersArgument(args); // a malformed count is refused here, before anything starts
    await import('../../main.ts');
    // main.ts runs until a signal stops it and exits the process itself
    return new Promise<number>(() => undefined);
  },
};
