/**
 * Logs refusals without letting a hostile client flood the log: the first refusal of each kind (key) is
 * logged, then one line per 1,000 more with the count. Keys are bounded; past the bound the table starts
 * over (a new first line each), which still caps the log at a line per 1,000 refusals per key at worst.
 * The exact numbers are in /metrics, not here.
 */
export interface RefusalLog {
  once(key: string, fields: Record<string, unknown>, message: string): void;
}

const MAX_KEYS = 1000;
const EVERY = 1000;

export function createRefusalLog(logger: { warn(obj: object, msg: string): void }): RefusalLog {
  const counts = new Map<string, number>();
  return {
    once(key, fields, message) {
      if (!counts.has(key) && counts.size >= MAX_KEYS) counts.clear();
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      if (n === 1) logger.warn(fields, message);
      else if (n % EVERY === 0) logger.warn({ ...fields, refusedSoFar: n }, `${message} (repeated)`);
    },
  };
}
