import { parseArgs } from 'node:util';
import { loadPlatformConfig, type PlatformConfig } from '../../config/platform-config.ts';
import { InfluxHttp } from '../../store/influxdb/influx-http.ts';
import { applyRollupSetup, planRollupSetup } from '../../store/influxdb/influx-rollup-setup.ts';
import type { CliCommand, CliIo } from '../cli-command.ts';

/**
 * `ioc store setup-retention [--dry-run]`: the data lifecycle of store.lifecycle (raw readings per kind,
 * 1-minute and 1-hour roll-ups) set up on InfluxDB 1.x as retention policies and continuous queries
 * (docs/influxdb.md, docs/operations.md). The embedded store applies the same settings itself.
 */
const USAGE = `usage: ioc store setup-retention [--dry-run] [--config FILE]
Creates or changes, on the InfluxDB of store.influxdb, the retention policies and continuous queries that
keep raw readings and the 1-minute and 1-hour roll-ups (count/sum/mean/min/max per field) as long as
store.lifecycle.retention says. A new roll-up is first filled from the readings already stored.
Prints each change; a second run finds nothing to change. --dry-run prints what it would do and changes nothing.`;

/** Statements of a backfill run one day each; a day of a large fleet takes longer than a live query. */
const SETUP_TIMEOUT_MS = 120_000;

export async function setupRetention(
  config: PlatformConfig,
  options: { dryRun: boolean; now: number },
  io: CliIo,
): Promise<number> {
  const influx = config.store.influxdb;
  if (config.store.engine !== 'influxdb' || !influx) {
    io.err(
      'store.engine is "embedded": the embedded store applies store.lifecycle itself (nothing to set up). ' +
        'This command is for store.engine: influxdb.',
    );
    return 2;
  }
  if (influx.token && influx.org && influx.bucket) {
    io.err(
      'InfluxDB 2.x/3.x have no retention policies or continuous queries: set the bucket retention and a ' +
        'downsampling task (docs/influxdb.md).',
    );
    return 2;
  }
  const http = new InfluxHttp({ ...influx, timeoutMs: SETUP_TIMEOUT_MS });
  const plan = await planRollupSetup(http, influx, config.store.lifecycle, options.now);
  io.out(`InfluxDB ${http.url}, database ${plan.database}, raw readings in retention policy ${plan.rawPolicy}`);
  for (const note of plan.notes) io.out(`  ok    ${note}`);
  if (plan.actions.length === 0) {
    io.out('nothing to change');
    return 0;
  }
  if (options.dryRun) {
    for (const action of plan.actions) {
      io.out(`  would ${action.summary}`);
      for (const statement of action.statements) io.out(`        ${statement}`);
    }
    io.out(`dry run: ${plan.actions.length} change(s) not made`);
    return 0;
  }
  await applyRollupSetup(http, plan, (action) => io.out(`  done  ${action.summary}`));
  io.out(`${plan.actions.length} change(s) made`);
  return 0;
}

export const storeCommand: CliCommand = {
  name: 'store',
  summary: 'set up retention and roll-ups on InfluxDB (setup-retention)',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { 'dry-run': { type: 'boolean' }, config: { type: 'string' }, help: { type: 'boolean' } },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (positionals.length !== 1 || positionals[0] !== 'setup-retention') {
      io.err(USAGE);
      return 2;
    }
    const config = loadPlatformConfig({
      env: { ...process.env, ...(values.config ? { IOC_CONFIG: values.config } : {}) },
    });
    return setupRetention(config, { dryRun: values['dry-run'] === true, now: Date.now() }, io);
  },
};
