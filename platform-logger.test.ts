import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createPlatformLogger } from './platform-logger.ts';

const sink = () => {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { destination, text: () => chunks.join('') };
};

describe('the platform log', () => {
  it("is readable at a terminal: level, message, fields, and the time in the city's zone", async () => {
    const out = sink();
    const logger = createPlatformLogger({
      level: 'info',
      format: 'auto',
      timezone: 'Asia/Ho_Chi_Minh',
      isTerminal: true,
      destination: out.destination,
    });
    const before = new Date();
    logger.info({ sensors: 30 }, 'platform ready');
    await expect.poll(() => out.text()).toContain('platform ready');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes (ESC)
    const text = out.text().replace(/\x1b\[[0-9;]*m/g, '');
    const minute = new Intl.DateTimeFormat('sv-SE', {
      timeZone: 'Asia/Ho_Chi_Minh',
      dateStyle: 'short',
      timeStyle: 'short',
    });
    // the minute it was logged in, UTC+7 (either side of a minute boundary)
    expect([minute.format(before), minute.format(new Date())].some((local) => text.includes(`[${local}`))).toBe(true);
    expect(text).toMatch(/INFO.*: platform ready\n\s+sensors: 30/);
    expect(text).not.toContain('"msg"');
  });

  it('is JSON lines for a collector (not a terminal, or format json)', () => {
    const out = sink();
    createPlatformLogger({
      level: 'info',
      format: 'auto',
      timezone: 'Asia/Ho_Chi_Minh',
      isTerminal: false,
      destination: out.destination,
    }).warn('disk low');
    expect(JSON.parse(out.text())).toMatchObject({ level: 40, msg: 'disk low', app: 'ioc' });
  });
});
