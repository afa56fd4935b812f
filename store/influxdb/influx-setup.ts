import { ConfigError } from '../../config/config-error.ts';
import type { InfluxConfig } from '../../config/platform-config.ts';
import { InfluxRequestError, type InfluxHttp, authHeaders } from './influx-http.ts';
import { ident } from './influxql.ts';
import { ensureRetention } from './influx-retention.ts';
import { writePath } from './influx-writer.ts';

/**
 * What the platform checks when it opens the InfluxDB store: credentials, database (created when allowed),
 * retention and downsampling (1.x), and whether the server answers InfluxQL reads at all.
 */

/** A problem the operator must fix before the platform can use InfluxDB; printed as a message, not a stack. */
export class InfluxStartupError extends ConfigError {
  constructor(message: string) {
    super(message);
    this.name = 'InfluxStartupError';
  }
}

export interface SetupLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ServerFacts {
  /** X-Influxdb-Version, when the server sends one */
  version: string | null;
  /** the server answers InfluxQL on /query (VictoriaMetrics, for one, only takes writes) */
  readsAvailable: boolean;
}

function authFailure(config: InfluxConfig, status: number | undefined, reason: string): InfluxStartupError {
  const refused = `InfluxDB at ${config.url} refused the platform's credentials (${status ?? 401}: ${reason})`;
  if (config.token)
    return new InfluxStartupError(
      `${refused}: check the token in store.influxdb.token (IOC_INFLUX_TOKEN) and its permissions.`,
    );
  if (config.username !== undefined) {
    return new InfluxStartupError(
      `${refused}: check the password of user "${config.username}" and its rights on database ` +
        `"${config.database}" (store.influxdb.username / password, IOC_INFLUX_USERNAME / IOC_INFLUX_PASSWORD).`,
    );
  }
  return new InfluxStartupError(
    `InfluxDB at ${config.url} requires authentication and the platform has no credentials (${reason}): set ` +
      'store.influxdb.username and password (IOC_INFLUX_USERNAME, ' +
      'IOC_INFLUX_PASSWORD) or a token (IOC_INFLUX_TOKEN).',
  );
}

interface ReadProbe {
  available: boolean;
  /** the statement error of the probe, e.g. "database not found" */
  error?: string;
}

/** Whether /query speaks InfluxQL: a real server answers a SELECT with results or a statement error. */
async function probeReads(http: InfluxHttp, config: InfluxConfig): Promise<ReadProbe> {
  try {
    const [result] = await http.query([`SELECT * FROM ${ident('ioc_probe')} LIMIT 1`]);
    // VictoriaMetrics answers every /query with its list of databases, whatever the statement
    return { available: !result?.series.some((s) => s.name === 'databases'), error: result?.error };
  } catch (err) {
    if (err instanceof InfluxRequestError && err.failure === 'auth') throw authFailure(config, err.status, err.reason);
    // down, slow or failing for now: the checks run again later; only a refusal (404, 405...) is an answer
    if (err instanceof InfluxRequestError && ['unreachable', 'timeout', 'server'].includes(err.failure)) throw err;
    return { available: false };
  }
}

async function ensureDatabase(http: InfluxHttp, config: InfluxConfig, logger: SetupLogger): Promise<void> {
  let listed: Awaited<ReturnType<InfluxHttp['run']>>;
  try {
    listed = await http.run('SHOW DATABASES', { db: '' });
  } catch (err) {
    if (!(err instanceof InfluxRequestError) || err.failure !== 'rejected') throw err;
    // a server that cannot list databases (some 3.x releases) creates the database on the first write
    logger.warn(
      { url: config.url, err: err.message },
      'cannot list InfluxDB databases: not checking that the database exists',
    );
    return;
  }
  const names = new Set(listed.series.flatMap((s) => s.values.map((row) => String(row[0]))));
  if (names.has(config.database)) return;
  if (!config.createDatabase) {
    throw new InfluxStartupError(
      `InfluxDB at ${config.url} has no database "${config.database}": create it (CREATE ` +
        `DATABASE ${ident(config.database)}) or set store.influxdb.createDatabase: true.`,
    );
  }
  try {
    await http.run(`CREATE DATABASE ${ident(config.database)}`, { db: '' });
  } catch (err) {
    throw new InfluxStartupError(
      `InfluxDB at ${config.url} has no database "${config.database}" and the platform may not create it ` +
        `(${(err as Error).message}): create it as an admin, or give the user admin rights.`,
    );
  }
  logger.info({ url: config.url, database: config.database }, 'created the InfluxDB database');
}

/**
 * An empty v2 write checks the token and the bucket without writing anything: InfluxDB 2.x answers 401
 * or 404 ("bucket not found") when they are wrong.
 */
async function probeV2Write(config: InfluxConfig): Promise<void> {
  const params = new URLSearchParams({ org: config.org ?? '', bucket: config.bucket ?? '', precision: 'ms' });
  const url = `${config.url.replace(/\/+$/, '')}/api/v2/write?${params}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body: '',
      headers: authHeaders(config),
      signal: AbortSignal.timeout(config.timeoutMs),
    });
  } catch (err) {
    throw new InfluxRequestError(
      'unreachable',
      `InfluxDB at ${config.url} is not reachable (${(err as Error).message})`,
    );
  }
  const body = await res.text().catch(() => '');
  if (res.status === 401 || res.status === 403) {
    throw authFailure(config, res.status, body.slice(0, 300));
  }
  if (res.status === 404 && /bucket|org/i.test(body)) {
    throw new InfluxStartupError(
      `InfluxDB at ${config.url} has no bucket "${config.bucket}" in org "${config.org}": create it (influx ` +
        `bucket create -n ${config.bucket} -o ${config.org}) or fix ` +
        `store.influxdb.org / bucket. Server said: ${body.slice(0, 300)}`,
    );
  }
}

/**
 * Runs every start-up check; throws InfluxStartupError for what the operator must fix, InfluxRequestError when down.
 */
export async function prepareInflux(http: InfluxHttp, config: InfluxConfig, logger: SetupLogger): Promise<ServerFacts> {
  const version = await http.ping();
  const v2 = writePath(config) === 'v2';
  if (v2) await probeV2Write(config);
  const probe = await probeReads(http, config);
  const readsAvailable = probe.available;
  if (readsAvailable && !v2) await ensureDatabase(http, config, logger);
  if (readsAvailable && v2 && probe.error) {
    logger.warn(
      { url: config.url, database: config.database, err: probe.error },
      `InfluxDB cannot read database "${config.database}" over /query: map it to bucket "${config.bucket}" ` +
        '(influx v1 dbrp create, see docs/influxdb.md)',
    );
  }
  const retention =
    config.retentionPolicy !== undefined ||
    config.retention.duration !== undefined ||
    config.retention.downsample !== undefined;
  if (retention && readsAvailable && !v2 && /^v?1\./.test(version ?? '')) {
    await ensureRetention(http, config, logger);
  } else if (config.retention.duration !== undefined || config.retention.downsample !== undefined) {
    logger.warn(
      { url: config.url, version },
      'store.influxdb.retention applies to InfluxDB 1.x: on 2.x set the bucket retention, on 3.x the database ' +
        'retention, and downsample with a task (see docs/influxdb.md)',
    );
  }
  if (!readsAvailable) {
    logger.warn(
      { url: config.url },
      `InfluxDB at ${config.url} does not answer InfluxQL on /query: ` +
        'readings are written, but the API cannot read them back from it',
    );
  }
  return { version, readsAvailable };
}
