import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApp } from './build-app.ts';

function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger: Logger = pino({ level: 'info' }, sink);
  return { logger, lines };
}

describe('5xx answers', () => {
  it('hide the internals of a raw Error and carry a request id the log line also has', async () => {
    const { logger, lines } = capturingLogger();
    const app = await buildApp({
      logger,
      version: 'test',
      routes: [
        async (a) => {
          a.get('/api/boom', async () => {
            throw new Error('SQLITE_ERROR near "DROP": syntax error at /srv/ioc/data/embedded.sqlite');
          });
        },
      ],
    });
    const res = await app.inject({ method: 'GET', url: '/api/boom' });
    await app.close();
    expect(res.statusCode).toBe(500);
    const body = res.json<{ code: string; message: string; requestId: string }>();
    expect(body.code).toBe('internal_error');
    expect(res.body).not.toMatch(/SQLITE|DROP|\/srv|stack|Error:/);
    expect(body.requestId).toBeTruthy();
    expect(body.message).toContain(body.requestId);
    const logged = lines.filter((l) => l.reqId === body.requestId && l.level === 50);
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged[0])).toContain('SQLITE_ERROR near');
  });
});
