import type { AggregateFn } from '../time-series-store.ts';

/**
 * Which table answers which part of an aggregate query. Roll-ups hold per-grain count/sum/min/max, so a
 * bucket of `every` can be built from whole grains when `every` is a multiple of the grain; the parts a
 * roll-up cannot give (a `from` inside a grain, the minutes the job has not rolled up yet) come from the
 * raw readings. Pure functions: the SQL lives in sqlite-reads.ts.
 */
export interface RollupTier {
  readonly table: RollupTable;
  readonly grainMs: number;
  /** every grain before this (epoch ms, grain-aligned) is rolled up; 0 = nothing yet */
  readonly rolledUntil: number;
}

/** Closed set: the only table names that ever reach SQL. */
export type RollupTable = 'rollup_1h' | 'rollup_1m';
export type PieceSource = RollupTable | 'raw';

export interface PlanPiece {
  readonly source: PieceSource;
  readonly from: number;
  readonly to: number;
}

/** Functions a roll-up can answer: the rest (first, last) read raw readings. */
const FROM_ROLLUP: ReadonlySet<AggregateFn> = new Set(['mean', 'min', 'max', 'count', 'sum']);

function floorTo(ts: number, grain: number): number {
  return ts - (((ts % grain) + grain) % grain);
}

function ceilTo(ts: number, grain: number): number {
  const floor = floorTo(ts, grain);
  return floor === ts ? ts : floor + grain;
}

/** Tiers coarsest first. Pieces come back in time order and cover [from, to) exactly once. */
export function planAggregate(
  from: number,
  to: number,
  every: number,
  fn: AggregateFn,
  tiers: readonly RollupTier[],
): PlanPiece[] {
  if (!FROM_ROLLUP.has(fn)) return [{ source: 'raw', from, to }];
  const pieces: PlanPiece[] = [];
  const serve = (a: number, b: number, index: number): void => {
    if (a >= b) return;
    const tier = tiers[index];
    if (!tier) {
      pieces.push({ source: 'raw', from: a, to: b });
      return;
    }
    if (every % tier.grainMs !== 0) {
      serve(a, b, index + 1);
      return;
    }
    const lo = ceilTo(a, tier.grainMs);
    const hi = Math.min(floorTo(b, tier.grainMs), tier.rolledUntil);
    if (lo >= hi) {
      serve(a, b, index + 1);
      return;
    }
    serve(a, lo, index + 1);
    pieces.push({ source: tier.table, from: lo, to: hi });
    serve(hi, b, index + 1);
  };
  serve(from, to, 0);
  return pieces;
}

/** A bucket's partial state, from a roll-up or raw rows; states of one bucket merge. */
export interface BucketState {
  ts: number;
  n: number;
  sum: number;
  min: number;
  max: number;
}

export function mergeBuckets(parts: readonly BucketState[][]): BucketState[] {
  const byTs = new Map<number, BucketState>();
  for (const list of parts) {
    for (const s of list) {
      const prev = byTs.get(s.ts);
      if (!prev) byTs.set(s.ts, { ...s });
      else {
        prev.n += s.n;
        prev.sum += s.sum;
        prev.min = Math.min(prev.min, s.min);
        prev.max = Math.max(prev.max, s.max);
      }
    }
  }
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}

export function finishBucket(state: BucketState, fn: AggregateFn): number {
  switch (fn) {
    case 'mean':
      return state.sum / state.n;
    case 'min':
      return state.min;
    case 'max':
      return state.max;
    case 'count':
      return state.n;
    case 'sum':
      return state.sum;
    default:
      throw new RangeError(`${fn} is not answered from roll-ups`);
  }
}
