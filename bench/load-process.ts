import { spawn } from 'node:child_process';

/**
 * Runs a load generator (a bench/*-load.ts file) as its own process, so the broker under test keeps
 * its core; the generator prints one JSON line with what was acknowledged and how long it took.
 */
export interface LoadResult { acked: number; seconds: number; cpuMicros?: number; startedAt?: number; connectSeconds?: number }

export function runLoadProcess(file: string, input: object): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, JSON.stringify(input)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim()) as LoadResult) : reject(new Error(`load generator exited ${code}`))));
  });
}
