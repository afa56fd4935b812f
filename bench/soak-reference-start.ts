import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ReferenceBroker {
  url: string;
  /** asks it to stop (it closes, removes its directory and exits); resolves once it has */
  stop(): Promise<void>;
}

/** Starts bench/soak-reference.ts with its file under `dir`; resolves with its URL once it listens. */
export async function startReference(dir: string): Promise<ReferenceBroker> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./soak-reference.ts', import.meta.url)), dir],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`the reference broker exited ${code}`)));
    proc.stdout.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { port: number }).port));
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stop: () => {
      proc.stdin.end();
      return exited;
    },
  };
}
