import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { serverProcess } from './server-process.ts';

/** A private redis-server for tests (Debian's binary) on a free port, its files in a temporary folder. */
export interface RedisServer {
  readonly url: string;
  pid(): number | undefined;
  dispose(): Promise<void>;
}

export const REDIS_BINARY = '/usr/bin/redis-server';

export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const server = serverProcess({
    name: `redis-server on ${url}`,
    binary: REDIS_BINARY,
    // no snapshots: the test's Redis lives as long as the test
    args: ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    install: 'apt-get install -y redis-server',
    ready: async () => {
      const probe = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => undefined); // refused until the server listens: the loop asks again
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    },
  });
  await server.start();
  return {
    url,
    pid: () => server.pid(),
    dispose: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
