import type { InfluxConfig } from '../../config/platform-config.ts';
import type { InfluxHttp } from './influx-http.ts';
import { ident } from './influxql.ts';

/**
 * Retention and downsampling on InfluxDB 1.x, set up at start from `store.influxdb.retention`:
 * - `duration`: the retention policy the platform writes to (`retentionPolicy`, or the database's default)
 *   is created or altered to it;
 * - `downsample: { every, keep }`: a retention policy `downsampled_<every>` kept for `keep`, and a
 *   continuous query that writes mean, min and max of every numeric field per `every` into it.
 * 2.x and 3.x have no retention policies or continuous queries: docs/influxdb.md says what to do there.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** An InfluxQL duration (90d, 12h, INF) in ms; INF is 0, as InfluxDB reports an infinite policy. */
export function durationMs(duration: string): number {
  if (duration === 'INF') return 0;
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(duration);
  if (!match) throw new Error(`not an InfluxQL duration: ${duration}`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** A Go duration as SHOW RETENTION POLICIES prints it (2160h0m0s, 0s) in ms. */
export function goDurationMs(text: string): number {
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|µs|us|ns)/g)) {
    const scale: Record<string, number> = {
      h: 3_600_000,
      m: 60_000,
      s: 1000,
      ms: 1,
      µs: 0.001,
      us: 0.001,
      ns: 0.000001,
    };
    total += Number(n) * (scale[unit!] ?? 0);
  }
  return Math.round(total);
}

interface Policy {
  name: string;
  durationMs: number;
  isDefault: boolean;
}

async function policies(http: InfluxHttp, db: string): Promise<Policy[]> {
  const { series } = await http.run(`SHOW RETENTION POLICIES ON ${ident(db)}`, { db });
  const rows = series[0];
  if (!rows) return [];
  const col = (name: string) => rows.columns.indexOf(name);
  return rows.values.map((row) => ({
    name: String(row[col('name')]),
    durationMs: goDurationMs(String(row[col('duration')])),
    isDefault: row[col('default')] === true,
  }));
}

interface Logger {
  info(obj: object, msg?: string): void;
}

/** Creates the policy, or alters its duration when it differs; `duration` undefined leaves an existing one alone. */
async function ensurePolicy(
  http: InfluxHttp,
  db: string,
  existing: Policy[],
  name: string,
  duration: string | undefined,
  logger: Logger,
): Promise<void> {
  const found = existing.find((p) => p.name === name);
  if (!found) {
    await http.run(
      `CREATE RETENTION POLICY ${ident(name)} ON ${ident(db)} DURATION ${duration ?? 'INF'} REPLICATION 1`,
      { db },
    );
    logger.info(
      { database: db, retentionPolicy: name, duration: duration ?? 'INF' },
      'created the InfluxDB retention policy',
    );
  } else if (duration !== undefined && found.durationMs !== durationMs(duration)) {
    await http.run(`ALTER RETENTION POLICY ${ident(name)} ON ${ident(db)} DURATION ${duration}`, { db });
    logger.info(
      { database: db, retentionPolicy: name, duration },
      'changed the duration of the InfluxDB retention policy',
    );
  }
}

export function downsamplePolicyName(every: string): string {
  return `downsampled_${every}`;
}

export function downsampleQueryName(every: string): string {
  return `ioc_downsample_${every}`;
}

/** The continuous query; a changed configuration replaces the one InfluxDB has. */
export function downsampleQuery(db: string, sourcePolicy: string, every: string): string {
  const into = `${ident(db)}.${ident(downsamplePolicyName(every))}.:MEASUREMENT`;
  const from = `${ident(db)}.${ident(sourcePolicy)}./.*/`;
  return (
    `CREATE CONTINUOUS QUERY ${ident(downsampleQueryName(every))} ON ${ident(db)} BEGIN ` +
    `SELECT mean(*), min(*), max(*) INTO ${into} FROM ${from} GROUP BY time(${every}), * END`
  );
}

/** InfluxDB keeps a continuous query re-printed, with identifiers quoted only where needed. */
function unquoted(text: string): string {
  return text.replace(/"/g, '');
}

async function ensureContinuousQuery(
  http: InfluxHttp,
  db: string,
  name: string,
  text: string,
  logger: Logger,
): Promise<void> {
  const { series } = await http.run('SHOW CONTINUOUS QUERIES', { db });
  const mine = series.find((s) => s.name === db);
  const row = mine?.values.find((r) => r[0] === name);
  if (row && unquoted(String(row[1])) === unquoted(text)) return;
  if (row) await http.run(`DROP CONTINUOUS QUERY ${ident(name)} ON ${ident(db)}`, { db });
  await http.run(text, { db });
  logger.info(
    { database: db, continuousQuery: name },
    row ? 'replaced the InfluxDB continuous query' : 'created the InfluxDB continuous query',
  );
}

export async function ensureRetention(http: InfluxHttp, config: InfluxConfig, logger: Logger): Promise<void> {
  const db = config.database;
  const existing = await policies(http, db);
  const target = config.retentionPolicy ?? existing.find((p) => p.isDefault)?.name;
  if (!target) throw new Error(`database "${db}" has no default retention policy: set store.influxdb.retentionPolicy`);
  await ensurePolicy(http, db, existing, target, config.retention.duration, logger);
  const downsample = config.retention.downsample;
  if (downsample) {
    await ensurePolicy(http, db, existing, downsamplePolicyName(downsample.every), downsample.keep, logger);
    await ensureContinuousQuery(
      http,
      db,
      downsampleQueryName(downsample.every),
      downsampleQuery(db, target, downsample.every),
      logger,
    );
  }
}
