/**
 * Telling a batch the store refuses for good (a "poison" record: every retry fails the same way) from a
 * store that is down (every write fails, whatever it holds). An outage must only ever wait and retry:
 * the log is the spool and nothing acknowledged may be set aside because a server was unreachable.
 *
 * So a batch is split only after several failures in a row, and a record is called refused only when its
 * error is of a class that says "this data", never "this server" (a parse error, a constraint or type
 * mismatch, HTTP 400). A later success in the same probe is not enough: a store coming back up refuses the
 * first records and takes the next (seen with InfluxDB restarting, which set acknowledged readings aside).
 */
export interface ProbeResult {
  /** indexes of the records the store refused while it took others (or a data-class error alone) */
  readonly refused: number[];
  readonly accepted: number;
  readonly lastError?: string;
}

/** Errors that describe the data, not the store's availability. */
export function isDataRefusal(err: unknown): boolean {
  const e = err as { name?: string; code?: unknown; message?: string; statusCode?: unknown } | undefined;
  if (!e) return false;
  if (e.name === 'SyntaxError' || e.name === 'TypeError' || e.name === 'RangeError') return true;
  if (typeof e.code === 'string' && /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(e.code)) return true;
  if (e.statusCode === 400) return true;
  const message = e.message ?? '';
  return (
    /JSON|Unexpected token|is not iterable|not a function|field type conflict/i.test(message) ||
    /partial write|invalid (field|point|number)|unable to parse/i.test(message)
  );
}

/**
 * Writes each record on its own (a point written twice lands once, so re-writing the good ones is
 * harmless) and says which were refused. When every record fails with errors that are not about the
 * data, nothing is called refused: that is an outage.
 */
export async function probeRecords(count: number, writeOne: (index: number) => Promise<unknown>): Promise<ProbeResult> {
  const failed: Array<{ index: number; data: boolean }> = [];
  let accepted = 0;
  let lastError: string | undefined;
  for (let i = 0; i < count; i++) {
    try {
      await writeOne(i);
      accepted++;
    } catch (err) {
      failed.push({ index: i, data: isDataRefusal(err) });
      lastError = (err as Error).message;
    }
  }
  // only an error about the data: a failure before a success may be the store coming back up
  const refused = failed.filter((f) => f.data).map((f) => f.index);
  return { refused, accepted, ...(lastError ? { lastError } : {}) };
}
