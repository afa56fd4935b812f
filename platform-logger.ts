import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';

// pino-pretty and the ~15 files it loads only for a person at a terminal: JSON lines (a service, a pipe) never
// need them, and the start-up does not pay for them (require: createPlatformLogger is synchronous)
const require = createRequire(import.meta.url);

/**
 * The platform's log: JSON lines for log collectors, or readable lines for a person at a terminal
 * (pino-pretty, with times in the city's zone). `auto` picks by whether stdout is a terminal.
 */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  readonly level: string;
  readonly format: LogFormat;
  /** the city's IANA zone, for the times a person reads */
  readonly timezone: string;
  readonly isTerminal?: boolean;
  /** where lines go (default: stdout) */
  readonly destination?: NodeJS.WritableStream;
}

export function createPlatformLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, base: { app: 'ioc' } };
  const usePretty =
    options.format === 'pretty' || (options.format === 'auto' && (options.isTerminal ?? process.stdout.isTTY === true));
  if (!usePretty) return options.destination ? pino(base, options.destination) : pino(base);
  const time = new Intl.DateTimeFormat('sv-SE', {
    timeZone: options.timezone,
    dateStyle: 'short',
    timeStyle: 'medium',
  });
  const pretty = require('pino-pretty') as typeof PinoPretty;
  const stream = pretty({
    colorize: options.isTerminal ?? process.stdout.isTTY === true,
    ignore: 'pid,hostname,app',
    // synchronous, in this thread: no transport worker to lose lines at exit or to ship beside the build
    sync: true,
    // the raw epoch to the prettifier (translateTime would hand it a string in the machine's zone)
    translateTime: false,
    customPrettifiers: { time: (value) => `[${time.format(new Date(Number(value)))}]` },
    ...(options.destination ? { destination: options.destination } : {}),
  });
  return pino(base, stream);
}
