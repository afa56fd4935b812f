import type { Logger } from 'pino';

/**
 * What a node says while Redis does not answer one of its shared counts: one warning when the first command
 * fails, one line when a command succeeds again, nothing for the commands in between (an outage of minutes at a
 * command a second is not a log flood). Only the error's message is logged, never the Redis URL (it may hold a
 * password).
 */
export interface RedisOutageLog {
  /** a command failed or timed out: warns if Redis was answering until now */
  failed(err: Error): void;
  /** a command succeeded: says so if Redis was not answering until now */
  answered(): void;
}

export function redisOutageLog(
  logger: Pick<Logger, 'warn' | 'info'>,
  lines: { down: string; up: string },
): RedisOutageLog {
  let down = false;
  return {
    failed(err) {
      if (down) return;
      down = true;
      logger.warn({ err: err.message }, lines.down);
    },
    answered() {
      if (!down) return;
      down = false;
      logger.info(lines.up);
    },
  };
}
