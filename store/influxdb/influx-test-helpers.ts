import pino, { type Logger } from 'pino';
import { influxSchema, type InfluxConfig } from '../../config/platform-config.ts';

/** A logger whose lines the test can read back (messages with their level). */
export function capturingLogger(): { logger: Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        const parsed = JSON.parse(line) as { level: number; msg: string };
        lines.push({ level: parsed.level, msg: parsed.msg });
      },
    },
  );
  return { logger, lines };
}

let counter = 0;
/** A fresh database name per test, so tests share one server without seeing each other's data. */
export function freshDatabase(prefix = 'ioc_test'): string {
  counter += 1;
  return `${prefix}_${process.pid}_${counter}`;
}

export function influxConfig(input: Partial<InfluxConfig> & { url: string }): InfluxConfig {
  return influxSchema.parse(input);
}
