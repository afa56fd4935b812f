import { AGGREGATE_FNS, type AggregateFn, type AggregateQuery, type RangeQuery } from './time-series-store.ts';

/**
 * The last line of defence before a query reaches SQL or InfluxQL: the API parses every parameter into a
 * typed value, but an adapter must not trust its caller either. Times, limits and bucket sizes are checked
 * to be safe integers in range (a NaN, an Infinity or 1e+300 never reaches a statement), and the aggregate
 * function is looked up in a closed list, so no caller-chosen text becomes part of a statement.
 */

/** ±100,000,000 days around the epoch: what a JavaScript Date can hold. */
export const MAX_TIME_MS = 8.64e15;
/** A bucket longer than ten years answers nothing a shorter one would not. */
export const MAX_EVERY_MS = 10 * 366 * 86_400_000;

export class QueryBoundsError extends RangeError {}

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new QueryBoundsError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

export function checkRangeQuery(q: RangeQuery): void {
  integerIn('from', q.from, -MAX_TIME_MS, MAX_TIME_MS);
  integerIn('to', q.to, -MAX_TIME_MS, MAX_TIME_MS);
  if (q.limit !== undefined) integerIn('limit', q.limit, 1, Number.MAX_SAFE_INTEGER);
}

export function checkAggregateQuery(q: AggregateQuery): AggregateFn {
  checkRangeQuery(q);
  integerIn('every', q.every, 1, MAX_EVERY_MS);
  return aggregateFn(q.fn);
}

/** The function as one of the closed list, whatever a caller's type assertion claimed. */
export function aggregateFn(fn: unknown): AggregateFn {
  const found = AGGREGATE_FNS.find((f) => f === fn);
  if (!found) throw new QueryBoundsError(`fn must be one of ${AGGREGATE_FNS.join(', ')}, got ${String(fn)}`);
  return found;
}
