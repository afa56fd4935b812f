import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The platform as a separate process, for tests that kill it (SIGKILL) or stop it with a signal: the sources
 * through tsx (`node --import tsx main.ts`), or what `npm start` runs (`node --enable-source-maps
 * dist/main.js`: the same main.ts from the build; start/start.test.ts builds it first). Ports are ephemeral
 * and read from its start-up log.
 */
export interface PlatformProcess {
  readonly child: ChildProcess;
  readonly httpUrl: string;
  readonly mqttUrl: string;
  readonly output: string[];
  /** resolves with the exit code (or signal name) */
  readonly exited: Promise<number | string>;
}

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** `npm start`'s node arguments from package.json (its flags and dist/main.js), so this runs exactly that. */
const START_ARGS = startArguments();

function startArguments(): string[] {
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } })
    .scripts.start;
  const [command, ...args] = script.split(/\s+/);
  if (command !== 'node') throw new Error(`package.json's start script should run node, not: ${script}`);
  return args;
}

export async function spawnPlatform(
  env: Record<string, string>,
  timeoutMs = 60_000,
  run: 'sources' | 'npm start' = 'sources',
): Promise<PlatformProcess> {
  const child = spawn(process.execPath, run === 'sources' ? ['--import', 'tsx', MAIN] : START_ARGS, {
    cwd: ROOT,
    env: {
      ...process.env,
      IOC_MQTT_PORT: '0',
      IOC_HTTP_PORT: '0',
      IOC_MQTT_HOST: '127.0.0.1',
      IOC_HTTP_HOST: '127.0.0.1',
      IOC_DEMO: '0',
      IOC_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  let httpUrl = '';
  let mqttUrl = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`platform did not start within ${timeoutMs} ms:\n${output.join('')}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output.push(text);
      mqttUrl ||= /MQTT broker listening on (mqtt:\/\/[\d.]+:\d+)/.exec(text)?.[1] ?? '';
      httpUrl ||= /HTTP API listening on (https?:\/\/[\d.]+:\d+)/.exec(text)?.[1] ?? '';
      if (/platform ready/.test(text) && httpUrl && mqttUrl) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`platform exited (${code}) before it was ready:\n${output.join('')}`));
    });
  });
  process.once('exit', () => child.kill('SIGKILL'));
  return { child, httpUrl, mqttUrl, output, exited };
}
