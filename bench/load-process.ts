import { spawn } from 'node:child_process';
import { constants, setPriority } from 'node:os';

/**
 * Runs a load generator (a bench/*-load.ts file) as its own process, so the broker under test keeps
 * its core; the generator prints one JSON line with what was acknowledged and how long it took.
 */
export interface LoadResult {
  acked: number;
  seconds: number;
  cpuMicros?: number;
  startedAt?: number;
  connectSeconds?: number;
}

/**
 * `lowestPriority`: the generator runs at the lowest CPU priority (nice 19), so it only takes CPU the
 * platform leaves idle. It stands in for a remote attacker, whose CPU is on another machine: on one shared
 * host the attacker's own process would otherwise be measured as the platform's slowness.
 */
export function runLoadProcess(
  file: string,
  input: object,
  options: { lowestPriority?: boolean } = {},
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, JSON.stringify(input)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (options.lowestPriority && child.pid !== undefined) setPriority(child.pid, constants.priority.PRIORITY_LOW);
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim()) as LoadResult) : reject(new Error(`load generator exited ${code}`)),
    );
  });
}
