import type { InfluxConfig } from '../../config/platform-config.ts';
import type { StoreLifecycleConfig } from '../../config/store-lifecycle-config.ts';
import type { InfluxHttp } from './influx-http.ts';
import { durationMs, goDurationMs } from './influx-retention.ts';
import { ident } from './influxql.ts';

/**
 * `ioc store setup-retention` on InfluxDB 1.x: the embedded store's lifecycle (store.lifecycle) as
 * retention policies and continuous queries. Planned first (what differs from the server), then applied,
 * so a dry run prints exactly what a real run does and a second run finds nothing to do.
 *
 * InfluxDB keeps one duration per retention policy and the platform writes every kind to one policy, so
 * the raw policy gets the longest raw window of any kind (a note says which kinds are kept longer than
 * configured). Roll-ups: `ioc_rollup_1m` and `ioc_rollup_1h` policies, each fed by a continuous query of
 * the same name writing count/sum/mean/min/max of every numeric field (count_pm25, sum_pm25, ...) per
 * series; aggregate reads use them (influx-rollup-reads.ts).
 */

export const ROLLUP_GRAINS = {
  ioc_rollup_1m: { every: '1m', ms: 60_000, resample: '10m' },
  ioc_rollup_1h: { every: '1h', ms: 3_600_000, resample: '2h' },
} as const;
export type RollupName = keyof typeof ROLLUP_GRAINS;
export const ROLLUP_NAMES = Object.keys(ROLLUP_GRAINS) as RollupName[];

export interface SetupAction {
  /** what a person reads: "create retention policy ioc_rollup_1m (365d)" */
  readonly summary: string;
  readonly statements: readonly string[];
}

export interface SetupPlan {
  readonly database: string;
  readonly rawPolicy: string;
  readonly actions: readonly SetupAction[];
  /** what the policy cannot do as configured, and what is already as wanted */
  readonly notes: readonly string[];
}

const DAY_MS = 86_400_000;

/** ms (0 = forever) as an InfluxQL duration; whole days when it divides, else hours. */
export function influxDuration(ms: number): string {
  if (ms === 0) return 'INF';
  return ms % DAY_MS === 0 ? `${ms / DAY_MS}d` : `${Math.ceil(ms / 3_600_000)}h`;
}

export function rollupQuery(db: string, rawPolicy: string, name: RollupName): string {
  const grain = ROLLUP_GRAINS[name];
  // RESAMPLE FOR: each run recomputes the last few intervals, so readings replayed late from the commit
  // log (an InfluxDB outage shorter than that window) still reach the roll-up
  return (
    `CREATE CONTINUOUS QUERY ${ident(name)} ON ${ident(db)} RESAMPLE FOR ${grain.resample} ` +
    `BEGIN ${rollupSelect(db, rawPolicy, name)}` +
    ` GROUP BY time(${grain.every}), * END`
  );
}

function rollupSelect(db: string, rawPolicy: string, name: RollupName): string {
  return (
    `SELECT count(*), sum(*), mean(*), min(*), max(*) INTO ${ident(db)}.${ident(name)}.:MEASUREMENT ` +
    `FROM ${ident(db)}.${ident(rawPolicy)}./.*/`
  );
}

/** The continuous query's SELECT over [from, to): fills the roll-up for readings older than the query. */
export function rollupBackfill(db: string, rawPolicy: string, name: RollupName, from: number, to: number): string {
  return (
    `${rollupSelect(db, rawPolicy, name)} WHERE time >= ${from}ms AND time < ${to}ms GROUP BY ` +
    `time(${ROLLUP_GRAINS[name].every}), *`
  );
}

interface Policy {
  name: string;
  durationMs: number;
  isDefault: boolean;
}

async function readPolicies(http: InfluxHttp, db: string): Promise<Policy[] | null> {
  const [result] = await http.query([`SHOW RETENTION POLICIES ON ${ident(db)}`], { db });
  if (result?.error) {
    if (/database not found/i.test(result.error)) return null;
    throw new Error(`SHOW RETENTION POLICIES: ${result.error}`);
  }
  const rows = result?.series[0];
  if (!rows) return [];
  const col = (name: string) => rows.columns.indexOf(name);
  return rows.values.map((row) => ({
    name: String(row[col('name')]),
    durationMs: goDurationMs(String(row[col('duration')])),
    isDefault: row[col('default')] === true,
  }));
}

/** Continuous queries of `db` by name, as InfluxDB prints them. */
export async function readContinuousQueries(http: InfluxHttp, db: string): Promise<Map<string, string>> {
  const { series } = await http.run('SHOW CONTINUOUS QUERIES', { db });
  const mine = series.find((s) => s.name === db);
  return new Map((mine?.values ?? []).map((row) => [String(row[0]), String(row[1])]));
}

/** InfluxDB re-prints a continuous query with identifiers quoted only where needed. */
function sameQuery(a: string, b: string): boolean {
  return a.replace(/"/g, '') === b.replace(/"/g, '');
}

/** The oldest raw reading's time (epoch ms), or null when the policy holds none. */
async function oldestReading(http: InfluxHttp, db: string, rawPolicy: string): Promise<number | null> {
  const [result] = await http.query([`SELECT * FROM ${ident(rawPolicy)}./.*/ ORDER BY time ASC LIMIT 1`], { db });
  let oldest: number | null = null;
  for (const s of result?.series ?? []) {
    const ts = Number(s.values[0]?.[0]);
    if (Number.isFinite(ts) && (oldest === null || ts < oldest)) oldest = ts;
  }
  return oldest;
}

function rawWindow(influx: InfluxConfig, lifecycle: StoreLifecycleConfig, notes: string[]): number {
  if (influx.retention.duration !== undefined) {
    notes.push(
      `raw readings: store.influxdb.retention.duration (${influx.retention.duration}) is set and wins over ` +
        'store.lifecycle.retention.raw',
    );
    return durationMs(influx.retention.duration);
  }
  const perKind = Object.entries(lifecycle.retention.raw);
  const forever = perKind.filter(([, ms]) => ms === 0).map(([k]) => k);
  const longest = forever.length > 0 ? 0 : Math.max(0, ...perKind.map(([, ms]) => ms));
  const longer = perKind.filter(([, ms]) => ms !== longest).map(([k, ms]) => `${k} (${influxDuration(ms)})`);
  if (longer.length > 0) {
    notes.push(
      'raw readings: InfluxDB 1.x keeps one duration per retention policy and every kind is written to one ' +
        `policy, so all kinds are kept ${influxDuration(longest)}, the longest configured; kept longer than ` +
        `configured: ${longer.join(', ')}`,
    );
  }
  return longest;
}

/** Compares the server with the configuration; changes nothing. */
export async function planRollupSetup(
  http: InfluxHttp,
  influx: InfluxConfig,
  lifecycle: StoreLifecycleConfig,
  now: number,
): Promise<SetupPlan> {
  const db = influx.database;
  const notes: string[] = [];
  const actions: SetupAction[] = [];
  let policies = await readPolicies(http, db);
  const exists = policies !== null;
  if (policies === null) {
    actions.push({ summary: `create database ${db}`, statements: [`CREATE DATABASE ${ident(db)}`] });
    policies = [{ name: 'autogen', durationMs: 0, isDefault: true }];
  }
  const rawPolicy = influx.retentionPolicy ?? policies.find((p) => p.isDefault)?.name;
  if (!rawPolicy)
    throw new Error(`database "${db}" has no default retention policy: set store.influxdb.retentionPolicy`);
  const want = (name: string, ms: number): void => {
    const found = policies.find((p) => p.name === name);
    const duration = influxDuration(ms);
    if (!found)
      actions.push({
        summary: `create retention policy ${name} (${duration})`,
        statements: [`CREATE RETENTION POLICY ${ident(name)} ON ${ident(db)} DURATION ${duration} REPLICATION 1`],
      });
    else if (found.durationMs !== durationMs(duration)) {
      actions.push({
        summary: `change retention policy ${name} from ${influxDuration(found.durationMs)} to ${duration}`,
        statements: [`ALTER RETENTION POLICY ${ident(name)} ON ${ident(db)} DURATION ${duration}`],
      });
    } else notes.push(`retention policy ${name} (${duration}): as configured`);
  };
  const rawMs = rawWindow(influx, lifecycle, notes);
  want(rawPolicy, rawMs);
  want('ioc_rollup_1m', lifecycle.retention.rollup1m);
  want('ioc_rollup_1h', lifecycle.retention.rollup1h);

  const queries = exists ? await readContinuousQueries(http, db) : new Map<string, string>();
  const oldest = exists ? await oldestReading(http, db, rawPolicy) : null;
  for (const name of ROLLUP_NAMES) {
    const text = rollupQuery(db, rawPolicy, name);
    const existing = queries.get(name);
    if (existing !== undefined && sameQuery(existing, text)) {
      notes.push(`continuous query ${name}: as configured`);
      continue;
    }
    const drop = existing !== undefined ? [`DROP CONTINUOUS QUERY ${ident(name)} ON ${ident(db)}`] : [];
    // a new roll-up starts with the readings already stored, one day per statement (bounded work each);
    // the query itself is created last, so a run stopped half-way finds it missing and fills again
    const grain = ROLLUP_GRAINS[name].ms;
    const keep = name === 'ioc_rollup_1m' ? lifecycle.retention.rollup1m : lifecycle.retention.rollup1h;
    const to = now - (now % grain);
    const from = oldest === null ? to : Math.max(oldest - (oldest % grain), keep === 0 ? -Infinity : to - keep);
    const backfill: string[] = [];
    for (let start = from - (from % DAY_MS); start < to; start += DAY_MS) {
      backfill.push(rollupBackfill(db, rawPolicy, name, Math.max(start, from), Math.min(start + DAY_MS, to)));
    }
    const days = backfill.length > 0 ? `, filled from the ${backfill.length} day(s) of readings already stored` : '';
    actions.push({
      summary: `${existing !== undefined ? 'replace' : 'create'} continuous query ${name}${days}`,
      statements: [...drop, ...backfill, text],
    });
  }
  return { database: db, rawPolicy, actions, notes };
}

/** Runs the plan's statements in order; the first refusal stops it (re-running plans again from there). */
export async function applyRollupSetup(
  http: InfluxHttp,
  plan: SetupPlan,
  onAction: (action: SetupAction) => void = () => {},
): Promise<void> {
  for (const action of plan.actions) {
    for (const statement of action.statements) await http.run(statement, { db: plan.database });
    onAction(action);
  }
}
