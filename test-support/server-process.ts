import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A real server binary that tests start, stop and start again (same port, same data), for the outage
 * tests. The process is killed when the test process exits, whatever happens to the test.
 */
export interface ServerProcess {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  running(): boolean;
  /** the process id while it runs (benchmarks read its CPU time) */
  pid(): number | undefined;
}

export interface ServerProcessOptions {
  name: string;
  binary: string;
  args: string[];
  /** how to install the binary, shown when it is missing */
  install: string;
  /** added to this process's environment for the server */
  env?: Record<string, string>;
  /** resolves true once the server answers */
  ready(): Promise<boolean>;
  readyTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Fails with the install command when the binary is missing: a missing server is never a silent skip. */
export function requireBinary(binary: string, install: string): void {
  if (!existsSync(binary)) {
    throw new Error(
      `${binary} is not installed: these tests need the real server. Install it with \`${install}\` (Debian).`,
    );
  }
}

export function serverProcess(options: ServerProcessOptions): ServerProcess {
  requireBinary(options.binary, options.install);
  let child: ChildProcess | undefined;
  let output = '';

  const stop = async (): Promise<void> => {
    const current = child;
    if (!current) return;
    child = undefined;
    if (current.exitCode !== null || current.signalCode !== null) {
      live.delete(current);
      return;
    }
    const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    current.kill('SIGTERM');
    const killed = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!killed) {
      current.kill('SIGKILL');
      await exited;
    }
    live.delete(current);
  };

  const start = async (): Promise<void> => {
    if (child) return;
    output = '';
    const proc = spawn(options.binary, options.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ? { ...process.env, ...options.env } : process.env,
    });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    child = proc;
    live.add(proc);
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        child = undefined;
        live.delete(proc);
        throw new Error(`${options.name} exited at start (${proc.exitCode ?? proc.signalCode}):\n${output}`);
      }
      if (await options.ready().catch(() => false)) return;
      await sleep(100);
    }
    await stop();
    throw new Error(`${options.name} did not answer within ${options.readyTimeoutMs ?? 30_000} ms:\n${output}`);
  };

  return { name: options.name, start, stop, running: () => child !== undefined, pid: () => child?.pid };
}
