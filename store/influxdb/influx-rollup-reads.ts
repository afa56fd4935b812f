import type { AggregateQuery, Sample } from '../time-series-store.ts';
import { checkAggregateQuery } from '../query-bounds.ts';
import {
  finishBucket,
  mergeBuckets,
  planAggregate,
  type BucketState,
  type PieceSource,
  type RollupTier,
} from '../sqlite/aggregate-plan.ts';
import type { RunStatements } from './influx-reads.ts';
import { ROLLUP_GRAINS, type RollupName } from './influx-rollup-setup.ts';
import { aggregateStatement, ident, literal, source, timeRange, type Series } from './influxql.ts';

/**
 * Aggregates on InfluxDB served from the roll-up that fits, as the embedded store does: the same plan
 * (store/sqlite/aggregate-plan.ts) splits [from, to) into whole roll-up grains and raw edges; each piece
 * answers count/sum/min/max per bucket and the pieces of one bucket merge. A 30-day daily max then reads
 * 720 hourly rows per sensor instead of 259,200 readings.
 */

/** A continuous query writes an interval just after it ends; this much later its rows are surely there. */
const CQ_LAG_MS = 120_000;

const TABLE_OF: Record<RollupName, 'rollup_1m' | 'rollup_1h'> = {
  ioc_rollup_1m: 'rollup_1m',
  ioc_rollup_1h: 'rollup_1h',
};
const POLICY_OF: Record<'rollup_1m' | 'rollup_1h', RollupName> = {
  rollup_1m: 'ioc_rollup_1m',
  rollup_1h: 'ioc_rollup_1h',
};

/** Tiers coarsest first, each rolled up until the last grain its continuous query has surely written. */
export function rollupTiers(available: readonly RollupName[], now: number): RollupTier[] {
  return [...available]
    .sort((a, b) => ROLLUP_GRAINS[b].ms - ROLLUP_GRAINS[a].ms)
    .map((name) => {
      const grainMs = ROLLUP_GRAINS[name].ms;
      const lagged = now - CQ_LAG_MS;
      return { table: TABLE_OF[name], grainMs, rolledUntil: lagged - (lagged % grainMs) };
    });
}

function pieceStatement(
  q: AggregateQuery,
  piece: { source: PieceSource; from: number; to: number },
  rp?: string,
): string {
  const where =
    `WHERE ${ident('sensorId')} = ${literal(q.sensorId)} AND ${timeRange(piece.from, piece.to)} GROUP BY ` +
    `time(${q.every}ms) fill(none)`;
  if (piece.source === 'raw') {
    const f = ident(q.field);
    return `SELECT count(${f}), sum(${f}), min(${f}), max(${f}) FROM ${source(q.measurement, rp)} ${where}`;
  }
  const col = (prefix: string) => ident(`${prefix}_${q.field}`);
  return (
    `SELECT sum(${col('count')}), sum(${col('sum')}), min(${col('min')}), max(${col('max')}) ` +
    `FROM ${source(q.measurement, POLICY_OF[piece.source])} ${where}`
  );
}

function bucketStates(series: Series | undefined): BucketState[] {
  const out: BucketState[] = [];
  for (const [ts, n, sum, min, max] of series?.values ?? []) {
    if (
      typeof n !== 'number' ||
      n === 0 ||
      typeof sum !== 'number' ||
      typeof min !== 'number' ||
      typeof max !== 'number'
    )
      continue;
    out.push({ ts: Number(ts), n, sum, min, max });
  }
  return out;
}

export async function readAggregateFromRollups(
  run: RunStatements,
  q: AggregateQuery,
  rollups: readonly RollupName[],
  now: number,
  rp?: string,
): Promise<Sample[]> {
  const fn = checkAggregateQuery(q);
  const pieces = planAggregate(q.from, q.to, q.every, fn, rollupTiers(rollups, now));
  if (pieces.every((p) => p.source === 'raw')) {
    const [result] = await run([aggregateStatement(q, rp)]);
    return (result?.series[0]?.values ?? []).flatMap(([ts, v]) =>
      typeof v === 'number' ? [{ ts: Number(ts), value: v }] : [],
    );
  }
  const results = await run(pieces.map((piece) => pieceStatement(q, piece, rp)));
  const merged = mergeBuckets(results.map((r) => bucketStates(r.series[0])));
  const samples = merged.map((state) => ({ ts: state.ts, value: finishBucket(state, fn) }));
  return q.limit !== undefined && q.limit > 0 ? samples.slice(0, q.limit) : samples;
}
