import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A real pino logger whose lines a test can read back (parsed JSON), to assert what was logged. */
export function captureLogs(level: pino.LevelWithSilent = 'info'): {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  text(): string;
} {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        raw.push(line);
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          /* not JSON: kept in text() */
        }
      }
      done();
    },
  });
  return { logger: pino({ level }, stream), lines, text: () => raw.join('\n') };
}
