import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startPlatform } from './platform.ts';
import { runningPid } from './store/data-dir-lock.ts';
import { startTestPlatform } from './test-support/platform-harness.ts';

/**
 * A start that fails after the store opened (here: the HTTP port is taken, found once the MQTT listener is up)
 * releases everything it made: an operator who frees the port and starts again on the same data directory, in
 * the same process or another, finds no listener, lock or worker left behind.
 */
const dirs: string[] = [];
let blocker: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
  blocker = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const listenOn = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
const portOf = (server: Server) => (server.address() as { port: number }).port;
const refused = (port: number) =>
  new Promise<string>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });

describe('a failed start', () => {
  it('releases the MQTT listener, the data-dir lock and the store when the HTTP port is taken', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ioc-start-failure-'));
    dirs.push(dataDir);
    blocker = await listenOn(0);
    const free = await listenOn(0);
    const mqttPort = portOf(free);
    await new Promise<void>((resolve) => free.close(() => resolve()));

    const failed = startPlatform({
      env: {},
      overrides: {
        dataDir,
        mqtt: { port: mqttPort, host: '127.0.0.1' },
        http: { port: portOf(blocker), host: '127.0.0.1' },
        demo: { enabled: false },
      },
      logger: pino({ level: 'silent' }),
    });
    await expect(failed).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(await refused(mqttPort)).toBe('ECONNREFUSED');
    expect(runningPid(dataDir)).toBeUndefined();

    // the same directory starts again, and stops cleanly
    const again = await startTestPlatform({ dataDir, overrides: { mqtt: { port: mqttPort, host: '127.0.0.1' } } });
    expect(runningPid(dataDir)).toBe(process.pid);
    await again.stop();
  });
});
