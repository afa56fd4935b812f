import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { shutdownSequence } from './platform-shutdown.ts';

const jsonLogger = () => {
  const lines: Array<{ level: number; msg: string; err?: string }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, destination), lines };
};

describe('the platform’s stop', () => {
  it('runs every step after one that throws or rejects, logs each failure by name, then throws the first', async () => {
    const { logger, lines } = jsonLogger();
    const ran: string[] = [];
    const { step, finish } = shutdownSequence(logger);
    await step('shared limits', () => {
      ran.push('shared limits');
      throw new Error('Connection is closed.');
    });
    await step('HTTP server', async () => ran.push('HTTP server'));
    await step('console sessions', () => Promise.reject(new Error('quit timed out')));
    await step('durable pipeline', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      ran.push('durable pipeline');
    });
    expect(ran).toEqual(['shared limits', 'HTTP server', 'durable pipeline']);
    expect(() => finish()).toThrow('Connection is closed.');
    const errors = lines.filter((l) => l.level === 50).map((l) => [l.msg, l.err]);
    expect(errors).toEqual([
      ['shutdown: shared limits failed; the rest go on', 'Connection is closed.'],
      ['shutdown: console sessions failed; the rest go on', 'quit timed out'],
      ['stopped; 2 shutdown step(s) failed: shared limits, console sessions', undefined],
    ]);
    expect(lines.some((l) => l.msg === 'stopped')).toBe(false);
  });

  it('says stopped, once, when every step ran', async () => {
    const { logger, lines } = jsonLogger();
    const { step, finish } = shutdownSequence(logger);
    await step('MQTT broker', () => undefined);
    finish();
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    expect(lines.filter((l) => l.msg === 'stopped')).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'shutdown: MQTT broker')).toHaveLength(1);
  });

  it('logs a thrown value that is not an Error as text', async () => {
    const { logger, lines } = jsonLogger();
    const { step, finish } = shutdownSequence(logger);
    await step('audit', () => {
      throw 'disk gone';
    });
    expect(() => finish()).toThrow();
    expect(lines.find((l) => l.level === 50)?.err).toBe('disk gone');
  });
});
