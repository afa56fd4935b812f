import type { Logger } from 'pino';

/**
 * The platform's stop, one named step after another. Every step runs whatever an earlier one did: a Redis
 * connection that throws on quit must not skip the listeners' close or the durable pipeline's flush of
 * acknowledged readings. Each failure is logged with its step's name as it happens; `finish` then throws the
 * first one (the process exits non-zero), after saying which steps failed.
 */
export function shutdownSequence(logger: Pick<Logger, 'debug' | 'info' | 'error'>) {
  const failed: Array<{ name: string; err: unknown }> = [];
  return {
    async step(name: string, fn: () => unknown): Promise<void> {
      logger.debug(`shutdown: ${name}`);
      try {
        await fn();
      } catch (err) {
        failed.push({ name, err });
        logger.error(
          { err: err instanceof Error ? err.message : String(err) },
          `shutdown: ${name} failed; the rest go on`,
        );
      }
    },
    finish(): void {
      const first = failed[0];
      if (!first) {
        logger.info('stopped');
        return;
      }
      logger.error(`stopped; ${failed.length} shutdown step(s) failed: ${failed.map((f) => f.name).join(', ')}`);
      throw first.err;
    },
  };
}
